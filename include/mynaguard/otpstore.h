/* The OTP store: one state file per user, owned and read only by root.
 *
 *   STORE/USER          the user's token and counters (JSON, below), 0600
 *   STORE/.lock-USER    flock held for every read-verify-write of USER
 *   STORE/.USER.tmp-*   a write in progress (mg_file_replace); swept
 *   HOSTKEY             32 random bytes, 0600: the key the secrets are sealed with
 *
 * A state file:
 *   {"format":"mynaguard-otp 1","user":"alice","algorithm":"SHA1","digits":6,
 *    "period":30,"secret":"<base64: nonce[24] || XChaCha20-Poly1305(seed)>",
 *    "active":true,"enrolled":1780000000,"last_step":59333333,"drift":0,
 *    "failures":0,"last_failure":0,"locked_at":0,"last_success":1780000000,
 *    "recovery":["$argon2id$v=19$...", ...]}
 *
 * The seed is sealed under the host key with the associated data
 * "mynaguard-otp 1" 0 USER 0 ALGORITHM 0 DIGITS 0 PERIOD, so a file copied
 * to another user's name, or with its parameters edited, does not open.
 * Every read-verify-write of one user happens under that user's flock: a
 * code of a step at or below last_step (the replay floor) is never
 * accepted, and the floor is on disk (fsync) before success is returned.
 * One user's lock never delays another user.  A lock dies with its holder,
 * and leftover temp files are swept, so a killed login blocks nobody.
 * Anything unexpected (a link, a file not owned by root or open to group
 * or others, a damaged file, a missing host key) fails closed. */
#ifndef MYNAGUARD_OTPSTORE_H
#define MYNAGUARD_OTPSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mynaguard/otp.h"
#include "mynaguard/policy.h"

#define MG_OTP_FORMAT "mynaguard-otp 1"
#define MG_OTP_USER_MAX 64                /* [A-Za-z0-9_@][A-Za-z0-9._@-]{0,63} */
#define MG_OTP_RECOVERY_MAX 20            /* recovery codes held at once */
#define MG_OTP_HASH_MAX 128               /* crypto_pwhash_STRBYTES */
#define MG_OTP_HOSTKEY_BYTES 32           /* crypto_aead_xchacha20poly1305_ietf_KEYBYTES */
#define MG_OTP_STATE_MAX (16u << 10)      /* largest state file read */
#define MG_OTP_LOCK_TIMEOUT_MS 30000      /* longest wait for a user's lock (then: denied) */
#define MG_OTP_RECOVERY_LEN 16            /* base32 characters of a recovery code (80 bits) */
#define MG_OTP_PATH_MAX 1024              /* longest path in the helper's configuration */
#define MG_OTP_PATHS_FILE_MAX 8192        /* largest helper configuration read */

/* One user's token and counters: the content of STORE/USER, opened. */
struct mg_otp_state {
	char user[MG_OTP_USER_MAX + 1];   /* the login name; also the file name */
	struct mg_otp_params params;      /* how codes are made */
	uint8_t secret[MG_OTP_SECRET_MAX]; /* the seed, in clear: wipe with mg_otp_state_wipe */
	size_t secret_len;                /* bytes in secret */
	bool active;                      /* false until one correct code confirmed enrollment */
	int64_t enrolled;                 /* when the seed was made or imported */
	uint64_t last_step;               /* replay floor: step of the last accepted code (0: none) */
	int64_t drift;                    /* steps the token's clock is ahead (set by resync only) */
	uint64_t failures;                /* failed attempts since the last success or unlock */
	int64_t last_failure;             /* time of the last failed attempt (0: none) */
	int64_t locked_at;                /* when failures reached max_failures (0: not locked) */
	int64_t last_success;             /* time of the last accepted code (0: never) */
	size_t nrecovery;                 /* recovery codes left */
	char recovery[MG_OTP_RECOVERY_MAX][MG_OTP_HASH_MAX]; /* crypto_pwhash_str of each */
};

/* The outcome of one attempt. */
enum mg_otp_verdict {
	MG_OTP_ACCEPT,          /* a fresh code: accepted, the floor raised to its step */
	MG_OTP_ACCEPT_RECOVERY, /* a recovery code: accepted and used up */
	MG_OTP_REJECT,          /* a wrong code: a failure counted */
	MG_OTP_REPLAY,          /* a right code of a step at or below the floor: refused */
	MG_OTP_LOCKED,          /* too many failures: refused unchecked, a failure counted */
	MG_OTP_NOT_ENROLLED,    /* no state file, or enrollment not yet confirmed */
};

struct mg_otp_result {
	enum mg_otp_verdict verdict;
	uint64_t step;          /* the step accepted or replayed (ACCEPT, REPLAY) */
	uint64_t failures;      /* failures after this attempt */
	int64_t lock_remaining; /* LOCKED: seconds left, or -1 until an administrator unlocks */
	unsigned delay;         /* seconds the caller waits before answering a failure */
	size_t recovery_left;   /* recovery codes left */
	size_t prefix_len;      /* trailing mode: bytes of input before the code */
};

/* Where the setuid helper mynaguard-otp-check finds things.  Its
 * configuration file has "KEY = VALUE" lines for these four keys and '#'
 * comments; values are absolute paths. */
struct mg_otp_paths {
	char store[MG_OTP_PATH_MAX];     /* "store": the OTP store */
	char hostkey[MG_OTP_PATH_MAX];   /* "hostkey": the host key */
	char statedir[MG_OTP_PATH_MAX];  /* "statedir": policy in force and audit journal */
	char config[MG_OTP_PATH_MAX];    /* "config": the terminal configuration */
};

