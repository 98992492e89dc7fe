/* The "devices" policy section and the indexed decision engine. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "mynaguard/error.h"
#include "mynaguard/json.h"
#include "mynaguard/rules.h"
#include "mynaguard/ticket.h"
#include "mynaguard/util.h"

/* A hash table over rule indexes: heads[bucket] and the shared next[] hold
 * rule index + 1, 0 ending a chain.  Keys are hashed with SipHash under a
 * random key, so a policy cannot be shaped to collide on every terminal. */
struct table {
	size_t mask;
	uint32_t *heads;
};

struct mg_rules_index {
	uint8_t key[crypto_shorthash_KEYBYTES];
	struct table by_hash;     /* rules with "hash" */
	struct table by_serial;   /* rules with "serial" (and no hash) */
	struct table by_vidpid;   /* rules with exact vendor and product (and neither) */
	uint32_t *next;           /* chain links, one per rule */
	size_t n_scan;            /* rules in no table, in policy order */
	uint32_t *scan;
};

/* ---- class names --------------------------------------------------- */

#define ANY_SUB(c) {.cls = (c), .any_sub = true, .any_proto = true}
#define ANY_PROTO(c, s) {.cls = (c), .sub = (s), .any_proto = true}
#define EXACT(c, s, p) {.cls = (c), .sub = (s), .proto = (p)}

static const struct mg_class_term class_names[] = {
	{"mass-storage", 1, {ANY_SUB(0x08)}},
	{"still-image", 1, {ANY_SUB(0x06)}},
	{"ptp", 1, {EXACT(0x06, 0x01, 0x01)}},
	{"mtp", 2, {ANY_SUB(0x06), {.cls = 0xff, .any_sub = true, .any_proto = true, .vendor_mtp = true}}},
	{"network", 6, {ANY_SUB(0x02), ANY_SUB(0x0a), EXACT(0xe0, 0x01, 0x02), EXACT(0xe0, 0x01, 0x03),
	                ANY_PROTO(0xe0, 0x02), ANY_PROTO(0xef, 0x04)}},
	{"rndis", 2, {EXACT(0xe0, 0x01, 0x03), EXACT(0xef, 0x04, 0x01)}},
	{"wireless", 1, {ANY_SUB(0xe0)}},
	{"bluetooth", 2, {EXACT(0xe0, 0x01, 0x01), EXACT(0xe0, 0x01, 0x04)}},
	{"printer", 1, {ANY_SUB(0x07)}},
	{"smartcard", 1, {ANY_SUB(0x0b)}},
	{"hid", 1, {ANY_SUB(0x03)}},
	{"keyboard", 1, {EXACT(0x03, 0x01, 0x01)}},
	{"mouse", 1, {EXACT(0x03, 0x01, 0x02)}},
	{"hub", 1, {ANY_SUB(0x09)}},
	{"audio", 1, {ANY_SUB(0x01)}},
	{"video", 1, {ANY_SUB(0x0e)}},
	{"audio-video", 1, {ANY_SUB(0x10)}},
	{"cdc", 1, {ANY_SUB(0x02)}},
	{"cdc-data", 1, {ANY_SUB(0x0a)}},
	{"content-security", 1, {ANY_SUB(0x0d)}},
	{"healthcare", 1, {ANY_SUB(0x0f)}},
	{"billboard", 1, {ANY_SUB(0x11)}},
	{"diagnostic", 1, {ANY_SUB(0xdc)}},
	{"firmware-update", 1, {ANY_PROTO(0xfe, 0x01)}},
	{"application", 1, {ANY_SUB(0xfe)}},
	{"misc", 1, {ANY_SUB(0xef)}},
	{"vendor-specific", 1, {ANY_SUB(0xff)}},
};

static int parse_hex_byte(const char *s, uint8_t *out)
{
	static const char hex[] = "0123456789abcdef";
	const char *hi, *lo;

	if (!s[0] || !s[1] || !(hi = strchr(hex, s[0] | 0x20)) || !(lo = strchr(hex, s[1] | 0x20)))
		return -1;
	*out = (uint8_t)((hi - hex) << 4 | (lo - hex));
	return 0;
}

