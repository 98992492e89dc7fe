/* The verbs of mynaguardctl, one file each. */
#ifndef MYNAGUARDCTL_VERBS_H
#define MYNAGUARDCTL_VERBS_H

#include "cli.h"

#endif
