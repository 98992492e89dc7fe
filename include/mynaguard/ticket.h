/* Tickets: signed, temporary exceptions for one device on one host.
 *
 * An administrator issues one offline (mynaguard-admin ticket) and reads it
 * to the terminal's operator over the phone or shows its QR code; the
 * operator enters it with `mynaguardctl ticket apply CODE`.  The wire form
 * is compact binary (docs/devices.md "Tickets"):
 *
 *   version   1 byte   1
 *   flags     1 byte   bits 0-1 mode (1 allow, 2 read-only),
 *                      bits 2-3 binding (1 serial, 2 hash)
 *   expires   4 bytes  seconds since the epoch, big-endian
 *   host      8 bytes  BLAKE2b-64("mynaguard-ticket-host-v1" || host name)
 *   device    serial: 1 byte length (1..64) + the serial's bytes
 *             hash:   16 bytes, the first half of the descriptor hash
 *   signature 64 bytes Ed25519 over "mynaguard-ticket-v1" || all of the above
 *
 * written as RFC 4648 base32 without padding (liboath), in groups of four
 * characters separated by '-', so "ABCD-EFGH-..." can be read aloud; input
 * ignores case, spaces and dashes.  A hash-bound ticket is 151 characters
 * of base32, 188 with the dashes.
 *
 * A ticket verifies against any policy key of the pinned keyring (one
 * signature suffices: it names one device for a short time), must be bound
 * to this host, and must not have expired at max(now, clock floor) of the
 * terminal state, so turning the clock back does not extend it.  Applied
 * tickets are stored as STATE/tickets/ID (the text form) and re-verified by
 * every reader; each apply and each use is audited. */
#ifndef MYNAGUARD_TICKET_H
#define MYNAGUARD_TICKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mynaguard/key.h"
#include "mynaguard/keyring.h"
#include "mynaguard/rules.h"
#include "mynaguard/usbdev.h"

#define MG_TICKET_VERSION 1
#define MG_TICKET_DOMAIN "mynaguard-ticket-v1"
#define MG_TICKET_HOST_DOMAIN "mynaguard-ticket-host-v1"
#define MG_TICKET_HOST_BYTES 8
#define MG_TICKET_HASH_BYTES 16
#define MG_TICKET_SERIAL_MAX 64
#define MG_TICKET_ID_HEX 17        /* 16 hex digits and the NUL */
#define MG_TICKET_TEXT_MAX 256     /* longest text form accepted */
#define MG_TICKET_DIR "tickets"    /* below the state directory */
#define MG_TICKETS_MAX 256         /* stored tickets read at most */

/* What a ticket binds to. */
enum mg_ticket_bind {
	MG_TICKET_BIND_SERIAL = 1,     /* the device's serial string */
	MG_TICKET_BIND_HASH = 2,       /* the device's descriptor hash (first 16 bytes) */
};

/* A ticket. */
struct mg_ticket {
	char id[MG_TICKET_ID_HEX];     /* BLAKE2b-64 of the signed bytes, hex: names it in
	                                  audit records, listings and STATE/tickets/ */
	enum mg_target mode;           /* MG_TARGET_ALLOW or MG_TARGET_READ_ONLY */
	enum mg_ticket_bind bind;      /* what device binds to */
	char serial[MG_TICKET_SERIAL_MAX + 1]; /* bind SERIAL: the serial */
	uint8_t hash[MG_TICKET_HASH_BYTES];    /* bind HASH: descriptor hash prefix */
	int64_t expires;               /* seconds since the epoch */
	uint8_t host[MG_TICKET_HOST_BYTES];    /* tag of the host name it is for */
	uint8_t key_id[MG_KEY_ID_BYTES];       /* policy key that signed it (after verify) */
};

/* The host tag of a host name. */
void mg_ticket_host_tag(const char *host, uint8_t tag[MG_TICKET_HOST_BYTES]);

/* Signs t (mode, bind, serial/hash, expires, host) with k and returns the
 * grouped base32 text (malloc'd) in *text; t->id is filled in. */
int mg_ticket_issue(struct mg_ticket *t, const struct mg_secret_key *k, char **text);

/* Decodes text without checking the signature (listing, fuzzing). */
int mg_ticket_decode(const char *text, struct mg_ticket *out);

/* Decodes and verifies text: a signature by one of the keyring's policy
 * keys, bound to host, not expired at now.  -EKEYREJECTED for a bad
 * signature, -EXDEV for another host, -ETIME when expired. */
int mg_ticket_verify(const char *text, const struct mg_keyring *kr, const char *host,
                     int64_t now, struct mg_ticket *out);

/* Does t name dev? */
bool mg_ticket_matches(const struct mg_ticket *t, const struct mg_usbdev *dev);

/* The time tickets are judged at: max(mg_now(), the state's clock floor). */
int mg_ticket_now(const char *state_dir, int64_t *now);

/* Verifies text against the pinned keyring, host name and clock of
 * state_dir and stores it as STATE/tickets/ID. */
int mg_ticket_apply(const char *state_dir, const char *text, struct mg_ticket *out);

/* Reads every stored ticket that still verifies; the others (expired,
 * damaged, for another keyring) are skipped and expired ones removed.
 * *out is malloc'd (NULL when none). */
int mg_ticket_load_all(const char *state_dir, struct mg_ticket **out, size_t *n);

/* The text as a QR code for a terminal: lines of Unicode half blocks
 * (two modules per character), with the quiet zone (malloc'd). */
int mg_ticket_qr(const char *text, char **out);

#endif