/* "08", "e0:01", "e0:01:01": a raw class, subclass and protocol. */
static int parse_raw_class(const char *s, struct mg_class_pattern *p)
{
	size_t len = strlen(s);

	*p = (struct mg_class_pattern){.any_sub = true, .any_proto = true};
	if ((len != 2 && len != 5 && len != 8) || parse_hex_byte(s, &p->cls) < 0)
		return -1;
	if (len >= 5 && (s[2] != ':' || parse_hex_byte(s + 3, &p->sub) < 0))
		return -1;
	if (len == 8 && (s[5] != ':' || parse_hex_byte(s + 6, &p->proto) < 0))
		return -1;
	p->any_sub = len == 2;
	p->any_proto = len != 8;
	return 0;
}

int mg_class_term_parse(const char *s, struct mg_class_term *out)
{
	for (size_t k = 0; k < MG_ARRAY_SIZE(class_names); k++)
		if (strcmp(s, class_names[k].name) == 0) {
			*out = class_names[k];
			return 0;
		}
	memset(out, 0, sizeof(*out));
	if (strlen(s) >= sizeof(out->name) || parse_raw_class(s, &out->pat[0]) < 0)
		return mg_fail(EINVAL, "\"%s\": not a class name (mass-storage, hid, smartcard, ...) "
		               "nor a code like \"08\", \"e0:01\" or \"e0:01:01\"", s);
	snprintf(out->name, sizeof(out->name), "%s", s);
	out->n = 1;
	return 0;
}

static bool pattern_matches(const struct mg_class_pattern *p, const struct mg_usb_class *c, bool mtp)
{
	if (p->vendor_mtp && !mtp)
		return false;
	return p->cls == c->cls && (p->any_sub || p->sub == c->sub) && (p->any_proto || p->proto == c->proto);
}

bool mg_class_term_matches(const struct mg_class_term *t, const struct mg_usb_class *c, bool mtp)
{
	for (size_t k = 0; k < t->n; k++)
		if (pattern_matches(&t->pat[k], c, mtp))
			return true;
	return false;
}

/* The device class says "look at the interfaces" (00) or "composite with
 * association descriptors" (ef/02/01) on most devices; any other value is
 * a class of its own (hub 09, Bluetooth e0, CDC 02, vendor ff). */
static bool device_class_counts(const struct mg_usb_class *c)
{
	return c->cls != 0x00 && !(c->cls == 0xef && c->sub == 0x02 && c->proto == 0x01);
}

static bool device_has_term(const struct mg_usbdev *dev, const struct mg_class_term *t)
{
	if (device_class_counts(&dev->cls) && mg_class_term_matches(t, &dev->cls, false))
		return true;
	for (size_t k = 0; k < dev->n_interfaces; k++)
		if (mg_class_term_matches(t, &dev->interfaces[k].cls, dev->interfaces[k].mtp))
			return true;
	return false;
}

/* ---- matching ------------------------------------------------------ */

static bool classes_match(const struct mg_rule_classes *c, const struct mg_usbdev *dev)
{
	bool any;

	if (!c)
		return true;
	any = c->one_of.n == 0;
	for (size_t k = 0; k < c->one_of.n && !any; k++)
		any = device_has_term(dev, &c->one_of.terms[k]);
	if (!any)
		return false;
	for (size_t k = 0; k < c->all_of.n; k++)
		if (!device_has_term(dev, &c->all_of.terms[k]))
			return false;
	for (size_t k = 0; k < c->none_of.n; k++)
		if (device_has_term(dev, &c->none_of.terms[k]))
			return false;
	return true;
}

static bool hex_glob_matches(const char *pattern, uint16_t value)
{
	char hex[5];

	if (!pattern[0])
		return true;
	snprintf(hex, sizeof(hex), "%04x", value);
	return fnmatch(pattern, hex, 0) == 0;
}

bool mg_rule_matches(const struct mg_rule *r, const struct mg_usbdev *dev)
{
	if (r->hash && sodium_memcmp(r->hash, dev->hash, MG_USB_HASH_BYTES) != 0)
		return false;
	if (r->serial && strcmp(r->serial, dev->serial) != 0)
		return false;
	if (!hex_glob_matches(r->vendor, dev->vendor) || !hex_glob_matches(r->product, dev->product))
		return false;
	if (r->parent_hash &&
	    (!dev->has_parent_hash || sodium_memcmp(r->parent_hash, dev->parent_hash, MG_USB_HASH_BYTES) != 0))
		return false;
	if (r->port && fnmatch(r->port, dev->name, 0) != 0)
		return false;
	if (r->connect != MG_USB_CONNECT_UNKNOWN && r->connect != dev->connect)
		return false;
	return classes_match(r->classes, dev);
}

