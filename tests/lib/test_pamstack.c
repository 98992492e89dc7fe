/* PAM stacks: Debian's layouts (pam-auth-update's common-auth, @include,
 * substack), every way a module can be present yet not enforce, and each
 * bad line named by FILE:LINE. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mynaguard/error.h"
#include "mynaguard/pamstack.h"

static char dir[64];
static int dirfd = -1;

static void setup(void)
{
	strcpy(dir, "/tmp/mg-pamd.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	cr_assert_geq(dirfd, 0);
}

static void teardown(void)
{
	char cmd[128];

	close(dirfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(pamstack, .init = setup, .fini = teardown);

static void put(const char *name, const char *text)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Loads service's auth stack and asks whether pam_mynaguard enforces. */
static bool enforces(const char *service, char *why, size_t size)
{
	struct mg_pam_stack s;
	bool r;

	cr_assert_eq(mg_pam_stack_load(dirfd, dir, service, MG_PAM_AUTH, &s), 0, "%s", mg_error());
	r = mg_pam_stack_enforces(&s, "pam_mynaguard.so", why, size);
	mg_pam_stack_free(&s);
	return r;
}

static const char debian_common_auth[] =
	"# here are the per-package modules (the \"Primary\" block)\n"
	"auth\t[success=1 default=ignore]\tpam_unix.so nullok\n"
	"auth\trequisite\t\t\tpam_deny.so\n"
	"auth\trequired\t\t\tpam_permit.so\n"
	"# and here are more per-package modules (the \"Additional\" block)\n"
	"auth\trequired\t\t\tpam_mynaguard.so\n";

Test(pamstack, debian_login_through_common_auth)
{
	char why[256] = "";

	put("common-auth", debian_common_auth);
	put("login", "auth optional pam_faildelay.so delay=3000000\n"
	             "@include common-auth\n"
	             "-auth optional pam_gnome_keyring.so\n"
	             "account required pam_nologin.so\n");
	cr_assert(enforces("login", why, sizeof(why)), "%s", why);
}

Test(pamstack, include_and_substack_keywords)
{
	char why[256] = "";

	put("common-auth", debian_common_auth);
	put("lightdm", "auth include common-auth\n");
	put("xfce4-screensaver", "auth substack common-auth\nauth optional pam_gnome_keyring.so\n");
	cr_assert(enforces("lightdm", why, sizeof(why)), "%s", why);
	cr_assert(enforces("xfce4-screensaver", why, sizeof(why)), "%s", why);
}

Test(pamstack, missing_module)
{
	char why[256] = "";

	put("login", "auth required pam_unix.so\n");
	cr_assert_not(enforces("login", why, sizeof(why)));
	cr_assert_str_eq(why, "pam_mynaguard.so is not in the stack");
}

Test(pamstack, optional_control_does_not_enforce)
{
	char why[256] = "";

	put("login", "auth required pam_unix.so\nauth optional pam_mynaguard.so\n");
	cr_assert_not(enforces("login", why, sizeof(why)));
	cr_assert(strstr(why, "login:2:"), "%s", why);
}

Test(pamstack, sufficient_before_is_a_bypass)
{
	char why[256] = "";

	put("login", "auth sufficient pam_unix.so\nauth required pam_mynaguard.so\n");
	cr_assert_not(enforces("login", why, sizeof(why)));
	cr_assert(strstr(why, "login:1: pam_unix.so (sufficient)"), "%s", why);
}

Test(pamstack, jump_over_the_module_is_a_bypass)
{
	char why[256] = "";

	put("login", "auth [success=2 default=ignore] pam_unix.so\n"
	             "auth requisite pam_deny.so\n"
	             "auth required pam_mynaguard.so\n"
	             "auth required pam_permit.so\n");
	cr_assert_not(enforces("login", why, sizeof(why)));
	put("login", "auth [success=1 default=ignore] pam_unix.so\n"
	             "auth requisite pam_deny.so\n"
	             "auth required pam_mynaguard.so\n");
	cr_assert(enforces("login", why, sizeof(why)), "%s", why);
}

Test(pamstack, done_inside_a_substack_ends_only_the_substack)
{
	char why[256] = "";

	put("inner", "auth [success=done default=ignore] pam_rootok.so\n");
	put("login", "auth substack inner\nauth required pam_mynaguard.so\n");
	cr_assert(enforces("login", why, sizeof(why)), "%s", why);
	put("login", "auth include inner\nauth required pam_mynaguard.so\n");
	cr_assert_not(enforces("login", why, sizeof(why)));
}

Test(pamstack, bracket_that_ignores_a_failure_does_not_enforce)
{
	char why[256] = "";

	put("login", "auth [success=ok auth_err=ignore default=bad] pam_mynaguard.so\n");
	cr_assert_not(enforces("login", why, sizeof(why)));
	put("login", "auth [success=ok default=die] pam_mynaguard.so\n");
	cr_assert(enforces("login", why, sizeof(why)), "%s", why);
}

Test(pamstack, continuation_comments_and_other)
{
	char why[256] = "";

	put("other", "auth required \\\n   /lib/x86_64-linux-gnu/security/pam_mynaguard.so # TOTP\n");
	put("login", "# nothing of type auth\naccount required pam_unix.so\n");
	cr_assert(enforces("login", why, sizeof(why)), "%s", why);
}

Test(pamstack, bad_lines_name_file_and_line)
{
	struct mg_pam_stack s;

	put("login", "auth required pam_unix.so\nauht required pam_mynaguard.so\n");
	cr_assert_eq(mg_pam_stack_load(dirfd, dir, "login", MG_PAM_AUTH, &s), -EINVAL);
	cr_assert_str_eq(mg_error(), "login:2: unknown type 'auht'");
	put("login", "auth [success=1 bogus=ignore] pam_unix.so\n");
	cr_assert_eq(mg_pam_stack_load(dirfd, dir, "login", MG_PAM_AUTH, &s), -EINVAL);
	cr_assert_str_eq(mg_error(), "login:1: control: unknown return value 'bogus'");
	put("login", "auth include ../shadow\n");
	cr_assert_eq(mg_pam_stack_load(dirfd, dir, "login", MG_PAM_AUTH, &s), -EINVAL);
	put("login", "auth include login\n");
	cr_assert_eq(mg_pam_stack_load(dirfd, dir, "login", MG_PAM_AUTH, &s), -ELOOP);
}

Test(pamstack, symlinked_service_file_is_refused)
{
	struct mg_pam_stack s;

	put("real", debian_common_auth);
	cr_assert_eq(symlinkat("real", dirfd, "login"), 0);
	cr_assert_eq(mg_pam_stack_load(dirfd, dir, "login", MG_PAM_AUTH, &s), -ELOOP);
}
