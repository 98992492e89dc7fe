#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <liboath/oath.h>
#include <sodium.h>

#include "mynaguard/error.h"
#include "mynaguard/config.h"
#include "mynaguard/file.h"
#include "mynaguard/journal.h"
#include "mynaguard/json.h"
#include "mynaguard/otpstore.h"
#include "mynaguard/terminal.h"
#include "mynaguard/util.h"

_Static_assert(MG_OTP_HASH_MAX == crypto_pwhash_STRBYTES, "pwhash string size");
_Static_assert(MG_OTP_HOSTKEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key size");

#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SEALED_MAX (NONCE_BYTES + MG_OTP_SECRET_MAX + TAG_BYTES)
#define AD_MAX (sizeof(MG_OTP_FORMAT) + MG_OTP_USER_MAX + 32)

/* Recovery codes have 80 random bits, so a fast Argon2id setting is enough:
 * the hash only has to keep a stolen store from showing them. */
#define RECOVERY_OPSLIMIT 2
#define RECOVERY_MEMLIMIT (8u << 20)

struct mg_otpstore {
	int dirfd;                           /* the store directory */
	char *dir;                           /* its path, for messages */
	uint8_t key[MG_OTP_HOSTKEY_BYTES];   /* the host key: wiped at close */
};

int mg_otp_user_check(const char *user)
{
	size_t n = strlen(user);

	if (n == 0 || n > MG_OTP_USER_MAX)
		return mg_fail(EINVAL, "user '%.64s': expected 1..%d characters", user, MG_OTP_USER_MAX);
	if (user[0] == '.' || user[0] == '-')
		return mg_fail(EINVAL, "user '%s': must not start with '.' or '-'", user);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)user[i];
		if (!isascii(c) || !(isalnum(c) || strchr("._@-", c)))
			return mg_fail(EINVAL, "user '%s': only letters, digits and . _ @ - are allowed", user);
	}
	return 0;
}

/* Root's files only: a file someone else owns or may write could have
 * been planted or edited by them. */
static int check_private(const struct stat *st, const char *what, mode_t forbidden)
{
	if (st->st_uid != geteuid())
		return mg_fail(EPERM, "%s: owned by uid %u, expected %u", what,
		               (unsigned)st->st_uid, (unsigned)geteuid());
	if (st->st_mode & forbidden)
		return mg_fail(EPERM, "%s: mode %04o is open to group or others", what,
		               (unsigned)(st->st_mode & 07777));
	return 0;
}

