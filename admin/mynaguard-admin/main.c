/* mynaguard-admin: the administrator's tool, for an offline machine. */
#include <locale.h>

#include "verbs.h"

static const struct mg_verb verbs[] = {
	{"publish", admin_publish, "publish --repo DIR BUNDLE"},
	{"keygen", admin_keygen, "keygen [--no-passphrase | --passphrase-file FILE] NAME"},
	{"keyring", admin_keyring,
	 "keyring create --root A.pub [--root B.pub ...] --root-threshold T --policy P.pub [...]\n"
	 "               --policy-threshold T [--version 1] --sign A.key [...] [--passphrase-file F] -o KEYRING\n"
	 "keyring rotate --from OLD_KEYRING [--root N.pub ... --root-threshold T] [--policy P.pub ...\n"
	 "               --policy-threshold T] --sign OLDROOT.key ... --sign NEWROOT.key ...\n"
	 "               [--reset-policy-floor] [--passphrase-file F] -o KEYRING2"},
	{"sign", admin_sign,
	 "sign --key K.key [--key K2.key ...] [--passphrase-file F] --version N\n"
	 "     --expires 2027-03-31T00:00:00Z --target GROUP [--keyring-version V] -o BUNDLE POLICY.json"},
	{"cosign", admin_cosign, "cosign --key K.key [--passphrase-file F] BUNDLE|KEYRING"},
	{"verify", admin_verify, "verify --keyring KEYRING [--target GROUP] BUNDLE"},
	{"inspect", admin_inspect, "inspect BUNDLE|KEYRING|KEY.pub"},
	{"ticket", admin_ticket,
	 "ticket --key K.key [--passphrase-file F] --host HOST (--serial S | --hash H)\n"
	 "       --mode allow|read-only (--expires 2027-01-31T09:00:00Z | --hours N) [--no-qr]"},
	{0},
};

int main(int argc, char **argv)
{
	setlocale(LC_ALL, "");
	return mg_cli_main("mynaguard-admin", verbs, argc, argv);
}
