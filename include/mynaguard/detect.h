/* Detectors of individual numbers in text.
 *
 * A detector knows one kind of number: how many digits it has, the grouped
 * forms people write it in, and its check digit.  The policy names the
 * detectors that apply by name ("kojin", "hojin"); a new kind is one more
 * entry in the table in lib/detect.c.
 *
 * What counts as a number (the same rules for every detector):
 *   - a digit is ASCII 0-9 or full-width ０-９ (U+FF10..U+FF19); both may mix;
 *   - a run is a maximal sequence of digits;
 *   - a chain is a maximal sequence of runs joined by exactly one separator
 *     character, the same one throughout (a different separator ends the
 *     chain, so "1234-5678-9018 2024" is a number and a year): space, hyphen-minus, ideographic space U+3000, full-width
 *     hyphen-minus U+FF0D, hyphen U+2010, non-breaking hyphen U+2011,
 *     figure dash U+2012, en dash U+2013, minus sign U+2212, or the
 *     prolonged sound mark U+30FC (what Japanese input methods often put
 *     where a hyphen was meant);
 *   - a run with exactly a detector's digit count is a candidate, wherever
 *     it stands (so "123456789018 2件" is found); a shorter or longer run
 *     never is, so digits inside a longer number are ignored;
 *   - a chain whose run lengths are exactly one of a detector's layouts
 *     (4-4-4 for kojin, 1-4-4-4 for hojin) is a candidate as a whole; a
 *     chain that continues ("1234-5678-9012-3456") is a longer number;
 *   - a candidate is a finding when its check digit is right.
 * Anything else, including invalid UTF-8 and binary data, is simply not a
 * digit: the scan is one pass over bytes, allocates nothing, and never
 * reads outside the buffer. */
#ifndef MYNAGUARD_DETECT_H
#define MYNAGUARD_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MG_DETECT_MAX_DIGITS 13      /* the longest number any detector knows */
#define MG_DETECT_MAX_GROUPS 4       /* the most runs in a layout */
#define MG_DETECT_MAX_LAYOUTS 4      /* grouped forms per detector */
#define MG_DETECT_MASK_MAX (MG_DETECT_MAX_DIGITS + 1)

/* One kind of number. */
struct mg_detector {
	const char *name;            /* policy and output name: "kojin" */
	const char *label;           /* for people: "個人番号" */
	unsigned digits;             /* digits in one number */
	/* Grouped forms: run lengths summing to digits, 0-terminated when
	 * shorter than MG_DETECT_MAX_GROUPS. */
	uint8_t layouts[MG_DETECT_MAX_LAYOUTS][MG_DETECT_MAX_GROUPS];
	unsigned nlayouts;           /* entries used in layouts */
	/* True when d[0..digits) (values 0..9) carry a right check digit. */
	bool (*valid)(const uint8_t *d);
};

/* The detectors, in a fixed order: an index into this table is a bit in an
 * mg_detect_set. */
extern const struct mg_detector mg_detectors[];
extern const unsigned mg_ndetectors;

/* A set of detectors: bit i stands for mg_detectors[i]. */
typedef uint32_t mg_detect_set;
#define MG_DETECT_ALL ((mg_detect_set)((1u << mg_ndetectors) - 1))

/* One number found. */
struct mg_finding {
	unsigned detector;                  /* index into mg_detectors */
	size_t offset;                      /* byte offset of its first digit */
	size_t length;                      /* bytes up to its last digit, separators included */
	uint8_t digits[MG_DETECT_MAX_DIGITS]; /* its digit values, in order */
};

/* Called for each finding, in order of offset.  Return 0 to go on, any
 * other value to stop the scan (mg_detect_scan then returns that value). */
typedef int (*mg_detect_cb)(const struct mg_finding *f, void *userdata);

/* Scans len bytes for the detectors in set.  Returns 0 after the whole
 * buffer, or the callback's non-zero value. */
int mg_detect_scan(const void *buf, size_t len, mg_detect_set set, mg_detect_cb cb,
                   void *userdata);

/* Counts findings per detector into counts[mg_ndetectors]; returns the total. */
size_t mg_detect_count(const void *buf, size_t len, mg_detect_set set, size_t *counts);

/* Looks a detector up by name; -ENOENT with a message naming what (the
 * caller's place of the name) when there is none. */
int mg_detector_find(const char *name, const char *what, unsigned *index);

/* Writes the finding masked, all digits but the last 4 as '*'
 * ("********9018"), into buf (MG_DETECT_MASK_MAX bytes). */
void mg_finding_mask(const struct mg_finding *f, char buf[MG_DETECT_MASK_MAX]);

/* Check digits, exported for tests and the fuzz target's reference. */
bool mg_detect_kojin_valid(const uint8_t d[12]);
bool mg_detect_hojin_valid(const uint8_t d[13]);

#endif