/* ---- the index ----------------------------------------------------- */

static bool is_exact_hex(const char *s)
{
	return strlen(s) == 4 && strspn(s, "0123456789abcdef") == 4;
}

static uint64_t key_hash(const struct mg_rules_index *ix, const void *key, size_t len)
{
	uint8_t out[crypto_shorthash_BYTES];
	uint64_t h;

	crypto_shorthash(out, key, len, ix->key);
	memcpy(&h, out, sizeof(h));
	return h;
}

static uint64_t vidpid_hash(const struct mg_rules_index *ix, uint16_t vendor, uint16_t product)
{
	uint8_t key[4] = {(uint8_t)(vendor >> 8), (uint8_t)vendor, (uint8_t)(product >> 8), (uint8_t)product};

	return key_hash(ix, key, sizeof(key));
}

static struct table *table_of(struct mg_rules_index *ix, const struct mg_rule *r, uint64_t *h)
{
	if (r->hash) {
		*h = key_hash(ix, r->hash, MG_USB_HASH_BYTES);
		return &ix->by_hash;
	}
	if (r->serial) {
		*h = key_hash(ix, r->serial, strlen(r->serial));
		return &ix->by_serial;
	}
	if (is_exact_hex(r->vendor) && is_exact_hex(r->product)) {
		*h = vidpid_hash(ix, (uint16_t)strtoul(r->vendor, NULL, 16),
		                 (uint16_t)strtoul(r->product, NULL, 16));
		return &ix->by_vidpid;
	}
	return NULL;
}

static int table_init(struct table *t, size_t n)
{
	size_t size = 16;

	while (size < 2 * n)
		size <<= 1;
	t->mask = size - 1;
	t->heads = calloc(size, sizeof(*t->heads));
	return t->heads ? 0 : -ENOMEM;
}

static void index_free(struct mg_rules_index *ix)
{
	if (!ix)
		return;
	free(ix->by_hash.heads);
	free(ix->by_serial.heads);
	free(ix->by_vidpid.heads);
	free(ix->next);
	free(ix->scan);
	free(ix);
}

/* Rules go in back to front, so that every chain lists its rules in
 * policy order. */
static int index_build(const struct mg_rule *rules, size_t n, struct mg_rules_index **out)
{
	struct mg_rules_index *ix;

	if (sodium_init() < 0)
		return mg_fail(EIO, "devices: libsodium failed to initialise");
	ix = calloc(1, sizeof(*ix));
	if (!ix || table_init(&ix->by_hash, n) < 0 || table_init(&ix->by_serial, n) < 0 ||
	    table_init(&ix->by_vidpid, n) < 0 || !(ix->next = calloc(n, sizeof(*ix->next))) ||
	    !(ix->scan = calloc(n, sizeof(*ix->scan)))) {
		index_free(ix);
		return mg_fail(ENOMEM, "devices: out of memory for the rule index");
	}
	randombytes_buf(ix->key, sizeof(ix->key));
	for (size_t k = n; k-- > 0;) {
		uint64_t h;
		struct table *t = table_of(ix, &rules[k], &h);

		if (!t)
			continue;
		ix->next[k] = t->heads[h & t->mask];
		t->heads[h & t->mask] = (uint32_t)(k + 1);
	}
	for (size_t k = 0; k < n; k++) {
		uint64_t h;

		if (!table_of(ix, &rules[k], &h))
			ix->scan[ix->n_scan++] = (uint32_t)k;
	}
	*out = ix;
	return 0;
}

/* The first rule in the chain of h that matches dev, if it comes before
 * *best. */
static void chain_lookup(const struct mg_device_policy *p, const struct table *t, uint64_t h,
                         const struct mg_usbdev *dev, size_t *best)
{
	for (uint32_t i = t->heads[h & t->mask]; i && i - 1 < *best; i = p->index->next[i - 1])
		if (mg_rule_matches(&p->rules[i - 1], dev)) {
			*best = i - 1;
			return;
		}
}

