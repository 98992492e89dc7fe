#include <stdio.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "mynaguard/detect.h"
#include "mynaguard/error.h"

/* 個人番号: P_n is the n-th of the first 11 digits counted from the right,
 * Q_n = n+1 for n <= 6 and n-5 for n >= 7; the 12th digit is 0 when
 * (sum P_n*Q_n) mod 11 <= 1, else 11 minus it. */
bool mg_detect_kojin_valid(const uint8_t d[12])
{
	unsigned sum = 0, r;

	for (unsigned n = 1; n <= 11; n++)
		sum += d[11 - n] * (n <= 6 ? n + 1 : n - 5);
	r = sum % 11;
	return d[11] == (r <= 1 ? 0 : 11 - r);
}

/* 法人番号: the first digit checks the other 12; P_n is the n-th of those
 * counted from the right, Q_n = 1 for odd n and 2 for even n; the check
 * digit is 9 - (sum P_n*Q_n) mod 9. */
bool mg_detect_hojin_valid(const uint8_t d[13])
{
	unsigned sum = 0;

	for (unsigned n = 1; n <= 12; n++)
		sum += d[13 - n] * (n % 2 ? 1 : 2);
	return d[0] == 9 - sum % 9;
}

const struct mg_detector mg_detectors[] = {
	{
		.name = "kojin", .label = "個人番号", .digits = 12,
		.layouts = {{4, 4, 4}}, .nlayouts = 1,
		.valid = mg_detect_kojin_valid,
	},
	{
		.name = "hojin", .label = "法人番号", .digits = 13,
		.layouts = {{1, 4, 4, 4}}, .nlayouts = 1,
		.valid = mg_detect_hojin_valid,
	},
};
const unsigned mg_ndetectors = sizeof(mg_detectors) / sizeof(mg_detectors[0]);

/* The scanner's state over one buffer. */
struct scan {
	const uint8_t *p;             /* the text */
	size_t len;                   /* its bytes */
	mg_detect_set set;            /* detectors that apply */
	mg_detect_cb cb;              /* where findings go */
	void *userdata;               /* handed to cb */
	/* has_length[n]: a detector in set has n digits; n runs to MAX+1 ("longer") */
	bool has_length[MG_DETECT_MAX_DIGITS + 2];
};

/* Returns the byte index of the next possible digit at or after i: an
 * ASCII digit or 0xEF, the first byte of a full-width digit.  This is where
 * nearly all the time goes, so it looks at 16 bytes per step. */
static size_t skip_to_digit(const uint8_t *p, size_t i, size_t len)
{
#if defined(__SSE2__)
	const __m128i zero = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9);
	const __m128i ef = _mm_set1_epi8((char)0xEF);

	for (; i + 16 <= len; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(p + i));
		__m128i d = _mm_sub_epi8(x, zero);
		__m128i is_digit = _mm_cmpeq_epi8(_mm_min_epu8(d, nine), d);
		int mask = _mm_movemask_epi8(_mm_or_si128(is_digit, _mm_cmpeq_epi8(x, ef)));
		if (mask)
			return i + (size_t)__builtin_ctz((unsigned)mask);
	}
#endif
	for (; i < len; i++)
		if ((uint8_t)(p[i] - '0') < 10 || p[i] == 0xEF)
			return i;
	return len;
}

/* The digit at i: its width in bytes (0 when there is none) and value. */
static inline unsigned digit_at(const uint8_t *p, size_t i, size_t len, uint8_t *value)
{
	if ((uint8_t)(p[i] - '0') < 10) {
		*value = p[i] - '0';
		return 1;
	}
	if (p[i] == 0xEF && len - i >= 3 && p[i + 1] == 0xBC && (uint8_t)(p[i + 2] - 0x90) < 10) {
		*value = p[i + 2] - 0x90;
		return 3;
	}
	return 0;
}