struct mg_otpstore;

/* Checks a login name for use as a file name. */
int mg_otp_user_check(const char *user);

/* Creates the store directory (0700) and the host key (0600, O_EXCL) if
 * they are missing.  *created says whether a new key was made. */
int mg_otpstore_init(const char *dir, const char *hostkey, bool *created);

/* Opens the store and reads the host key; both must be root's and closed
 * to group and others. */
int mg_otpstore_open(const char *dir, const char *hostkey, struct mg_otpstore **out);
void mg_otpstore_close(struct mg_otpstore *s);

/* Takes USER's lock (waiting at most MG_OTP_LOCK_TIMEOUT_MS); close the fd
 * to release it.  Everything below that reads and writes must hold it. */
int mg_otpstore_lock(struct mg_otpstore *s, const char *user);

/* Reads and opens USER's file; -ENOENT when there is none. */
int mg_otpstore_read(struct mg_otpstore *s, const char *user, struct mg_otp_state *st);

/* Writes st->user's file durably, sweeping that user's leftover temp files. */
int mg_otpstore_write(struct mg_otpstore *s, const struct mg_otp_state *st);

int mg_otpstore_remove(struct mg_otpstore *s, const char *user);

/* The users with a state file, sorted; free each and the array. */
int mg_otpstore_users(struct mg_otpstore *s, char ***users, size_t *n);

/* One login attempt: lock, read, mg_otp_state_check, write if anything
 * changed, unlock.  With trailing, input is a password followed by the
 * code (PAM's forward_pass): the token's digits say where the code starts,
 * and res->prefix_len where the password ends.  Returns 0 with a verdict,
 * or a negative errno (store unreadable, clock behind the floor, ...),
 * which callers treat as a denial. */
int mg_otpstore_verify(struct mg_otpstore *s, const char *user, const char *input,
                       bool trailing, const struct mg_otp_policy *pol, int64_t now,
                       struct mg_otp_result *res);

/* The decision, without files: checks code (a TOTP code, or a recovery
 * code of MG_OTP_RECOVERY_LEN base32 characters, dashes allowed) against
 * st at time now and updates st.  *changed says whether st must be written.
 * -ESTALE when the clock is behind the replay floor. */
int mg_otp_state_check(struct mg_otp_state *st, const char *code,
                       const struct mg_otp_policy *pol, int64_t now,
                       struct mg_otp_result *res, bool *changed);

/* Finds the step s within ±window steps of now where code1 is the code of s
 * and code2 the code of s+1; sets drift and raises the floor to s+1. */
int mg_otp_state_resync(struct mg_otp_state *st, const char *code1, const char *code2,
                        uint64_t window, int64_t now);

/* Confirms an enrollment: code must be a code of a step within ±window of
 * now; the token becomes active with that step as its floor.
 * -EKEYREJECTED when it is not. */
int mg_otp_state_activate(struct mg_otp_state *st, const char *code, uint64_t window,
                          int64_t now);

/* Replaces the recovery codes with n new ones; codes[i] receives each in
 * clear ("abcd-efgh-ijkl-mnop", MG_OTP_RECOVERY_LEN + 4 bytes) to show once. */
int mg_otp_state_new_recovery(struct mg_otp_state *st, size_t n,
                              char codes[][MG_OTP_RECOVERY_LEN + 4]);

/* Makes a fresh inactive state with a random seed of the algorithm's size. */
int mg_otp_state_generate(struct mg_otp_state *st, const char *user,
                          const struct mg_otp_params *params, int64_t now);

/* The state file format.  parse opens the seed with key; errors name
 * origin and the JSON path. */
int mg_otp_state_parse(const void *buf, size_t len, const char *origin, const char *user,
                       const uint8_t key[MG_OTP_HOSTKEY_BYTES], struct mg_otp_state *st);
int mg_otp_state_format(const struct mg_otp_state *st, const uint8_t key[MG_OTP_HOSTKEY_BYTES],
                        char **json, size_t *len);

/* Lockout status at time now: seconds left, -1 until unlocked, 0 when free. */
int64_t mg_otp_state_lock_remaining(const struct mg_otp_state *st,
                                    const struct mg_otp_policy *pol, int64_t now);

void mg_otp_state_wipe(struct mg_otp_state *st);

/* What the PAM module, the helper and mynaguardctl share around the store. */

/* The "otp" section of the policy in force in statedir (the built-in
 * defaults when no verified bundle is in force); config names the terminal's
 * configuration file, which gives its group. */
int mg_otp_policy_load(const char *statedir, const char *config, struct mg_otp_policy *out);

/* Records one attempt in statedir/audit (component "pam") and syslog:
 * event otp.accept, otp.recovery, otp.reject, otp.replay, otp.locked,
 * otp.not_enrolled, or otp.error when err < 0.  service names the PAM
 * service.  Never the code. */
int mg_otp_audit(const char *statedir, const char *user, const char *service,
                 const struct mg_otp_result *res, int err);

/* The built-in paths (STATEDIR/otp, SYSCONFDIR/otp.key, STATEDIR,
 * SYSCONFDIR/mynaguard.conf), then len bytes of configuration over them;
 * errors name origin and the line. */
void mg_otp_paths_defaults(struct mg_otp_paths *p);
int mg_otp_paths_parse(const char *buf, size_t len, const char *origin, struct mg_otp_paths *p);

/* The event name of a verdict ("otp.accept", ...). */
const char *mg_otp_verdict_event(enum mg_otp_verdict v);

#endif