/* The position of the first matching rule, or p->n_rules for none. */
static size_t first_match(const struct mg_device_policy *p, const struct mg_usbdev *dev)
{
	const struct mg_rules_index *ix = p->index;
	size_t best = p->n_rules;

	if (!ix)
		return best;
	chain_lookup(p, &ix->by_hash, key_hash(ix, dev->hash, MG_USB_HASH_BYTES), dev, &best);
	if (dev->serial[0])
		chain_lookup(p, &ix->by_serial, key_hash(ix, dev->serial, strlen(dev->serial)), dev, &best);
	chain_lookup(p, &ix->by_vidpid, vidpid_hash(ix, dev->vendor, dev->product), dev, &best);
	for (size_t k = 0; k < ix->n_scan && ix->scan[k] < best; k++)
		if (mg_rule_matches(&p->rules[ix->scan[k]], dev))
			return ix->scan[k];
	return best;
}

/* ---- deciding ------------------------------------------------------ */

static bool rule_names_identity(const struct mg_rule *r)
{
	return r->hash || r->serial;
}

static bool rule_names_model(const struct mg_rule *r)
{
	return rule_names_identity(r) || (is_exact_hex(r->vendor) && is_exact_hex(r->product));
}

static const struct mg_class_term *term_named(const char *name)
{
	for (size_t k = 0; k < MG_ARRAY_SIZE(class_names); k++)
		if (strcmp(class_names[k].name, name) == 0)
			return &class_names[k];
	return NULL;
}

static bool is_storage_hid_composite(const struct mg_usbdev *dev)
{
	return device_has_term(dev, term_named("hid")) &&
	       (device_has_term(dev, term_named("mass-storage")) || device_has_term(dev, term_named("network")) ||
	        device_has_term(dev, term_named("mtp")) || device_has_term(dev, term_named("wireless")));
}

static enum mg_target iface_target(const struct mg_rule *r, enum mg_target device,
                                   const struct mg_usb_interface *i)
{
	const struct mg_rule_classes *c = r ? r->classes : NULL;

	for (size_t k = 0; c && k < c->n_ifaces; k++)
		if (mg_class_term_matches(&c->ifaces[k].term, &i->cls, i->mtp))
			return c->ifaces[k].target;
	if (device != MG_TARGET_READ_ONLY)
		return device;
	/* Read-only grants storage and nothing else. */
	return mg_class_term_matches(term_named("mass-storage"), &i->cls, false) ? MG_TARGET_READ_ONLY
	                                                                       : MG_TARGET_BLOCK;
}

static void set_ifaces(struct mg_decision *d, const struct mg_usbdev *dev, const struct mg_rule *r)
{
	for (size_t k = 0; k < MG_USB_MAX_INTERFACES; k++) {
		bool live = k < dev->n_interfaces && (d->target == MG_TARGET_ALLOW || d->target == MG_TARGET_READ_ONLY);

		d->ifaces[k] = live ? iface_target(r, d->target, &dev->interfaces[k]) : MG_TARGET_BLOCK;
	}
}

static void decide_by_rules(const struct mg_device_policy *p, const struct mg_usbdev *dev,
                            struct mg_decision *d, const struct mg_rule **by)
{
	size_t k = first_match(p, dev);

	if (k == p->n_rules) {
		d->target = p->default_target;
		snprintf(d->rule, sizeof(d->rule), "default");
		snprintf(d->reason, sizeof(d->reason), "no rule matched");
		*by = NULL;
		return;
	}
	*by = &p->rules[k];
	d->target = (*by)->target;
	snprintf(d->rule, sizeof(d->rule), "%s", (*by)->id);
	snprintf(d->reason, sizeof(d->reason), "rule %zu (\"%s\") matched", k, (*by)->id);
}

static bool decide_by_ticket(const struct mg_usbdev *dev, const struct mg_ticket *tickets,
                             size_t n, struct mg_decision *d)
{
	char when[MG_TIME_LEN];

	for (size_t k = 0; k < n; k++)
		if (mg_ticket_matches(&tickets[k], dev)) {
			d->target = tickets[k].mode;
			snprintf(d->rule, sizeof(d->rule), "ticket:%s", tickets[k].id);
			mg_time_format(tickets[k].expires, when);
			snprintf(d->reason, sizeof(d->reason), "ticket %s, valid until %s", tickets[k].id, when);
			return true;
		}
	return false;
}

