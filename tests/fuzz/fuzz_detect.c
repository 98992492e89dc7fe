/* Fuzzes the detector and checks every answer against a slow reference
 * written from the rules in detect.h: classify each byte position by
 * decoding code points, list the runs, join them into chains, then apply
 * the check digits from weight tables (not the library's loops).  Any
 * difference aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mynaguard/detect.h"

#define MAXF 4096

struct list {
	size_t n;
	struct mg_finding f[MAXF];
};

static int collect(const struct mg_finding *f, void *userdata)
{
	struct list *l = userdata;

	if (l->n < MAXF)
		l->f[l->n++] = *f;
	return 0;
}

/* The code point of a 3-byte UTF-8 sequence at i, or 0. */
static unsigned cp3(const uint8_t *p, size_t len, size_t i)
{
	if (i + 2 >= len || (p[i] & 0xF0) != 0xE0 || (p[i + 1] & 0xC0) != 0x80 ||
	    (p[i + 2] & 0xC0) != 0x80)
		return 0;
	return (p[i] & 0x0Fu) << 12 | (p[i + 1] & 0x3Fu) << 6 | (p[i + 2] & 0x3Fu);
}

static unsigned ref_digit(const uint8_t *p, size_t len, size_t i, uint8_t *v)
{
	unsigned c = cp3(p, len, i);

	if (p[i] >= '0' && p[i] <= '9') {
		*v = p[i] - '0';
		return 1;
	}
	if (c >= 0xFF10 && c <= 0xFF19) {
		*v = (uint8_t)(c - 0xFF10);
		return 3;
	}
	return 0;
}

static unsigned ref_sep(const uint8_t *p, size_t len, size_t i)
{
	unsigned c = cp3(p, len, i);

	if (p[i] == ' ' || p[i] == '-')
		return 1;
	if (c == 0x3000 || c == 0xFF0D || (c >= 0x2010 && c <= 0x2013) || c == 0x2212 ||
	    c == 0x30FC)
		return 3;
	return 0;
}

static bool ref_kojin(const uint8_t *d)
{
	static const unsigned w[11] = {6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
	unsigned sum = 0, check;

	for (int k = 0; k < 11; k++)
		sum += d[k] * w[k];
	check = sum % 11 <= 1 ? 0 : 11 - sum % 11;
	return d[11] == check;
}

static bool ref_hojin(const uint8_t *d)
{
	static const unsigned w[12] = {2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1};
	unsigned sum = 0;

	for (int k = 0; k < 12; k++)
		sum += d[k + 1] * w[k];
	return d[0] == 9 - sum % 9;
}

struct run {
	size_t start, end;      /* bytes */
	unsigned n;             /* digits */
	uint8_t d[32];          /* the first 32 digits */
};

static void ref_add(struct list *l, unsigned det, size_t start, size_t end, const uint8_t *d)
{
	struct mg_finding f = {.detector = det, .offset = start, .length = end - start};

	memcpy(f.digits, d, det == 0 ? 12 : 13);
	if (l->n < MAXF)
		l->f[l->n++] = f;
}

static void ref_check(struct list *l, mg_detect_set set, size_t start, size_t end,
                      const uint8_t *d, unsigned n)
{
	if ((set & 1) && n == 12 && ref_kojin(d))
		ref_add(l, 0, start, end, d);
	if ((set & 2) && n == 13 && ref_hojin(d))
		ref_add(l, 1, start, end, d);
}

static void reference(const uint8_t *p, size_t len, mg_detect_set set, struct list *out)
{
	struct run *runs = calloc(len + 1, sizeof(*runs));
	size_t nruns = 0;
	uint8_t v;

	/* Runs, left to right. */
	for (size_t i = 0; i < len;) {
		unsigned w = ref_digit(p, len, i, &v);
		if (!w) {
			i++;
			continue;
		}
		struct run *r = &runs[nruns++];
		r->start = i;
		while (i < len && (w = ref_digit(p, len, i, &v))) {
			if (r->n < 32)
				r->d[r->n] = v;
			r->n++;
			i += w;
		}
		r->end = i;
	}
	/* Chains: runs joined by one and the same separator. */
	for (size_t k = 0; k < nruns;) {
		size_t first = k;
		unsigned sw = 0;
		const uint8_t *sep = NULL;
		for (;;) {
			ref_check(out, set, runs[k].start, runs[k].end, runs[k].d, runs[k].n);
			if (k + 1 >= nruns)
				break;
			unsigned w = runs[k].end < len ? ref_sep(p, len, runs[k].end) : 0;
			if (!w || runs[k + 1].start != runs[k].end + w)
				break;
			if (sep && (w != sw || memcmp(sep, p + runs[k].end, w)))
				break;
			sep = p + runs[k].end;
			sw = w;
			k++;
		}
		size_t count = k - first + 1;
		uint8_t d[13];
		unsigned total = 0;
		for (size_t j = first; j <= k; j++)
			total += runs[j].n;
		if (count == 3 && (set & 1) && total == 12 && runs[first].n == 4 &&
		    runs[first + 1].n == 4 && runs[first + 2].n == 4) {
			memcpy(d, runs[first].d, 4);
			memcpy(d + 4, runs[first + 1].d, 4);
			memcpy(d + 8, runs[first + 2].d, 4);
			if (ref_kojin(d))
				ref_add(out, 0, runs[first].start, runs[k].end, d);
		}
		if (count == 4 && (set & 2) && runs[first].n == 1 && runs[first + 1].n == 4 &&
		    runs[first + 2].n == 4 && runs[first + 3].n == 4) {
			d[0] = runs[first].d[0];
			memcpy(d + 1, runs[first + 1].d, 4);
			memcpy(d + 5, runs[first + 2].d, 4);
			memcpy(d + 9, runs[first + 3].d, 4);
			if (ref_hojin(d))
				ref_add(out, 1, runs[first].start, runs[k].end, d);
		}
		k++;
	}
	free(runs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct list fast, slow;
	mg_detect_set set = size ? (data[0] & 3) : MG_DETECT_ALL;
	char mask[MG_DETECT_MASK_MAX];

	fast.n = slow.n = 0;
	mg_detect_scan(data, size, set, collect, &fast);
	reference(data, size, set, &slow);
	if (fast.n != slow.n)
		abort();
	for (size_t k = 0; k < fast.n; k++) {
		const struct mg_finding *a = &fast.f[k], *b = &slow.f[k];
		if (a->detector != b->detector || a->offset != b->offset || a->length != b->length ||
		    memcmp(a->digits, b->digits, mg_detectors[a->detector].digits) != 0)
			abort();
		mg_finding_mask(a, mask);
		if (strlen(mask) != mg_detectors[a->detector].digits)
			abort();
	}
	return 0;
}