/* Reads all of fd (at most max bytes) into buf. */
static int read_fd(int fd, const char *what, uint8_t *buf, size_t max, size_t *len)
{
	size_t have = 0;

	for (;;) {
		ssize_t n = read(fd, buf + have, max + 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mg_fail_errno(errno, "%s", what);
		if (n == 0)
			break;
		have += (size_t)n;
		if (have > max)
			return mg_fail(EFBIG, "%s: larger than %zu bytes", what, max);
	}
	*len = have;
	return 0;
}

static int hostkey_read(const char *path, uint8_t key[MG_OTP_HOSTKEY_BYTES])
{
	_cleanup_close_ int fd = -1;
	uint8_t buf[MG_OTP_HOSTKEY_BYTES + 1];
	struct stat st;
	size_t len;
	int r;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return mg_fail_errno(errno, "host key %s", path);
	if (fstat(fd, &st) < 0)
		return mg_fail_errno(errno, "host key %s", path);
	if (!S_ISREG(st.st_mode))
		return mg_fail(EINVAL, "host key %s: not a regular file", path);
	r = check_private(&st, path, 077);
	if (r == 0)
		r = read_fd(fd, path, buf, MG_OTP_HOSTKEY_BYTES, &len);
	if (r == 0 && len != MG_OTP_HOSTKEY_BYTES)
		r = mg_fail(EINVAL, "host key %s: %zu bytes, expected %d", path, len, MG_OTP_HOSTKEY_BYTES);
	if (r == 0)
		memcpy(key, buf, MG_OTP_HOSTKEY_BYTES);
	sodium_memzero(buf, sizeof(buf));
	return r;
}

static int hostkey_create(const char *path, bool *created)
{
	_cleanup_close_ int fd = -1;
	uint8_t key[MG_OTP_HOSTKEY_BYTES];
	ssize_t n;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return 0;
	if (fd < 0)
		return mg_fail_errno(errno, "host key %s", path);
	randombytes_buf(key, sizeof(key));
	n = write(fd, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	if (n != (ssize_t)sizeof(key) || fsync(fd) < 0) {
		int err = n < 0 ? errno : EIO;
		unlink(path);
		return mg_fail_errno(err, "host key %s: write", path);
	}
	*created = true;
	return 0;
}

int mg_otpstore_init(const char *dir, const char *hostkey, bool *created)
{
	_cleanup_free_ char *keydir = strdup(hostkey);
	char *slash;
	int r;

	*created = false;
	if (sodium_init() < 0)
		return mg_fail(EIO, "%s: libsodium cannot be initialised", dir);
	if (!keydir)
		return mg_fail(ENOMEM, "%s: out of memory", hostkey);
	slash = strrchr(keydir, '/');
	if (slash && slash != keydir) {
		*slash = '\0';
		r = mg_dir_ensure(keydir, 0755);
		if (r < 0)
			return r;
	}
	r = mg_dir_ensure(dir, 0700);
	if (r < 0)
		return r;
	return hostkey_create(hostkey, created);
}

int mg_otpstore_open(const char *dir, const char *hostkey, struct mg_otpstore **out)
{
	struct mg_otpstore *s;
	struct stat st;
	int r;

	/* The PAM module is loaded into programs that never heard of libsodium. */
	if (sodium_init() < 0)
		return mg_fail(EIO, "%s: libsodium cannot be initialised", dir);
	s = calloc(1, sizeof(*s));
	if (!s)
		return mg_fail(ENOMEM, "%s: out of memory", dir);
	s->dirfd = -1;
	s->dir = strdup(dir);
	if (!s->dir) {
		r = mg_fail(ENOMEM, "%s: out of memory", dir);
		goto fail;
	}
	s->dirfd = mg_dir_open(dir);
	if (s->dirfd < 0) {
		r = mg_error_prefix(s->dirfd, "OTP store");
		goto fail;
	}
	if (fstat(s->dirfd, &st) < 0) {
		r = mg_fail_errno(errno, "OTP store %s", dir);
		goto fail;
	}
	r = check_private(&st, dir, 022);
	if (r == 0)
		r = hostkey_read(hostkey, s->key);
	if (r < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	mg_otpstore_close(s);
	return r;
}

void mg_otpstore_close(struct mg_otpstore *s)
{
	if (!s)
		return;
	sodium_memzero(s->key, sizeof(s->key));
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->dir);
	free(s);
}

int mg_otpstore_lock(struct mg_otpstore *s, const char *user)
{
	char name[MG_OTP_USER_MAX + 8];
	int r = mg_otp_user_check(user);

	if (r < 0)
		return r;
	snprintf(name, sizeof(name), ".lock-%s", user);
	return mg_file_lock_at(s->dirfd, s->dir, name, true, MG_OTP_LOCK_TIMEOUT_MS);
}

int mg_otpstore_read(struct mg_otpstore *s, const char *user, struct mg_otp_state *st)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *what = NULL;
	uint8_t buf[MG_OTP_STATE_MAX + 1];
	struct stat sb;
	size_t len;
	int r;

	r = mg_otp_user_check(user);
	if (r < 0)
		return r;
	what = mg_path_join(s->dir, user);
	if (!what)
		return mg_fail(ENOMEM, "%s: out of memory", s->dir);
	fd = openat(s->dirfd, user, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return mg_fail_errno(errno, "%s", what);
	if (fstat(fd, &sb) < 0)
		return mg_fail_errno(errno, "%s", what);
	if (!S_ISREG(sb.st_mode))
		return mg_fail(EINVAL, "%s: not a regular file", what);
	if (sb.st_nlink != 1)
		return mg_fail(EPERM, "%s: has %lu hard links, expected 1", what,
		               (unsigned long)sb.st_nlink);
	r = check_private(&sb, what, 077);
	if (r == 0)
		r = read_fd(fd, what, buf, MG_OTP_STATE_MAX, &len);
	if (r == 0)
		r = mg_otp_state_parse(buf, len, what, user, s->key, st);
	sodium_memzero(buf, sizeof(buf));
	return r;
}

/* Removes USER's own leftover temp files: ".USER.tmp-" and 8 hex digits.
 * Only that user's, because other users' writers may be running now. */
static void sweep_user_temps(struct mg_otpstore *s, const char *user)
{
	char prefix[MG_OTP_USER_MAX + sizeof(MG_TEMP_MARK) + 2];
	int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t plen;
	DIR *d;
	struct dirent *e;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	plen = (size_t)snprintf(prefix, sizeof(prefix), ".%s%s", user, MG_TEMP_MARK);
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, prefix, plen) == 0 && strlen(e->d_name) == plen + 8)
			unlinkat(s->dirfd, e->d_name, 0);
	}
	closedir(d);
}

