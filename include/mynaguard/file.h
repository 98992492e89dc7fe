/* Files on privileged paths.
 *
 * Every state write in mynaguard goes through mg_file_replace: a temp file
 * in the same directory created O_EXCL|O_NOFOLLOW with the final mode, the
 * data written, fsync, rename over the target, fsync of the directory.  A
 * reader therefore sees the old content or the new, never a mix, whatever
 * is killed when.  A failed fsync removes the temp file and fails: after an
 * fsync error the page cache can no longer be trusted, so it is not retried.
 *
 * Reads are capped and refuse a symbolic link as the last component, so a
 * user who can plant a link cannot make root read or grow a file of their
 * choosing. */
#ifndef MYNAGUARD_FILE_H
#define MYNAGUARD_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Leftover temp files are named ".NAME.tmp-XXXXXXXX". */
#define MG_TEMP_MARK ".tmp-"

/* Opens a directory O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC.  Returns the fd. */
int mg_dir_open(const char *path);

/* Creates path (and missing parents) with mode for the directories it
 * creates, syncing the parent of each so that a crash cannot take a new
 * directory (and what is then written into it) back.  An existing path
 * must be a directory, not a link to one. */
int mg_dir_ensure(const char *path, mode_t mode);

/* Atomically replaces dirfd/name.  dir names the directory in messages. */
int mg_file_replace_at(int dirfd, const char *dir, const char *name,
                       const void *data, size_t len, mode_t mode);
int mg_file_replace(const char *path, const void *data, size_t len, mode_t mode);

/* The same without the fsync of the directory: the file is whole, old or
 * new, but after a crash the old one may be back.  Only for files whose
 * old content is still correct, such as the journal's audit.head, which
 * is a lower bound. */
int mg_file_replace_at_unsynced_dir(int dirfd, const char *dir, const char *name,
                                    const void *data, size_t len, mode_t mode);

/* Reads a whole regular file of at most max bytes into a NUL-terminated
 * buffer (the NUL is not counted in *len).  -EFBIG when larger, -ELOOP for
 * a link, -ENOENT when missing (message set in every case). */
int mg_file_read_at(int dirfd, const char *dir, const char *name, size_t max,
                    uint8_t **data, size_t *len);
int mg_file_read(const char *path, size_t max, uint8_t **data, size_t *len);

/* Takes an flock on dirfd/name (created 0600 if missing), waiting at most
 * timeout_ms.  Returns the fd holding the lock; close it to release.  A lock
 * dies with its holder, so a killed process never leaves a stale lock. */
int mg_file_lock_at(int dirfd, const char *dir, const char *name, bool exclusive,
                    int timeout_ms);

/* Removes temp files left in dirfd by writers killed mid-replace.  Returns
 * how many were removed. */
int mg_file_sweep_temps(int dirfd);

/* Joins dir and name into a new string (NULL on ENOMEM). */
char *mg_path_join(const char *dir, const char *name);

#endif
