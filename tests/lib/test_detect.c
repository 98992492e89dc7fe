#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "mynaguard/detect.h"
#include "mynaguard/error.h"

#define KOJIN 0u
#define HOJIN 1u
#define MAXF 16

struct found {
	size_t n;
	struct mg_finding f[MAXF];
};

static int collect(const struct mg_finding *f, void *userdata)
{
	struct found *out = userdata;

	if (out->n < MAXF)
		out->f[out->n] = *f;
	out->n++;
	return 0;
}

static struct found scan(const char *text)
{
	struct found out = {0};

	cr_assert_eq(mg_detect_scan(text, strlen(text), MG_DETECT_ALL, collect, &out), 0);
	return out;
}

/* Asserts exactly one finding of kind at [off, off+len). */
static void expect_one(const char *text, unsigned kind, size_t off, size_t len)
{
	struct found got = scan(text);

	cr_assert_eq(got.n, 1, "%s: %zu findings, expected 1", text, got.n);
	cr_assert_eq(got.f[0].detector, kind, "%s: kind", text);
	cr_assert_eq(got.f[0].offset, off, "%s: offset %zu, expected %zu", text, got.f[0].offset, off);
	cr_assert_eq(got.f[0].length, len, "%s: length %zu, expected %zu", text, got.f[0].length, len);
}

static void expect_none(const char *text)
{
	struct found got = scan(text);

	cr_assert_eq(got.n, 0, "%s: %zu findings, expected none", text, got.n);
}

/* "１２３..." from "123...". */
static void fullwidth(const char *ascii, char *out)
{
	for (; *ascii; ascii++) {
		if (*ascii >= '0' && *ascii <= '9') {
			*out++ = (char)0xEF;
			*out++ = (char)0xBC;
			*out++ = (char)(0x90 + *ascii - '0');
		} else {
			*out++ = *ascii;
		}
	}
	*out = '\0';
}

/* "1234-5678-9018" from "123456789018" and a layout. */
static void grouped(const char *digits, const char *sep, const unsigned *groups, char *out)
{
	for (unsigned g = 0; groups[g]; g++) {
		if (g)
			out = stpcpy(out, sep);
		out = stpncpy(out, digits, groups[g]);
		digits += groups[g];
	}
	*out = '\0';
}

Test(detect, examples_from_the_issue)
{
	uint8_t k[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 8};
	uint8_t h[13] = {7, 0, 0, 0, 0, 1, 2, 0, 5, 0, 0, 0, 2};

	cr_assert(mg_detect_kojin_valid(k));
	cr_assert(mg_detect_hojin_valid(h));
	k[11] = 9;
	h[0] = 6;
	cr_assert_not(mg_detect_kojin_valid(k));
	cr_assert_not(mg_detect_hojin_valid(h));
}

Test(detect, shared_vectors_in_every_written_form)
{
	static const unsigned kojin_groups[] = {4, 4, 4, 0}, hojin_groups[] = {1, 4, 4, 4, 0};
	static const char *const seps[] = {"-", " ", "\xE3\x80\x80", "\xEF\xBC\x8D", "\xE2\x88\x92",
	                                   "\xE3\x83\xBC"};
	FILE *f = fopen(MG_TEST_DATA "/number-vectors.tsv", "r");
	char line[256];
	unsigned rows = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		char kind[32], digits[32], text[256], form[128], wide[256];
		bool valid;
		unsigned det;

		if (line[0] == '#' || sscanf(line, "%31[^\t]\t%31s", kind, digits) != 2)
			continue;
		valid = strstr(kind, "-valid") != NULL;
		det = strncmp(kind, "kojin", 5) == 0 ? KOJIN : HOJIN;
		rows++;

		/* Bare, inside Japanese text: the offset counts bytes. */
		snprintf(text, sizeof(text), "番号は%sです", digits);
		if (valid)
			expect_one(text, det, strlen("番号は"), strlen(digits));
		else
			expect_none(text);

		fullwidth(digits, wide);
		snprintf(text, sizeof(text), "番号：%s。", wide);
		if (valid)
			expect_one(text, det, strlen("番号："), strlen(wide));
		else
			expect_none(text);

		for (size_t s = 0; s < sizeof(seps) / sizeof(seps[0]); s++) {
			grouped(digits, seps[s], det == KOJIN ? kojin_groups : hojin_groups, form);
			snprintf(text, sizeof(text), "(%s)", form);
			if (valid)
				expect_one(text, det, 1, strlen(form));
			else
				expect_none(text);
		}
	}
	fclose(f);
	cr_assert_eq(rows, 42, "%u vector rows", rows);
}