int mg_otpstore_write(struct mg_otpstore *s, const struct mg_otp_state *st)
{
	_cleanup_free_ char *json = NULL;
	size_t len;
	int r;

	r = mg_otp_user_check(st->user);
	if (r < 0)
		return r;
	sweep_user_temps(s, st->user);
	r = mg_otp_state_format(st, s->key, &json, &len);
	if (r < 0)
		return r;
	return mg_file_replace_at(s->dirfd, s->dir, st->user, json, len, 0600);
}

int mg_otpstore_remove(struct mg_otpstore *s, const char *user)
{
	int r = mg_otp_user_check(user);

	if (r < 0)
		return r;
	if (unlinkat(s->dirfd, user, 0) < 0)
		return mg_fail_errno(errno, "%s/%s", s->dir, user);
	if (fsync(s->dirfd) < 0)
		return mg_fail_errno(errno, "%s: fsync", s->dir);
	sweep_user_temps(s, user);
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int mg_otpstore_users(struct mg_otpstore *s, char ***users, size_t *n)
{
	int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char **list = NULL;
	size_t count = 0;
	DIR *d;
	struct dirent *e;
	int r = 0;

	if (fd < 0)
		return mg_fail_errno(errno, "%s", s->dir);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return mg_fail_errno(errno, "%s", s->dir);
	}
	while ((e = readdir(d))) {
		char **grown;
		if (e->d_name[0] == '.' || mg_otp_user_check(e->d_name) < 0)
			continue;
		grown = realloc(list, (count + 1) * sizeof(*list));
		if (!grown || !(grown[count] = strdup(e->d_name))) {
			list = grown ? grown : list;
			r = mg_fail(ENOMEM, "%s: out of memory", s->dir);
			break;
		}
		list = grown;
		count++;
	}
	closedir(d);
	if (r < 0) {
		for (size_t i = 0; i < count; i++)
			free(list[i]);
		free(list);
		return r;
	}
	if (count)
		qsort(list, count, sizeof(*list), compare_names);
	*users = list;
	*n = count;
	return 0;
}

int64_t mg_otp_state_lock_remaining(const struct mg_otp_state *st,
                                    const struct mg_otp_policy *pol, int64_t now)
{
	int64_t until;

	if (!st->locked_at)
		return 0;
	if (pol->lockout_seconds == 0)
		return -1;
	until = st->locked_at + (int64_t)pol->lockout_seconds;
	return now < until ? until - now : 0;
}

static void count_failure(struct mg_otp_state *st, const struct mg_otp_policy *pol,
                          int64_t now, struct mg_otp_result *res)
{
	uint64_t delay;

	st->failures++;
	st->last_failure = now;
	if (st->failures >= pol->max_failures && !st->locked_at)
		st->locked_at = now;
	delay = pol->delay * st->failures;
	res->delay = (unsigned)(delay > MG_OTP_DELAY_CAP ? MG_OTP_DELAY_CAP : delay);
	res->failures = st->failures;
	res->lock_remaining = mg_otp_state_lock_remaining(st, pol, now);
}

