/* The agent's table of present devices (devices.c, blocks.c). */
#ifndef MYNAGUARDD_DEVICES_H
#define MYNAGUARDD_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mynaguard/rules.h"
#include "mynaguard/ticket.h"
#include "mynaguard/usbdev.h"

struct udev;
struct udev_monitor;
struct agent;

/* One USB device present now. */
struct device_entry {
	struct mg_usbdev dev;         /* as last read from sysfs */
	struct mg_decision decision;  /* what the policy said */
	bool present_at_start;        /* there when the agent started */
	bool kept;                    /* present_devices "keep": left as it was */
	bool approved;                /* an operator approved it (approve-keyboard) */
	int64_t decided;              /* mg_now() of the decision */
};

struct agent_devices {
	struct udev *udev;
	struct udev_monitor *monitor; /* kernel uevents: usb, block */
	int sysfd;                    /* "/sys" (a testbed's under umockdev) */
	int devfd;                    /* "/dev", for BLKROSET */
	int ticket_timer_fd;          /* fires at the next ticket expiry */
	bool enumerated;              /* the present devices were read at start */
	struct device_entry *entries; /* present USB devices */
	size_t n, cap;
	struct mg_ticket *tickets;    /* stored tickets that verified at the last reload */
	size_t n_tickets;
	struct mg_ticket *valid;      /* scratch: those unexpired now (n_tickets slots) */
};

/* The USB device a block device hangs below, or NULL. */
struct device_entry *agent_devices_parent_of(struct agent *a, const char *devpath);

/* blocks.c */
void agent_block_added(struct agent *a, const char *name, const char *devpath);
void agent_blocks_enumerate(struct agent *a);

#endif