/* The guards only ever make a decision stricter. */
static void apply_guards(const struct mg_device_policy *p, const struct mg_usbdev *dev, unsigned flags,
                         bool ticket, const struct mg_rule *by, struct mg_decision *d)
{
	bool permitted = d->target == MG_TARGET_ALLOW || d->target == MG_TARGET_READ_ONLY;

	if (!permitted || ticket)
		return;
	if (p->composite_block && !(by && rule_names_identity(by)) && is_storage_hid_composite(dev)) {
		d->target = MG_TARGET_BLOCK;
		snprintf(d->rule, sizeof(d->rule), "composite-storage-hid");
		snprintf(d->reason, sizeof(d->reason),
		         "storage or network together with HID in one device (BadUSB)");
		return;
	}
	if (p->hold_new_hid && !(flags & MG_DECIDE_PRESENT) && !(by && rule_names_model(by)) &&
	    device_has_term(dev, term_named("hid"))) {
		d->target = MG_TARGET_HOLD;
		snprintf(d->rule, sizeof(d->rule), "new-keyboard");
		snprintf(d->reason, sizeof(d->reason),
		         "HID device not registered by identity: held until approved");
	}
}

void mg_rules_decide(const struct mg_device_policy *p, const struct mg_usbdev *dev,
                     const struct mg_ticket *tickets, size_t n_tickets, unsigned flags,
                     struct mg_decision *out)
{
	const struct mg_rule *by = NULL;
	bool ticket;

	memset(out, 0, sizeof(*out));
	if (dev->root_hub) {
		out->target = MG_TARGET_ALLOW;
		snprintf(out->rule, sizeof(out->rule), "root-hub");
		snprintf(out->reason, sizeof(out->reason), "a host controller's root hub");
		set_ifaces(out, dev, NULL);
		return;
	}
	ticket = decide_by_ticket(dev, tickets, n_tickets, out);
	if (!ticket)
		decide_by_rules(p, dev, out, &by);
	apply_guards(p, dev, flags, ticket, by, out);
	set_ifaces(out, dev, by);
}

/* ---- names ----------------------------------------------------------- */

static const char *const target_names[] = {
	[MG_TARGET_BLOCK] = "block",
	[MG_TARGET_ALLOW] = "allow",
	[MG_TARGET_READ_ONLY] = "read-only",
	[MG_TARGET_HOLD] = "hold",
};

const char *mg_target_name(enum mg_target t)
{
	return (size_t)t < MG_ARRAY_SIZE(target_names) ? target_names[t] : "block";
}

int mg_target_parse(const char *s, enum mg_target *out)
{
	for (size_t k = 0; k < MG_ARRAY_SIZE(target_names); k++)
		if (k != MG_TARGET_HOLD && strcmp(s, target_names[k]) == 0) {
			*out = (enum mg_target)k;
			return 0;
		}
	return mg_fail(EINVAL, "\"%s\": expected allow, block or read-only", s);
}

/* ---- parsing --------------------------------------------------------- */

static const char *const policy_targets[] = {"block", "allow", "read-only", NULL};

static int get_target(const json_t *obj, const char *key, const char *where, bool required,
                      enum mg_target *out)
{
	int v = -1, r;

	r = mg_json_get_enum(obj, key, where, required, policy_targets, &v);
	if (r == 0 && v >= 0)
		*out = (enum mg_target)v;
	return r;
}

static int parse_class_list(const json_t *obj, const char *key, const char *where,
                            struct mg_class_list *out)
{
	char here[MG_WHERE_MAX];
	json_t *arr = NULL, *v;
	size_t k;
	int r;

	r = mg_json_get_array(obj, key, where, false, &arr);
	if (r < 0 || !arr)
		return r;
	mg_json_where_key(here, where, key);
	if (json_array_size(arr) == 0 || json_array_size(arr) > 64)
		return mg_fail(EINVAL, "%s: expected 1 to 64 class names", here);
	out->terms = calloc(json_array_size(arr), sizeof(*out->terms));
	if (!out->terms)
		return mg_fail(ENOMEM, "%s: out of memory", here);
	json_array_foreach(arr, k, v) {
		char item[MG_WHERE_MAX];

		mg_json_where_index(item, here, k);
		if (!json_is_string(v))
			return mg_fail(EINVAL, "%s: expected a string", item);
		if (mg_class_term_parse(json_string_value(v), &out->terms[k]) < 0)
			return mg_error_prefix(-EINVAL, "%s", item);
		out->n++;
	}
	return 0;
}