/* "abcd-efgh-ijkl-mnop" or "ABCDEFGHIJKLMNOP" -> "ABCDEFGHIJKLMNOP". */
static bool recovery_normalize(const char *in, char out[MG_OTP_RECOVERY_LEN + 1])
{
	size_t n = 0;

	for (; *in; in++) {
		char c = (char)toupper((unsigned char)*in);
		if (*in == '-')
			continue;
		if (n == MG_OTP_RECOVERY_LEN || !((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7')))
			return false;
		out[n++] = c;
	}
	out[n] = '\0';
	return n == MG_OTP_RECOVERY_LEN;
}

static bool recovery_use(struct mg_otp_state *st, const char *code)
{
	char norm[MG_OTP_RECOVERY_LEN + 1];
	bool found = false;

	if (!recovery_normalize(code, norm))
		return false;
	for (size_t i = 0; i < st->nrecovery && !found; i++) {
		if (crypto_pwhash_str_verify(st->recovery[i], norm, MG_OTP_RECOVERY_LEN) != 0)
			continue;
		memmove(st->recovery[i], st->recovery[i + 1],
		        (st->nrecovery - i - 1) * sizeof(st->recovery[0]));
		st->nrecovery--;
		found = true;
	}
	sodium_memzero(norm, sizeof(norm));
	return found;
}

/* Finds the highest step within the window whose code is code.  Every
 * step is computed, so the time taken does not tell which one matched. */
static bool totp_match(const struct mg_otp_state *st, const char *code, uint64_t now_step,
                       uint64_t window, uint64_t *step)
{
	bool found = false;

	for (uint64_t s = now_step > window ? now_step - window : 0; s <= now_step + window; s++) {
		if (mg_otp_code_equal(&st->params, st->secret, st->secret_len, s, code)) {
			*step = s;
			found = true;
		}
	}
	return found;
}

static uint64_t token_step(const struct mg_otp_state *st, int64_t now)
{
	int64_t step = (int64_t)mg_otp_step(now, st->params.period) + st->drift;

	return step < 0 ? 0 : (uint64_t)step;
}

int mg_otp_state_check(struct mg_otp_state *st, const char *code,
                       const struct mg_otp_policy *pol, int64_t now,
                       struct mg_otp_result *res, bool *changed)
{
	uint64_t now_step = token_step(st, now), step;

	memset(res, 0, sizeof(*res));
	*changed = false;
	res->failures = st->failures;
	res->recovery_left = st->nrecovery;
	if (!st->active) {
		res->verdict = MG_OTP_NOT_ENROLLED;
		return 0;
	}
	if (now_step + pol->window < st->last_step)
		return mg_fail(ESTALE, "%s: the clock (step %llu) is behind the last accepted code "
		               "(step %llu); check the time", st->user,
		               (unsigned long long)now_step, (unsigned long long)st->last_step);
	if (st->locked_at && mg_otp_state_lock_remaining(st, pol, now) == 0) {
		st->failures = 0;           /* the lockout has run its time */
		st->locked_at = 0;
		*changed = true;
	}
	if (st->locked_at) {
		res->verdict = MG_OTP_LOCKED;
		count_failure(st, pol, now, res);
		*changed = true;
		return 0;
	}
	if (mg_otp_code_syntax(code, st->params.digits) &&
	    totp_match(st, code, now_step, pol->window, &step)) {
		res->step = step;
		if (step <= st->last_step) {
			res->verdict = MG_OTP_REPLAY;
			return 0;
		}
		res->verdict = MG_OTP_ACCEPT;
		st->last_step = step;
	} else if (!mg_otp_code_syntax(code, st->params.digits) && recovery_use(st, code)) {
		res->verdict = MG_OTP_ACCEPT_RECOVERY;
		res->recovery_left = st->nrecovery;
	} else {
		res->verdict = MG_OTP_REJECT;
		count_failure(st, pol, now, res);
		*changed = true;
		return 0;
	}
	st->failures = 0;
	st->last_success = now;
	res->failures = 0;
	*changed = true;
	return 0;
}

int mg_otpstore_verify(struct mg_otpstore *s, const char *user, const char *input,
                       bool trailing, const struct mg_otp_policy *pol, int64_t now,
                       struct mg_otp_result *res)
{
	_cleanup_close_ int lock = -1;
	struct mg_otp_state st;
	const char *code = input;
	bool changed = false;
	size_t len = strlen(input);
	int r;

	lock = mg_otpstore_lock(s, user);
	if (lock < 0)
		return lock;
	r = mg_otpstore_read(s, user, &st);
	if (r == -ENOENT) {
		memset(res, 0, sizeof(*res));
		res->verdict = MG_OTP_NOT_ENROLLED;
		return 0;
	}
	if (r == 0 && trailing && len >= st.params.digits)
		code = input + len - st.params.digits;
	if (r == 0)
		r = mg_otp_state_check(&st, code, pol, now, res, &changed);
	res->prefix_len = (size_t)(code - input);
	/* The floor and the counters reach the disk before anyone is told. */
	if (r == 0 && changed)
		r = mg_otpstore_write(s, &st);
	mg_otp_state_wipe(&st);
	return r;
}

int mg_otp_state_activate(struct mg_otp_state *st, const char *code, uint64_t window,
                          int64_t now)
{
	uint64_t step;

	if (!mg_otp_code_syntax(code, st->params.digits) ||
	    !totp_match(st, code, mg_otp_step(now, st->params.period), window, &step))
		return mg_fail(EKEYREJECTED, "%s: the code does not match the new token "
		               "(check the phone's clock and the code's %u digits)", st->user,
		               st->params.digits);
	st->active = true;
	st->drift = 0;
	st->last_step = step;
	st->last_success = now;
	return 0;
}

int mg_otp_state_resync(struct mg_otp_state *st, const char *code1, const char *code2,
                        uint64_t window, int64_t now)
{
	uint64_t now_step = mg_otp_step(now, st->params.period);
	uint64_t lo = now_step > window ? now_step - window : 0;
	bool found = false;
	uint64_t hit = 0;

	if (!mg_otp_code_syntax(code1, st->params.digits) || !mg_otp_code_syntax(code2, st->params.digits))
		return mg_fail(EINVAL, "%s: expected two codes of %u digits", st->user, st->params.digits);
	for (uint64_t s = lo; s <= now_step + window; s++) {
		if (mg_otp_code_equal(&st->params, st->secret, st->secret_len, s, code1) &&
		    mg_otp_code_equal(&st->params, st->secret, st->secret_len, s + 1, code2)) {
			hit = s;
			found = true;
		}
	}
	if (!found)
		return mg_fail(ENOENT, "%s: the two codes are not consecutive codes within %llu steps "
		               "of now", st->user, (unsigned long long)window);
	if (hit + 1 <= st->last_step)
		return mg_fail(ESTALE, "%s: the codes are not newer than the last accepted code",
		               st->user);
	st->drift = (int64_t)(hit + 1) - (int64_t)now_step;
	st->last_step = hit + 1;
	st->failures = 0;
	st->locked_at = 0;
	return 0;
}

int mg_otp_state_new_recovery(struct mg_otp_state *st, size_t n,
                              char codes[][MG_OTP_RECOVERY_LEN + 4])
{
	if (n > MG_OTP_RECOVERY_MAX)
		return mg_fail(EINVAL, "%s: at most %d recovery codes", st->user, MG_OTP_RECOVERY_MAX);
	for (size_t i = 0; i < n; i++) {
		uint8_t raw[MG_OTP_RECOVERY_LEN * 5 / 8];
		char *b32 = NULL;
		size_t b32len = 0;

		randombytes_buf(raw, sizeof(raw));
		if (oath_base32_encode((const char *)raw, sizeof(raw), &b32, &b32len) != OATH_OK ||
		    b32len != MG_OTP_RECOVERY_LEN) {
			free(b32);
			return mg_fail(EIO, "%s: base32 encoding failed", st->user);
		}
		sodium_memzero(raw, sizeof(raw));
		if (crypto_pwhash_str(st->recovery[i], b32, MG_OTP_RECOVERY_LEN, RECOVERY_OPSLIMIT,
		                      RECOVERY_MEMLIMIT) != 0) {
			sodium_memzero(b32, b32len);
			free(b32);
			return mg_fail(ENOMEM, "%s: crypto_pwhash_str failed", st->user);
		}
		for (size_t j = 0; j < MG_OTP_RECOVERY_LEN; j++)
			b32[j] = (char)tolower((unsigned char)b32[j]);
		snprintf(codes[i], MG_OTP_RECOVERY_LEN + 4, "%.4s-%.4s-%.4s-%.4s", b32, b32 + 4,
		         b32 + 8, b32 + 12);
		sodium_memzero(b32, b32len);
		free(b32);
	}
	st->nrecovery = n;
	return 0;
}

int mg_otp_state_generate(struct mg_otp_state *st, const char *user,
                          const struct mg_otp_params *params, int64_t now)
{
	int r = mg_otp_user_check(user);

	if (r == 0)
		r = mg_otp_params_check(params, user);
	if (r < 0)
		return r;
	memset(st, 0, sizeof(*st));
	snprintf(st->user, sizeof(st->user), "%s", user);
	st->params = *params;
	st->secret_len = mg_otp_secret_size(params->algorithm);
	randombytes_buf(st->secret, st->secret_len);
	st->enrolled = now;
	return 0;
}

void mg_otp_state_wipe(struct mg_otp_state *st)
{
	sodium_memzero(st, sizeof(*st));
}

/* The associated data: the format, the user and the code parameters. */
static size_t make_ad(const struct mg_otp_state *st, uint8_t ad[AD_MAX])
{
	int n = snprintf((char *)ad, AD_MAX, "%s%c%s%c%s%c%u%c%u", MG_OTP_FORMAT, 0, st->user, 0,
	                 mg_otp_algorithm_name(st->params.algorithm), 0, st->params.digits, 0,
	                 st->params.period);
	return (size_t)n;
}

static int seal(const struct mg_otp_state *st, const uint8_t key[MG_OTP_HOSTKEY_BYTES],
                char **b64)
{
	uint8_t sealed[SEALED_MAX], ad[AD_MAX];
	size_t adlen = make_ad(st, ad), len = NONCE_BYTES + st->secret_len + TAG_BYTES;
	size_t b64len = sodium_base64_ENCODED_LEN(SEALED_MAX, sodium_base64_VARIANT_ORIGINAL);

	randombytes_buf(sealed, NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(sealed + NONCE_BYTES, NULL, st->secret,
	                                           st->secret_len, ad, adlen, NULL, sealed, key);
	*b64 = malloc(b64len);
	if (!*b64)
		return mg_fail(ENOMEM, "%s: out of memory", st->user);
	sodium_bin2base64(*b64, b64len, sealed, len, sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

static int unseal(struct mg_otp_state *st, const char *b64, const char *where,
                  const uint8_t key[MG_OTP_HOSTKEY_BYTES])
{
	uint8_t sealed[SEALED_MAX], ad[AD_MAX];
	size_t len, adlen = make_ad(st, ad);
	unsigned long long plain;

	if (sodium_base642bin(sealed, sizeof(sealed), b64, strlen(b64), NULL, &len, NULL,
	                      sodium_base64_VARIANT_ORIGINAL) != 0)
		return mg_fail(EBADMSG, "%s.secret: expected base64 of at most %d bytes", where, SEALED_MAX);
	if (len < NONCE_BYTES + MG_OTP_SECRET_MIN + TAG_BYTES)
		return mg_fail(EBADMSG, "%s.secret: %zu bytes is too short", where, len);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(st->secret, &plain, NULL, sealed + NONCE_BYTES,
	                                               len - NONCE_BYTES, ad, adlen, sealed, key) != 0)
		return mg_fail(EBADMSG, "%s.secret: does not open with the host key "
		               "(another host's key, another user's file, or edited)", where);
	st->secret_len = (size_t)plain;
	return 0;
}

static int parse_recovery(const json_t *root, const char *where, struct mg_otp_state *st)
{
	json_t *arr = NULL, *v;
	size_t i;
	int r = mg_json_get_array(root, "recovery", where, true, &arr);

	if (r < 0)
		return r;
	if (json_array_size(arr) > MG_OTP_RECOVERY_MAX)
		return mg_fail(EBADMSG, "%s.recovery: more than %d entries", where, MG_OTP_RECOVERY_MAX);
	json_array_foreach(arr, i, v) {
		const char *h = json_string_value(v);
		if (!h || strlen(h) != json_string_length(v) || strlen(h) >= MG_OTP_HASH_MAX ||
		    strncmp(h, "$argon2id$", 10) != 0)
			return mg_fail(EBADMSG, "%s.recovery[%zu]: expected an Argon2id hash string",
			               where, i);
		snprintf(st->recovery[i], MG_OTP_HASH_MAX, "%s", h);
	}
	st->nrecovery = json_array_size(arr);
	return 0;
}

static int get_time(const json_t *root, const char *key, const char *where, int64_t *out)
{
	uint64_t v = 0;
	int r = mg_json_get_uint(root, key, where, true, 0, INT64_MAX, &v);

	*out = (int64_t)v;
	return r;
}

static int parse_fields(const json_t *root, const char *where, const char *user,
                        struct mg_otp_state *st)
{
	static const char *const keys[] = {"format", "user", "algorithm", "digits", "period",
	                                   "secret", "active", "enrolled", "last_step", "drift",
	                                   "failures", "last_failure", "locked_at", "last_success",
	                                   "recovery", NULL};
	static const char *const formats[] = {MG_OTP_FORMAT, NULL};
	static const char *const algorithms[] = {"SHA1", "SHA256", "SHA512", NULL};
	const char *name = NULL;
	json_t *drift;
	uint64_t digits = 0, period = 0;
	int fmt, alg = 0, r;

	r = mg_json_only_keys(root, where, keys);
	if (r == 0) r = mg_json_get_enum(root, "format", where, true, formats, &fmt);
	if (r == 0) r = mg_json_get_string(root, "user", where, true, &name);
	if (r == 0 && strcmp(name, user) != 0)
		r = mg_fail(EBADMSG, "%s.user: '%s' in the file of '%s'", where, name, user);
	if (r == 0) r = mg_json_get_enum(root, "algorithm", where, true, algorithms, &alg);
	if (r == 0) r = mg_json_get_uint(root, "digits", where, true, 6, 8, &digits);
	if (r == 0) r = mg_json_get_uint(root, "period", where, true, 30, 60, &period);
	if (r == 0) r = mg_json_get_bool(root, "active", where, true, &st->active);
	if (r == 0) r = get_time(root, "enrolled", where, &st->enrolled);
	if (r == 0) r = mg_json_get_uint(root, "last_step", where, true, 0, INT64_MAX, &st->last_step);
	if (r == 0) r = mg_json_get_uint(root, "failures", where, true, 0, UINT32_MAX, &st->failures);
	if (r == 0) r = get_time(root, "last_failure", where, &st->last_failure);
	if (r == 0) r = get_time(root, "locked_at", where, &st->locked_at);
	if (r == 0) r = get_time(root, "last_success", where, &st->last_success);
	if (r < 0)
		return r;
	drift = json_object_get(root, "drift");
	if (!json_is_integer(drift) || llabs(json_integer_value(drift)) > 100000)
		return mg_fail(EBADMSG, "%s.drift: expected an integer within ±100000", where);
	st->drift = json_integer_value(drift);
	st->params = (struct mg_otp_params){(enum mg_otp_algorithm)alg, (unsigned)digits,
	                                    (unsigned)period};
	return mg_otp_params_check(&st->params, where);
}

int mg_otp_state_parse(const void *buf, size_t len, const char *origin, const char *user,
                       const uint8_t key[MG_OTP_HOSTKEY_BYTES], struct mg_otp_state *st)
{
	_cleanup_json_ json_t *root = NULL;
	const char *secret = NULL;
	char where[MG_WHERE_MAX];
	int r;

	memset(st, 0, sizeof(*st));
	r = mg_otp_user_check(user);
	if (r < 0)
		return r;
	if (len > MG_OTP_STATE_MAX)
		return mg_fail(EFBIG, "%s: larger than %u bytes", origin, MG_OTP_STATE_MAX);
	r = mg_json_parse(buf, len, origin, &root);
	if (r < 0)
		return r;
	snprintf(where, sizeof(where), "%s: $", origin);
	snprintf(st->user, sizeof(st->user), "%s", user);
	r = parse_fields(root, where, user, st);
	if (r == 0) r = parse_recovery(root, where, st);
	if (r == 0) r = mg_json_get_string(root, "secret", where, true, &secret);
	if (r == 0) r = unseal(st, secret, where, key);
	if (r < 0)
		mg_otp_state_wipe(st);
	return r;
}

int mg_otp_state_format(const struct mg_otp_state *st, const uint8_t key[MG_OTP_HOSTKEY_BYTES],
                        char **json, size_t *len)
{
	_cleanup_json_ json_t *root = NULL, *rec = json_array();
	_cleanup_free_ char *secret = NULL;
	int r;

	if (!rec)
		return mg_fail(ENOMEM, "%s: out of memory", st->user);
	for (size_t i = 0; i < st->nrecovery; i++)
		if (json_array_append_new(rec, json_string(st->recovery[i])) < 0)
			return mg_fail(ENOMEM, "%s: out of memory", st->user);
	r = seal(st, key, &secret);
	if (r < 0)
		return r;
	root = json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:O}",
	                 "format", MG_OTP_FORMAT, "user", st->user,
	                 "algorithm", mg_otp_algorithm_name(st->params.algorithm),
	                 "digits", (int)st->params.digits, "period", (int)st->params.period,
	                 "secret", secret, "active", st->active,
	                 "enrolled", (json_int_t)st->enrolled, "last_step", (json_int_t)st->last_step,
	                 "drift", (json_int_t)st->drift, "failures", (json_int_t)st->failures,
	                 "last_failure", (json_int_t)st->last_failure,
	                 "locked_at", (json_int_t)st->locked_at,
	                 "last_success", (json_int_t)st->last_success, "recovery", rec);
	if (!root)
		return mg_fail(ENOMEM, "%s: out of memory", st->user);
	*json = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!*json)
		return mg_fail(ENOMEM, "%s: out of memory", st->user);
	*len = strlen(*json);
	return 0;
}

int mg_otp_policy_load(const char *statedir, const char *config, struct mg_otp_policy *out)
{
	struct mg_config cfg = {0};
	struct mg_policy_in_force pif = {0};
	/* A login needs only the otp section, not a fleet's device rules. */
	struct mg_terminal_ctx ctx = {.state_dir = statedir, .component = "pam", .section = "otp"};
	int r;

	r = mg_config_load(config, &cfg);
	if (r < 0)
		return r;
	ctx.target = cfg.group;
	r = mg_terminal_load(&ctx, &pif);
	if (r == 0)
		*out = pif.policy->otp;
	mg_policy_in_force_free(&pif);
	mg_config_free(&cfg);
	return r;
}

static const char *const verdict_events[] = {
	[MG_OTP_ACCEPT] = "otp.accept",
	[MG_OTP_ACCEPT_RECOVERY] = "otp.recovery",
	[MG_OTP_REJECT] = "otp.reject",
	[MG_OTP_REPLAY] = "otp.replay",
	[MG_OTP_LOCKED] = "otp.locked",
	[MG_OTP_NOT_ENROLLED] = "otp.not_enrolled",
};

const char *mg_otp_verdict_event(enum mg_otp_verdict v)
{
	return verdict_events[v];
}

int mg_otp_audit(const char *statedir, const char *user, const char *service,
                 const struct mg_otp_result *res, int err)
{
	_cleanup_free_ char *dir = mg_path_join(statedir, "audit");
	_cleanup_json_ json_t *detail = NULL;
	bool accepted = err == 0 && (res->verdict == MG_OTP_ACCEPT ||
	                             res->verdict == MG_OTP_ACCEPT_RECOVERY);
	struct mg_audit rec = {
		.event = err < 0 ? "otp.error" : mg_otp_verdict_event(res->verdict),
		.decision = accepted ? "accept" : "reject",
		.subject = user,
	};

	if (!dir)
		return mg_fail(ENOMEM, "%s: out of memory", statedir);
	detail = err < 0 ? json_pack("{s:s, s:s}", "service", service ? service : "", "error", mg_error())
	                 : json_pack("{s:s, s:I, s:I, s:I}", "service", service ? service : "",
	                             "failures", (json_int_t)res->failures,
	                             "lock_remaining", (json_int_t)res->lock_remaining,
	                             "recovery_left", (json_int_t)res->recovery_left);
	rec.detail = detail;
	return mg_audit(dir, "pam", &rec);
}

void mg_otp_paths_defaults(struct mg_otp_paths *p)
{
	snprintf(p->store, sizeof(p->store), "%s", MG_STATEDIR "/otp");
	snprintf(p->hostkey, sizeof(p->hostkey), "%s", MG_SYSCONFDIR "/otp.key");
	snprintf(p->statedir, sizeof(p->statedir), "%s", MG_STATEDIR);
	snprintf(p->config, sizeof(p->config), "%s", MG_SYSCONFDIR "/mynaguard.conf");
}

static char *trim(char *s)
{
	char *end;

	s += strspn(s, " \t");
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

static int paths_line(char *line, const char *origin, int n, struct mg_otp_paths *p, unsigned *seen)
{
	static const char *const keys[] = {"store", "hostkey", "statedir", "config"};
	char *fields[] = {p->store, p->hostkey, p->statedir, p->config};
	char *eq = strchr(line, '='), *key, *value;

	line = trim(line);
	if (!*line || *line == '#')
		return 0;
	if (!eq)
		return mg_fail(EINVAL, "%s:%d: expected KEY = VALUE", origin, n);
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	for (unsigned i = 0; i < MG_ARRAY_SIZE(keys); i++) {
		if (strcmp(key, keys[i]) != 0)
			continue;
		if (*seen & (1u << i))
			return mg_fail(EINVAL, "%s:%d: %s given twice", origin, n, key);
		if (value[0] != '/' || strlen(value) >= MG_OTP_PATH_MAX)
			return mg_fail(EINVAL, "%s:%d: %s: expected an absolute path shorter than %d bytes",
			               origin, n, key, MG_OTP_PATH_MAX);
		*seen |= 1u << i;
		snprintf(fields[i], MG_OTP_PATH_MAX, "%s", value);
		return 0;
	}
	return mg_fail(EINVAL, "%s:%d: unknown key '%.32s'", origin, n, key);
}

int mg_otp_paths_parse(const char *buf, size_t len, const char *origin, struct mg_otp_paths *p)
{
	_cleanup_free_ char *copy = NULL;
	char *line, *next;
	unsigned seen = 0;
	int n = 0, r = 0;

	mg_otp_paths_defaults(p);
	if (len > MG_OTP_PATHS_FILE_MAX)
		return mg_fail(EFBIG, "%s: larger than %d bytes", origin, MG_OTP_PATHS_FILE_MAX);
	if (memchr(buf, '\0', len))
		return mg_fail(EINVAL, "%s: contains a NUL byte", origin);
	copy = strndup(buf, len);
	if (!copy)
		return mg_fail(ENOMEM, "%s: out of memory", origin);
	for (line = copy; r == 0 && line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		r = paths_line(line, origin, ++n, p, &seen);
	}
	return r;
}
