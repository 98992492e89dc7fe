/* Device rules: the "devices" section of the policy and the decision engine.
 *
 *   "devices": {
 *     "default": "block",                  allow | block | read-only
 *     "present_devices": "apply-policy",   apply-policy | keep | block
 *     "audit_only": false,                 decide and log, enforce nothing
 *     "composite_storage_hid": "block",    block | rules
 *     "new_keyboards": "hold",             hold | rules
 *     "media": {"sd": "block", "optical": "block", "removable": "block"},
 *     "rules": [
 *       {"id": "card-reader", "match": {"classes": {"one-of": ["smartcard"]}},
 *        "target": "allow"},
 *       {"id": "stick-0012", "match": {"vendor": "0781", "product": "55*",
 *        "serial": "4C530001"}, "target": "read-only"},
 *       {"id": "phones", "match": {"classes": {"one-of": ["mtp", "ptp"]}},
 *        "target": "block"}
 *     ]
 *   }
 *
 * Rules are tried in policy order and the first that matches decides; when
 * none does, "default" decides.  The engine keeps that meaning but finds
 * the answer through indexes: a rule that names an exact identity (hash,
 * serial, or vendor and product without wildcards) sits in a hash table
 * under it, and only the other rules (classes, ports, wildcards) are
 * scanned, and only those placed before the best indexed candidate.  So
 * 50,000 registered sticks cost what one does.
 *
 * The order of a decision:
 *   1. a ticket bound to the device (ticket.h)              rule "ticket:ID"
 *   2. the first matching rule (as above)                   rule ID
 *   3. "default"                                             rule "default"
 * then two guards may make it stricter, never looser:
 *   - composite_storage_hid "block": storage or network together with HID
 *     in one device is blocked whole, unless a ticket or an identity rule
 *     (hash or serial) allowed it                            rule "composite-storage-hid"
 *   - new_keyboards "hold": a device with a HID interface that only a class
 *     or default rule allowed is held (not authorized) until an operator
 *     approves it; devices present when the agent starts are exempt, since
 *     holding the keyboard in use would lock the operator out
 *                                                           rule "new-keyboard"
 * Full format with examples: docs/devices.md. */
#ifndef MYNAGUARD_RULES_H
#define MYNAGUARD_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "mynaguard/usbdev.h"

#define MG_RULE_ID_MAX 64         /* [A-Za-z0-9._-]{1,64} */
#define MG_RULES_MAX 100000       /* rules in one policy */
#define MG_CLASS_PATTERNS_MAX 8   /* triplet patterns behind one class name */

/* What is done with a device or interface. */
enum mg_target {
	MG_TARGET_BLOCK = 0,     /* not authorized: no driver binds */
	MG_TARGET_ALLOW,         /* authorized */
	MG_TARGET_READ_ONLY,     /* authorized; its block devices read-only, and only its
	                            storage interfaces authorized */
	MG_TARGET_HOLD,          /* a decision only: blocked until an operator approves */
};

/* What the agent does with devices present when it starts. */
enum mg_present_mode {
	MG_PRESENT_APPLY = 0,    /* "apply-policy": decide them like inserted ones */
	MG_PRESENT_KEEP,         /* "keep": leave them as they are, decide new ones */
	MG_PRESENT_BLOCK,        /* "block": block them all */
};

/* Block devices that are not decided through a USB device. */
enum mg_media {
	MG_MEDIA_SD = 0,         /* "sd": SD/MMC cards in a built-in reader (mmcblk, type SD) */
	MG_MEDIA_OPTICAL,        /* "optical": CD/DVD/BD drives (sr) and their sg nodes */
	MG_MEDIA_REMOVABLE,      /* "removable": any other block device with removable=1 */
	MG_MEDIA_COUNT,
};

/* One pattern over a class triplet. */
struct mg_class_pattern {
	uint8_t cls, sub, proto;  /* the values to compare */
	bool any_sub;             /* subclass not compared */
	bool any_proto;           /* protocol not compared */
	bool vendor_mtp;          /* also matches vendor-specific (ff) interfaces named "MTP" */
};

/* A class name ("mass-storage") or raw code ("08", "e0:01:01") with the
 * patterns it stands for; it matches a device when any pattern matches the
 * device triplet or any interface triplet. */
struct mg_class_term {
	char name[24];                                   /* as written in the policy */
	size_t n;                                        /* patterns used */
	struct mg_class_pattern pat[MG_CLASS_PATTERNS_MAX];
};