Test(detect, digits_of_a_longer_number_are_ignored)
{
	expect_none("2123456789018");             /* 13 digits: not a valid hojin */
	expect_none("12345678901800");
	expect_none("x1234-5678-9018-1234");      /* a chain that goes on */
	expect_none("5-1234-5678-9018");          /* 1-4-4-4 is only checked as hojin */
	expect_none("12345678-9018");             /* 8-4 is no layout */
	expect_none("1234-56789018");
}

Test(detect, a_bare_run_stands_on_its_own)
{
	expect_one("123456789018 2件", KOJIN, 0, 12);
	expect_one("3 123456789018", KOJIN, 2, 12);
	expect_one("ID:T7000012050002", HOJIN, 4, 13);
	expect_one("山田太郎,123456789018,東京都", KOJIN, strlen("山田太郎,"), 12);
}

Test(detect, separators_join_once)
{
	expect_none("1234--5678--9018");
	expect_none("1234 -5678 -9018");
	expect_none("1234\t5678\t9018");          /* a tab separates fields, not groups */
	expect_none("1234-5678 9018");            /* one separator per chain */
	expect_one("1234 5678 9018 です", KOJIN, 0, 14);
	expect_one("1234-5678-9018 2024年", KOJIN, 0, 14);
	expect_none("1234 5678 9018 2024年");     /* reads as one longer number */
}

Test(detect, several_findings_in_order)
{
	struct found got = scan("a 123456789018 b 7000012050002 c 1234-5678-9018 d");

	cr_assert_eq(got.n, 3);
	cr_assert_eq(got.f[0].offset, 2);
	cr_assert_eq(got.f[1].offset, 17);
	cr_assert_eq(got.f[1].detector, HOJIN);
	cr_assert_eq(got.f[2].offset, 33);
	cr_assert_eq(got.f[2].length, 14);
}

Test(detect, only_the_detectors_in_the_set)
{
	const char *text = "123456789018 7000012050002";
	size_t counts[2];

	cr_assert_eq(mg_detect_count(text, strlen(text), 1u << KOJIN, counts), 1);
	cr_assert_eq(counts[KOJIN], 1);
	cr_assert_eq(counts[HOJIN], 0);
	cr_assert_eq(mg_detect_count(text, strlen(text), 1u << HOJIN, counts), 1);
	cr_assert_eq(mg_detect_count(text, strlen(text), 0, counts), 0);
}

Test(detect, broken_utf8_and_binary_are_not_digits)
{
	/* A full-width digit cut off at the end, stray lead bytes, NULs. */
	static const char text[] = "12345678901\xEF\xBC";
	static const char bin[] = "\xEF\xBC\x91\x00\xFF\xEF\x31\x32\x33\x34\x35\x36\x37\x38\x39\x30\x31\x38\xE3\x80";
	struct found got = {0};

	expect_none(text);
	cr_assert_eq(mg_detect_scan(bin, sizeof(bin) - 1, MG_DETECT_ALL, collect, &got), 0);
	cr_assert_eq(got.n, 1);
	cr_assert_eq(got.f[0].offset, 6);
	cr_assert_eq(got.f[0].length, 12);
}

static int stop_at_first(const struct mg_finding *f, void *userdata)
{
	(*(int *)userdata)++;
	return 42;
}

Test(detect, the_callback_stops_the_scan)
{
	const char *text = "123456789018 123456789018";
	int calls = 0;

	cr_assert_eq(mg_detect_scan(text, strlen(text), MG_DETECT_ALL, stop_at_first, &calls), 42);
	cr_assert_eq(calls, 1);
}

Test(detect, masked_shows_the_last_four)
{
	struct found got = scan("１２３４-５６７８-９０１８");
	char mask[MG_DETECT_MASK_MAX];

	cr_assert_eq(got.n, 1);
	mg_finding_mask(&got.f[0], mask);
	cr_assert_str_eq(mask, "********9018");
	got = scan("7000012050002");
	mg_finding_mask(&got.f[0], mask);
	cr_assert_str_eq(mask, "*********0002");
}

Test(detect, find_by_name)
{
	unsigned i;

	cr_assert_eq(mg_detector_find("hojin", "x", &i), 0);
	cr_assert_eq(i, HOJIN);
	cr_assert_eq(mg_detector_find("mynumber", "policy.json: $.clipboard.detectors[0]", &i), -ENOENT);
	cr_assert_str_eq(mg_error(),
	                 "policy.json: $.clipboard.detectors[0]: no detector \"mynumber\" (known: kojin, hojin)");
}
