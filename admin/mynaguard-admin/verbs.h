/* The verbs of mynaguard-admin, one file each. */
#ifndef MYNAGUARD_ADMIN_VERBS_H
#define MYNAGUARD_ADMIN_VERBS_H

#include "cli.h"

#endif