/* A list of class terms ("one-of": [...]). */
struct mg_class_list {
	size_t n;                     /* terms; 0 = the condition is absent */
	struct mg_class_term *terms;
};

/* A per-interface target of a rule ("interfaces": {"hid": "block"}). */
struct mg_iface_target {
	struct mg_class_term term;    /* the interfaces it applies to */
	enum mg_target target;        /* allow | block | read-only */
};

/* The class conditions and per-interface targets of a rule.  Most rules
 * name one registered device and have none, so they live apart. */
struct mg_rule_classes {
	struct mg_class_list one_of;  /* "classes": {"one-of": [...]}: at least one present */
	struct mg_class_list all_of;  /*   "all-of": every one present */
	struct mg_class_list none_of; /*   "none-of": none present */
	size_t n_ifaces;              /* "interfaces": per-interface targets, in order */
	struct mg_iface_target *ifaces;
};

/* One rule.  Every match field is optional; all given fields must match.
 * Kept small: a policy may register 100,000 devices. */
struct mg_rule {
	char *id;                     /* "id": unique in the policy */
	char *serial;                 /* "serial": exact, or NULL */
	char *port;                   /* "port": glob over the port path ("1-2*"), or NULL */
	uint8_t *hash;                /* "hash": MG_USB_HASH_BYTES, or NULL */
	uint8_t *parent_hash;         /* "parent_hash": MG_USB_HASH_BYTES, or NULL */
	struct mg_rule_classes *classes; /* "classes" and "interfaces", or NULL for neither */
	uint32_t position;            /* index in "rules": earlier wins */
	enum mg_target target;        /* "target": allow | block | read-only */
	enum mg_usb_connect connect;  /* "connect": hotplug | hardwired (UNKNOWN = any) */
	char vendor[5];               /* "vendor": 4 hex digits or a glob of them ("" = any) */
	char product[5];              /* "product": same */
};

struct mg_rules_index;

/* The "devices" section. */
struct mg_device_policy {
	enum mg_target default_target;      /* "default" (block) */
	enum mg_present_mode present;       /* "present_devices" (apply-policy) */
	bool audit_only;                    /* "audit_only" (false) */
	bool composite_block;               /* "composite_storage_hid" is "block" (true) */
	bool hold_new_hid;                  /* "new_keyboards" is "hold" (true) */
	enum mg_target media[MG_MEDIA_COUNT]; /* "media" (all block) */
	size_t n_rules;                     /* "rules" */
	struct mg_rule *rules;
	struct mg_rules_index *index;       /* built by the parser; NULL with no rules */
};

struct mg_ticket;

/* Flags of a decision request. */
#define MG_DECIDE_PRESENT 0x1u   /* the device was there when the agent started */

/* A decision, with what made it. */
struct mg_decision {
	enum mg_target target;                  /* for the device */
	char rule[MG_RULE_ID_MAX + 8];          /* rule id, "default", "ticket:ID",
	                                           "composite-storage-hid", "new-keyboard" */
	enum mg_target ifaces[MG_USB_MAX_INTERFACES]; /* per dev->interfaces[i] */
	char reason[192];                       /* one line for people */
};

/* Defaults (fail closed: block everything, no rules). */
void mg_device_policy_defaults(struct mg_device_policy *p);

/* Parses the section object into p (defaults already in place) and builds
 * the index; where is "FILE: $.devices".  Errors name the JSON path. */
int mg_device_policy_parse(const json_t *obj, const char *where, struct mg_device_policy *p);

void mg_device_policy_free(struct mg_device_policy *p);

/* Decides dev.  tickets are verified, unexpired tickets for this host
 * (ticket.h); n_tickets may be 0.  Never fails: what cannot be decided is
 * blocked. */
void mg_rules_decide(const struct mg_device_policy *p, const struct mg_usbdev *dev,
                     const struct mg_ticket *tickets, size_t n_tickets, unsigned flags,
                     struct mg_decision *out);

/* Does one rule match dev (all its match fields)? */
bool mg_rule_matches(const struct mg_rule *r, const struct mg_usbdev *dev);

/* Names of targets, present modes and media kinds as in the policy. */
const char *mg_target_name(enum mg_target t);
int mg_target_parse(const char *s, enum mg_target *out);

/* Looks up a class name or raw code ("hid", "08", "e0:01:01"). */
int mg_class_term_parse(const char *s, struct mg_class_term *out);
/* Does a term match one triplet (with the interface's MTP flag)? */
bool mg_class_term_matches(const struct mg_class_term *t, const struct mg_usb_class *c, bool mtp);

#endif