/* The width of the separator at i, 0 when there is none. */
static unsigned separator_at(const uint8_t *p, size_t i, size_t len)
{
	if (p[i] == ' ' || p[i] == '-')
		return 1;
	if (len - i < 3)
		return 0;
	switch (p[i]) {
	case 0xE2:   /* U+2010..U+2013 hyphens and dashes, U+2212 minus */
		return (p[i + 1] == 0x80 && p[i + 2] >= 0x90 && p[i + 2] <= 0x93) ||
		       (p[i + 1] == 0x88 && p[i + 2] == 0x92) ? 3 : 0;
	case 0xE3:   /* U+3000 ideographic space, U+30FC prolonged sound mark */
		return (p[i + 1] == 0x80 && p[i + 2] == 0x80) ||
		       (p[i + 1] == 0x83 && p[i + 2] == 0xBC) ? 3 : 0;
	case 0xEF:   /* U+FF0D full-width hyphen-minus */
		return p[i + 1] == 0xBC && p[i + 2] == 0x8D ? 3 : 0;
	default:
		return 0;
	}
}

/* How many ASCII digits stand at pos: 16 bytes per step, so a run costs
 * one branch instead of one per digit. */
static size_t ascii_digits(const uint8_t *p, size_t pos, size_t len)
{
	size_t start = pos;

#if defined(__SSE2__)
	const __m128i zero = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9);

	for (; pos + 16 <= len; pos += 16) {
		__m128i d = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(p + pos)), zero);
		unsigned mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, nine), d));
		if (mask != 0xFFFF)
			return pos - start + (size_t)__builtin_ctz(~mask);
	}
#endif
	while (pos < len && (uint8_t)(p[pos] - '0') < 10)
		pos++;
	return pos - start;
}

/* Copies the digit values in p[start..end) (digits and separators) into
 * out.  Digits are only read out for the rare candidate, never per run. */
static void digits_of(const uint8_t *p, size_t start, size_t end, uint8_t *out)
{
	for (size_t i = start; i < end;) {
		uint8_t v;
		unsigned w = digit_at(p, i, end, &v);
		if (w)
			*out++ = v;
		i += w ? w : 1;
	}
}

/* One chain of runs as it is read. */
struct chain {
	size_t start;                               /* byte offset of its first digit */
	unsigned nruns;                             /* runs so far */
	uint8_t lengths[MG_DETECT_MAX_GROUPS];      /* digits of the first runs */
	unsigned ndigits;                           /* digits so far, stopping at MAX+1 */
};

static int report(struct scan *s, unsigned det, size_t start, size_t end)
{
	struct mg_finding f = {.detector = det, .offset = start, .length = end - start};

	digits_of(s->p, start, end, f.digits);
	if (!mg_detectors[det].valid(f.digits))
		return 0;
	return s->cb(&f, s->userdata);
}

/* A run with exactly a detector's digit count stands on its own. */
static int check_run(struct scan *s, size_t start, size_t end, unsigned n)
{
	if (!s->has_length[n])
		return 0;
	for (unsigned det = 0; det < mg_ndetectors; det++) {
		if ((s->set >> det & 1) && mg_detectors[det].digits == n) {
			int r = report(s, det, start, end);
			if (r)
				return r;
		}
	}
	return 0;
}

static bool layout_matches(const uint8_t layout[MG_DETECT_MAX_GROUPS], const struct chain *c)
{
	unsigned n = 0;

	while (n < MG_DETECT_MAX_GROUPS && layout[n])
		n++;
	if (n != c->nruns)
		return false;
	for (unsigned k = 0; k < n; k++)
		if (layout[k] != c->lengths[k])
			return false;
	return true;
}

/* A chain of two or more runs in one of a detector's layouts. */
static int check_chain(struct scan *s, const struct chain *c, size_t end)
{
	if (c->nruns < 2 || c->nruns > MG_DETECT_MAX_GROUPS || !s->has_length[c->ndigits])
		return 0;
	for (unsigned det = 0; det < mg_ndetectors; det++) {
		const struct mg_detector *d = &mg_detectors[det];
		if (!(s->set >> det & 1) || c->ndigits != d->digits)
			continue;
		for (unsigned l = 0; l < d->nlayouts; l++)
			if (layout_matches(d->layouts[l], c))
				return report(s, det, c->start, end);
	}
	return 0;
}

