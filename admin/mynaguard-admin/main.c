/* mynaguard-admin: the administrator's tool, for an offline machine. */
#include <locale.h>

#include "verbs.h"

static const struct mg_verb verbs[] = {
	{"publish", admin_publish, "publish --repo DIR BUNDLE"},
	{0},
};

int main(int argc, char **argv)
{
	setlocale(LC_ALL, "");
	return mg_cli_main("mynaguard-admin", verbs, argc, argv);
}