static struct mg_rule_classes *rule_classes(struct mg_rule *rule)
{
	if (!rule->classes)
		rule->classes = calloc(1, sizeof(*rule->classes));
	return rule->classes;
}

static int parse_classes(const json_t *obj, const char *where, struct mg_rule *rule)
{
	static const char *const keys[] = {"one-of", "all-of", "none-of", NULL};
	struct mg_rule_classes *c = rule_classes(rule);
	int r;

	if (!c)
		return mg_fail(ENOMEM, "%s: out of memory", where);
	r = mg_json_only_keys(obj, where, keys);
	if (r == 0) r = parse_class_list(obj, "one-of", where, &c->one_of);
	if (r == 0) r = parse_class_list(obj, "all-of", where, &c->all_of);
	if (r == 0) r = parse_class_list(obj, "none-of", where, &c->none_of);
	return r;
}

/* "0781", "55*", "5?81": up to 4 hex digits and glob characters. */
static int parse_hex_glob(const json_t *obj, const char *key, const char *where, char out[5])
{
	char here[MG_WHERE_MAX];
	const char *s = NULL;
	int r;

	r = mg_json_get_string(obj, key, where, false, &s);
	if (r < 0 || !s)
		return r;
	mg_json_where_key(here, where, key);
	if (!s[0] || strlen(s) > 4 || strspn(s, "0123456789abcdefABCDEF*?") != strlen(s) ||
	    (!strpbrk(s, "*?") && strlen(s) != 4))
		return mg_fail(EINVAL, "%s: expected 4 hex digits, or a pattern of them with * and ?", here);
	for (size_t k = 0; k <= strlen(s); k++)
		out[k] = (char)(s[k] >= 'A' && s[k] <= 'F' ? s[k] | 0x20 : s[k]);
	return 0;
}

static int parse_hash_field(const json_t *obj, const char *key, const char *where, uint8_t **out)
{
	const char *s = NULL;
	int r;

	r = mg_json_get_string(obj, key, where, false, &s);
	if (r < 0 || !s)
		return r;
	*out = malloc(MG_USB_HASH_BYTES);
	if (!*out)
		return mg_fail(ENOMEM, "%s.%s: out of memory", where, key);
	if (mg_usb_hash_parse(s, *out) < 0)
		return mg_fail(EINVAL, "%s.%s: expected %d hex digits", where, key, 2 * MG_USB_HASH_BYTES);
	return 0;
}

static int parse_string_field(const json_t *obj, const char *key, const char *where, size_t max,
                              char **out)
{
	const char *s = NULL;
	int r;

	r = mg_json_get_string(obj, key, where, false, &s);
	if (r < 0 || !s)
		return r;
	if (!s[0] || strlen(s) > max)
		return mg_fail(EINVAL, "%s.%s: expected 1 to %zu bytes", where, key, max);
	*out = strdup(s);
	return *out ? 0 : mg_fail(ENOMEM, "%s.%s: out of memory", where, key);
}

static int parse_connect(const json_t *obj, const char *where, struct mg_rule *rule)
{
	static const char *const names[] = {"hotplug", "hardwired", NULL};
	int v = -1, r;

	r = mg_json_get_enum(obj, "connect", where, false, names, &v);
	if (r == 0 && v >= 0)
		rule->connect = v == 0 ? MG_USB_CONNECT_HOTPLUG : MG_USB_CONNECT_HARDWIRED;
	return r;
}

static int parse_match(const json_t *obj, const char *where, struct mg_rule *rule)
{
	static const char *const keys[] = {"vendor", "product", "serial", "hash", "parent_hash", "port",
	                                   "connect", "classes", NULL};
	char here[MG_WHERE_MAX];
	json_t *classes = NULL;
	int r;

	r = mg_json_only_keys(obj, where, keys);
	if (r == 0) r = parse_hex_glob(obj, "vendor", where, rule->vendor);
	if (r == 0) r = parse_hex_glob(obj, "product", where, rule->product);
	if (r == 0) r = parse_string_field(obj, "serial", where, MG_USB_STRING_MAX - 1, &rule->serial);
	if (r == 0) r = parse_hash_field(obj, "hash", where, &rule->hash);
	if (r == 0) r = parse_hash_field(obj, "parent_hash", where, &rule->parent_hash);
	if (r == 0) r = parse_string_field(obj, "port", where, MG_USB_NAME_MAX - 1, &rule->port);
	if (r == 0) r = parse_connect(obj, where, rule);
	if (r == 0) r = mg_json_get_object(obj, "classes", where, false, &classes);
	if (r == 0 && classes) {
		mg_json_where_key(here, where, "classes");
		r = parse_classes(classes, here, rule);
	}
	return r;
}