/* Reads the run at *i (a digit is there), adds it to c, checks it alone. */
static int read_run(struct scan *s, struct chain *c, size_t *i)
{
	const uint8_t *p = s->p;
	size_t pos = *i, start = *i, len = s->len, n = 0;
	uint8_t v;

	for (;;) {
		size_t k = ascii_digits(p, pos, len);
		n += k;
		pos += k;
		if (pos >= len || p[pos] != 0xEF || !digit_at(p, pos, len, &v))
			break;
		n++;
		pos += 3;
	}
	*i = pos;
	if (n > MG_DETECT_MAX_DIGITS)
		n = MG_DETECT_MAX_DIGITS + 1;    /* "longer than any number" */
	c->ndigits = c->ndigits + n > MG_DETECT_MAX_DIGITS ? MG_DETECT_MAX_DIGITS + 1
	                                                   : c->ndigits + (unsigned)n;
	if (c->nruns < MG_DETECT_MAX_GROUPS)
		c->lengths[c->nruns] = (uint8_t)n;
	c->nruns++;
	return check_run(s, start, pos, (unsigned)n);
}

/* Reads the chain starting at *i and leaves *i after its last digit. */
static int read_chain(struct scan *s, size_t *i)
{
	struct chain c = {.start = *i};
	uint32_t sep = 0;              /* the bytes of the first join's separator */
	size_t end;
	int r;

	for (;;) {
		uint8_t v;
		unsigned w;

		r = read_run(s, &c, i);
		if (r)
			return r;
		end = *i;
		if (*i >= s->len || !(w = separator_at(s->p, *i, s->len)) || *i + w >= s->len ||
		    !digit_at(s->p, *i + w, s->len, &v))
			break;
		/* "1234-5678-9018 2024" is a number and a year, not one number. */
		uint32_t this = w == 1 ? s->p[*i] : (uint32_t)s->p[*i] << 16 | s->p[*i + 1] << 8 | s->p[*i + 2];
		if (sep && sep != this)
			break;
		sep = this;
		*i += w;
	}
	return check_chain(s, &c, end);
}

int mg_detect_scan(const void *buf, size_t len, mg_detect_set set, mg_detect_cb cb,
                   void *userdata)
{
	struct scan s = {.p = buf, .len = len, .set = set, .cb = cb, .userdata = userdata};
	size_t i = 0;
	uint8_t v;

	for (unsigned det = 0; det < mg_ndetectors; det++)
		if (set >> det & 1)
			s.has_length[mg_detectors[det].digits] = true;
	while ((i = skip_to_digit(s.p, i, len)) < len) {
		int r;
		if (!digit_at(s.p, i, len, &v)) {
			i++;
			continue;
		}
		r = read_chain(&s, &i);
		if (r)
			return r;
	}
	return 0;
}

struct counts {
	size_t *counts;           /* per detector, mg_ndetectors entries */
	size_t total;             /* of all kinds */
};

static int count_one(const struct mg_finding *f, void *userdata)
{
	struct counts *c = userdata;

	c->counts[f->detector]++;
	c->total++;
	return 0;
}

size_t mg_detect_count(const void *buf, size_t len, mg_detect_set set, size_t *counts)
{
	struct counts c = {.counts = counts};

	memset(counts, 0, mg_ndetectors * sizeof(*counts));
	mg_detect_scan(buf, len, set, count_one, &c);
	return c.total;
}

int mg_detector_find(const char *name, const char *what, unsigned *index)
{
	for (unsigned det = 0; det < mg_ndetectors; det++) {
		if (strcmp(name, mg_detectors[det].name) == 0) {
			*index = det;
			return 0;
		}
	}
	char known[128] = "";
	for (unsigned det = 0; det < mg_ndetectors; det++)
		snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
		         det ? ", " : "", mg_detectors[det].name);
	return mg_fail(ENOENT, "%s: no detector \"%s\" (known: %s)", what, name, known);
}

void mg_finding_mask(const struct mg_finding *f, char buf[MG_DETECT_MASK_MAX])
{
	unsigned n = mg_detectors[f->detector].digits;

	for (unsigned k = 0; k < n; k++)
		buf[k] = k + 4 < n ? '*' : (char)('0' + f->digits[k]);
	buf[n] = '\0';
}
