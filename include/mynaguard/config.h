/* The terminal's local configuration, /etc/mynaguard/mynaguard.conf: what a
 * terminal must know before it has any policy.  "key = value" lines, '#'
 * comments; errors name FILE:LINE.  A missing file means the defaults.
 * Everything else is policy and arrives signed. */
#ifndef MYNAGUARD_CONFIG_H
#define MYNAGUARD_CONFIG_H

struct mg_config {
	char *terminal_id;   /* terminal_id: sent to the repository; default: host name */
	char *group;         /* group: the target group this terminal takes bundles for;
	                        no default (NULL): no bundle is taken until it is set */
	char *repository;    /* repository: base URL (https://, http:// or file://), or NULL */
	char *ca_file;       /* ca_file: CA bundle for https, or NULL for the system's */
	char *pinned_key;    /* pinned_public_key: curl's "sha256//BASE64" pin, or NULL */
	char *runtime_dir;   /* runtime_dir: agent socket directory; default /run/mynaguard */
	char *udev_rules;    /* udev_rules: generated rules file;
	                        default /etc/udev/rules.d/70-mynaguard.rules */
};

/* Fills cfg with the defaults, then the file at path (if it exists).  On
 * failure cfg holds nothing (every field NULL) and the message names
 * FILE:LINE and the key. */
int mg_config_load(const char *path, struct mg_config *cfg);

void mg_config_free(struct mg_config *cfg);

#endif