static int parse_ifaces(const json_t *obj, const char *where, struct mg_rule *rule)
{
	struct mg_rule_classes *c = rule_classes(rule);
	const char *name;
	json_t *v;

	if (json_object_size(obj) == 0 || json_object_size(obj) > 16)
		return mg_fail(EINVAL, "%s: expected 1 to 16 class names", where);
	if (!c || !(c->ifaces = calloc(json_object_size(obj), sizeof(*c->ifaces))))
		return mg_fail(ENOMEM, "%s: out of memory", where);
	json_object_foreach((json_t *)obj, name, v) {
		struct mg_iface_target *t = &c->ifaces[c->n_ifaces];
		char here[MG_WHERE_MAX];

		mg_json_where_key(here, where, name);
		if (mg_class_term_parse(name, &t->term) < 0)
			return mg_error_prefix(-EINVAL, "%s", here);
		if (!json_is_string(v) || mg_target_parse(json_string_value(v), &t->target) < 0)
			return mg_fail(EINVAL, "%s: expected \"allow\", \"block\" or \"read-only\"", here);
		c->n_ifaces++;
	}
	return 0;
}

static int check_id(const char *id, const char *where, json_t *seen, size_t index)
{
	json_t *prev;

	if (!id[0] || strlen(id) > MG_RULE_ID_MAX ||
	    strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != strlen(id))
		return mg_fail(EINVAL, "%s.id: expected 1 to %d of A-Z a-z 0-9 . _ -", where, MG_RULE_ID_MAX);
	prev = json_object_get(seen, id);
	if (prev)
		return mg_fail(EINVAL, "%s.id: \"%s\" is already the id of rules[%lld]", where, id,
		               (long long)json_integer_value(prev));
	if (json_object_set_new(seen, id, json_integer((json_int_t)index)) < 0)
		return mg_fail(ENOMEM, "%s: out of memory", where);
	return 0;
}

static int parse_rule(const json_t *obj, const char *where, size_t index, json_t *seen,
                      struct mg_rule *rule)
{
	static const char *const keys[] = {"id", "comment", "match", "target", "interfaces", NULL};
	char here[MG_WHERE_MAX];
	json_t *match = NULL, *ifaces = NULL;
	const char *id = NULL, *comment = NULL;
	int r;

	if (!json_is_object(obj))
		return mg_fail(EINVAL, "%s: expected an object", where);
	rule->position = (uint32_t)index;
	r = mg_json_only_keys(obj, where, keys);
	if (r == 0) r = mg_json_get_string(obj, "id", where, true, &id);
	if (r == 0) r = check_id(id, where, seen, index);
	if (r == 0) r = mg_json_get_string(obj, "comment", where, false, &comment);
	if (r == 0 && !(rule->id = strdup(id))) r = mg_fail(ENOMEM, "%s: out of memory", where);
	if (r == 0) r = get_target(obj, "target", where, true, &rule->target);
	if (r == 0) r = mg_json_get_object(obj, "match", where, true, &match);
	if (r == 0) {
		mg_json_where_key(here, where, "match");
		r = parse_match(match, here, rule);
	}
	if (r == 0) r = mg_json_get_object(obj, "interfaces", where, false, &ifaces);
	if (r == 0 && ifaces) {
		mg_json_where_key(here, where, "interfaces");
		r = parse_ifaces(ifaces, here, rule);
	}
	return r;
}

