/* The repository on the central server: static files any web server (or a
 * USB stick) can carry.  `mynaguard-admin publish --repo DIR BUNDLE` writes
 *
 *   DIR/GROUP/bundles/<version>-<first 16 hex of BLAKE2b-512>.bundle
 *        immutable: written once, never changed, so caches and mirrors
 *        can keep them forever
 *   DIR/GROUP/current
 *        the pointer: which bundle the group should run, e.g.
 *        {"format":1,"version":42,"path":"bundles/42-0f3c….bundle",
 *         "size":18311,"blake2b":"<128 hex>"}
 *
 * A terminal polls only the pointer (a conditional GET, usually a 304) and
 * fetches a bundle only when the pointer names one it does not run.  The
 * pointer is not signed: the bundle carries the signatures, so a lying
 * pointer can only name another signed bundle, which the terminal's
 * version floor, expiry and target checks judge like any other.  Size and
 * hash let the terminal stop a transfer at the promised length and refuse a
 * file swapped under the pointer.  Full format: docs/central-server.md. */
#ifndef MYNAGUARD_REPO_H
#define MYNAGUARD_REPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#define MG_POINTER_FORMAT 1
#define MG_POINTER_NAME "current"
#define MG_POINTER_MAX 1024                   /* bytes; a pointer is ~250 */
#define MG_REPO_HASH_BYTES crypto_generichash_BYTES_MAX   /* BLAKE2b-512 */
#define MG_REPO_PATH_MAX 64                   /* "bundles/" + 20 + "-" + 16 + ".bundle" */

/* The pointer DIR/GROUP/current. */
struct mg_pointer {
	uint64_t version;                     /* policy version of the bundle it names */
	char path[MG_REPO_PATH_MAX];          /* "bundles/<version>-<hash16>.bundle",
	                                         relative to DIR/GROUP/ */
	uint64_t size;                        /* exact length of that file in bytes */
	uint8_t blake2b[MG_REPO_HASH_BYTES];  /* BLAKE2b-512 of that file */
};

/* Fills p for a bundle of len bytes (version from its signed header). */
void mg_pointer_for(struct mg_pointer *p, uint64_t version, const void *bundle, size_t len);

/* Parses exactly len bytes, strictly: every key required, no other key,
 * path in the one form above and agreeing with version and hash. */
int mg_pointer_parse(const void *buf, size_t len, const char *origin, struct mg_pointer *out);

/* Serialises p as one line of JSON with a final newline (malloc'd). */
int mg_pointer_format(const struct mg_pointer *p, char **out, size_t *len);

/* 0 when len bytes match p's size and hash; -EBADMSG naming origin
 * otherwise ("truncated", "longer than", "hash differs"). */
int mg_pointer_check(const struct mg_pointer *p, const void *buf, size_t len, const char *origin);

/* Writes the bundle (if not there yet) and then the pointer of group in
 * repository dir, each atomically (mg_file_replace), under an flock on
 * DIR/GROUP/.publish.lock so that publishers take turns.  The pointer's
 * modification time is always a later second than the one it replaces, so
 * a web server whose ETag is mtime+size (nginx) never gives two pointers
 * the same ETag.  Fills *out with the new pointer. */
int mg_repo_publish(const char *dir, const char *group, uint64_t version, const void *bundle,
                    size_t len, struct mg_pointer *out);

#endif
