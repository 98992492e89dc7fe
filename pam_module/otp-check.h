/* The protocol between pam_mynaguard.so and mynaguard-otp-check, the
 * setuid helper that checks a code when the module does not run as root
 * (screen lockers).  As with unix_chkpwd, the helper trusts nothing from
 * its caller but the code:
 *
 *   argv:   mynaguard-otp-check USER [--trailing]
 *           USER must be the calling user (getuid); anything else is refused.
 *           --trailing: the input is a password followed by the code.
 *   stdin:  the input, at most MG_OTP_CHECK_INPUT_MAX bytes, no newline needed
 *   stdout: one line "VERDICT FAILURES LOCK_REMAINING RECOVERY_LEFT PREFIX_LEN"
 *           VERDICT is the event name without "otp." ("accept", "reject", ...)
 *   exit:   0 accepted, 1 refused (any verdict but accept), 2 error.
 *
 * The helper takes the store, host key and state directory from its own
 * configuration, never from the caller, applies the failure delay itself,
 * and writes the audit record. */
#ifndef MYNAGUARD_OTP_CHECK_H
#define MYNAGUARD_OTP_CHECK_H

#define MG_OTP_CHECK_INPUT_MAX 512
#define MG_OTP_CHECK_FORMAT "%15s %llu %lld %zu %zu"

enum {
	MG_OTP_CHECK_ACCEPT = 0,
	MG_OTP_CHECK_REFUSED = 1,
	MG_OTP_CHECK_ERROR = 2,
};

#endif