static int parse_rules(const json_t *arr, const char *where, struct mg_device_policy *p)
{
	_cleanup_json_ json_t *seen = json_object();
	size_t n = json_array_size(arr);
	int r;

	if (!seen)
		return mg_fail(ENOMEM, "%s: out of memory", where);
	if (n > MG_RULES_MAX)
		return mg_fail(E2BIG, "%s: more than %d rules", where, MG_RULES_MAX);
	if (n == 0)
		return 0;
	p->rules = calloc(n, sizeof(*p->rules));
	if (!p->rules)
		return mg_fail(ENOMEM, "%s: out of memory", where);
	for (size_t k = 0; k < n; k++) {
		char here[MG_WHERE_MAX];

		mg_json_where_index(here, where, k);
		p->n_rules = k + 1;
		r = parse_rule(json_array_get(arr, k), here, k, seen, &p->rules[k]);
		if (r < 0)
			return r;
	}
	return index_build(p->rules, p->n_rules, &p->index);
}

static int parse_media(const json_t *obj, const char *where, struct mg_device_policy *p)
{
	static const char *const keys[] = {"sd", "optical", "removable", NULL};
	int r;

	r = mg_json_only_keys(obj, where, keys);
	for (size_t k = 0; r == 0 && k < MG_MEDIA_COUNT; k++)
		r = get_target(obj, keys[k], where, false, &p->media[k]);
	return r;
}

static int parse_switch(const json_t *obj, const char *key, const char *where, const char *on,
                        const char *off, bool *out)
{
	const char *const names[] = {on, off, NULL};
	int v = -1, r;

	r = mg_json_get_enum(obj, key, where, false, names, &v);
	if (r == 0 && v >= 0)
		*out = v == 0;
	return r;
}

static int parse_section(const json_t *obj, const char *where, struct mg_device_policy *p)
{
	static const char *const keys[] = {"default", "present_devices", "audit_only",
	                                   "composite_storage_hid", "new_keyboards", "media", "rules", NULL};
	static const char *const present[] = {"apply-policy", "keep", "block", NULL};
	char here[MG_WHERE_MAX];
	json_t *media = NULL, *rules = NULL;
	int v = -1, r;

	r = mg_json_only_keys(obj, where, keys);
	if (r == 0) r = get_target(obj, "default", where, false, &p->default_target);
	if (r == 0) r = mg_json_get_enum(obj, "present_devices", where, false, present, &v);
	if (r == 0 && v >= 0) p->present = (enum mg_present_mode)v;
	if (r == 0) r = mg_json_get_bool(obj, "audit_only", where, false, &p->audit_only);
	if (r == 0) r = parse_switch(obj, "composite_storage_hid", where, "block", "rules", &p->composite_block);
	if (r == 0) r = parse_switch(obj, "new_keyboards", where, "hold", "rules", &p->hold_new_hid);
	if (r == 0) r = mg_json_get_object(obj, "media", where, false, &media);
	if (r == 0 && media) {
		mg_json_where_key(here, where, "media");
		r = parse_media(media, here, p);
	}
	if (r == 0) r = mg_json_get_array(obj, "rules", where, false, &rules);
	if (r == 0 && rules) {
		mg_json_where_key(here, where, "rules");
		r = parse_rules(rules, here, p);
	}
	return r;
}

void mg_device_policy_defaults(struct mg_device_policy *p)
{
	*p = (struct mg_device_policy){
		.default_target = MG_TARGET_BLOCK,
		.present = MG_PRESENT_APPLY,
		.composite_block = true,
		.hold_new_hid = true,
		.media = {MG_TARGET_BLOCK, MG_TARGET_BLOCK, MG_TARGET_BLOCK},
	};
}

/* A section that fails to parse leaves nothing half-built behind: the
 * caller's policy is thrown away whole, and the last good one stays. */
int mg_device_policy_parse(const json_t *obj, const char *where, struct mg_device_policy *p)
{
	int r = parse_section(obj, where, p);

	if (r < 0) {
		mg_device_policy_free(p);
		mg_device_policy_defaults(p);
	}
	return r;
}

static void rule_free(struct mg_rule *r)
{
	free(r->id);
	free(r->serial);
	free(r->port);
	free(r->hash);
	free(r->parent_hash);
	if (r->classes) {
		free(r->classes->one_of.terms);
		free(r->classes->all_of.terms);
		free(r->classes->none_of.terms);
		free(r->classes->ifaces);
		free(r->classes);
	}
}

void mg_device_policy_free(struct mg_device_policy *p)
{
	for (size_t k = 0; k < p->n_rules; k++)
		rule_free(&p->rules[k]);
	free(p->rules);
	index_free(p->index);
	p->rules = NULL;
	p->index = NULL;
	p->n_rules = 0;
}
