/* mynaguardctl: the terminal-side tool (run as root on a terminal). */
#include <locale.h>

#include "verbs.h"

static const struct mg_verb verbs[] = {
	{"scan", ctl_scan, "scan [--detectors kojin,hojin] [FILE|-]"},
	{"audit", ctl_audit, "audit verify [--anchor SEQ:HASH]...\naudit show [--json] [-n N]\naudit message-id EVENT..."},
	{"policy", ctl_policy, "policy apply BUNDLE\npolicy show [--json]\npolicy pull [--json] [URL]"},
	{"keyring", ctl_keyring, "keyring pin KEYRING\nkeyring show\nkeyring update KEYRING2"},
	{"status", ctl_status, "status"},
	{"otp", ctl_otp, "otp init|list\notp enroll USER [--secret BASE32|-] [--algorithm A] [--digits N] [--period S]\n"
	                 "otp status|unlock|reset|resync|recovery|remove USER"},
	{"devices", ctl_devices, "devices [--json]\ndevices approve DEVICE"},
	{"ticket", ctl_ticket, "ticket apply CODE...|-\nticket list [--json]"},
	{"inspect", ctl_inspect, "inspect [--json] [--root DIR] [--sysfs-root DIR] [--runtime-dir DIR]\n"
	                         "        [--otp-store DIR] [--hostkey FILE]"},
	{0},
};

int main(int argc, char **argv)
{
	setlocale(LC_ALL, "");
	return mg_cli_main("mynaguardctl", verbs, argc, argv);
}
