/*
 * play_and_get_digits and read as a pure state machine: the arguments as
 * FreeSWITCH orders them, and what to do next after each thing that happens
 * (a prompt ended, digits were collected, the invalid prompt ended). No
 * channel is touched here (app_digits.c does that), so every path can be
 * tested without a call.
 *
 *   play_and_get_digits <min> <max> <tries> <timeout> <terminators> <file>
 *       <invalid_file> [<var_name> [<regexp> [<digit_timeout>
 *       [<transfer_on_failure: ext [dialplan [context]]>]]]]
 *   read <min> <max> <sound_file> <variable> <timeout> <terminators>
 *
 * Words are separated by blanks; '…' quotes a word ('' is an empty one).
 * Terminators "none" (or empty) means none. An entry is valid when it has
 * between min and max digits and, when given, the regular expression
 * matches it.
 */
#include "dialplan_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void why_set(char *why, size_t size, const char *fmt, const char *what)
{
	if (why && size)
		snprintf(why, size, fmt, what);
}

static int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	if (str_to_u32(str_from_cstr(s), out) != 0 || *out < lo || *out > hi)
		return -EINVAL;
	return 0;
}

static int parse_terminators(const char *s, char out[DIALPLAN_TERM_MAX + 1])
{
	out[0] = '\0';
	if (!*s || strcmp(s, "none") == 0)
		return 0;
	size_t n = strlen(s);
	if (n > DIALPLAN_TERM_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789*#ABCD", s[i]))
			return -EINVAL;
	memcpy(out, s, n + 1);
	return 0;
}

static int common_check(struct dialplan__digits *d, char *why, size_t why_size)
{
	if (d->min > d->max) {
		why_set(why, why_size, "%s", "min is above max");
		return -EINVAL;
	}
	return 0;
}

int dialplan__digits_parse(struct dialplan__digits *d, bool is_read, const char *data, char *why,
			   size_t why_size)
{
	char *argv[16];
	memset(d, 0, sizeof(*d));
	if (!data)
		return -EINVAL;
	int argc = dialplan__originate_split(data, d->buf, sizeof(d->buf), argv, 16);
	if (argc < 0) {
		why_set(why, why_size, "%s", "too long, or an open quote");
		return -EINVAL;
	}
	if (is_read) {
		/* read <min> <max> <sound_file> <variable> <timeout> <terminators> */
		if (argc < 4) {
			why_set(why, why_size, "%s", "needs <min> <max> <sound_file> <variable>");
			return -EINVAL;
		}
		d->tries = 1;
		d->timeout_ms = 5000;
		if (parse_u32(argv[0], 0, CORE_DTMF_MAX, &d->min) ||
		    parse_u32(argv[1], 1, CORE_DTMF_MAX, &d->max)) {
			why_set(why, why_size, "%s", "min and max are 0-128 digits");
			return -EINVAL;
		}
		d->file = argv[2];
		d->var_name = argv[3];
		if (argc > 4 && parse_u32(argv[4], 1, 3600000, &d->timeout_ms)) {
			why_set(why, why_size, "bad timeout '%s'", argv[4]);
			return -EINVAL;
		}
		if (parse_terminators(argc > 5 ? argv[5] : "#", d->terminators)) {
			why_set(why, why_size, "bad terminators '%s'", argv[5]);
			return -EINVAL;
		}
		d->digit_timeout_ms = d->timeout_ms;
		return common_check(d, why, why_size);
	}
	if (argc < 7) {
		why_set(why, why_size, "%s",
			"needs <min> <max> <tries> <timeout> <terminators> <file> <invalid_file>");
		return -EINVAL;
	}
	if (parse_u32(argv[0], 0, CORE_DTMF_MAX, &d->min) ||
	    parse_u32(argv[1], 1, CORE_DTMF_MAX, &d->max)) {
		why_set(why, why_size, "%s", "min and max are 0-128 digits");
		return -EINVAL;
	}
	if (parse_u32(argv[2], 1, 100, &d->tries)) {
		why_set(why, why_size, "bad tries '%s' (1-100)", argv[2]);
		return -EINVAL;
	}
	if (parse_u32(argv[3], 1, 3600000, &d->timeout_ms)) {
		why_set(why, why_size, "bad timeout '%s' (ms)", argv[3]);
		return -EINVAL;
	}
	if (parse_terminators(argv[4], d->terminators)) {
		why_set(why, why_size, "bad terminators '%s'", argv[4]);
		return -EINVAL;
	}
	d->file = argv[5];
	d->invalid_file = argv[6];
	d->var_name = argc > 7 ? argv[7] : "";
	d->regexp = argc > 8 ? argv[8] : "";
	d->digit_timeout_ms = d->timeout_ms;
	if (argc > 9 && *argv[9] && parse_u32(argv[9], 1, 3600000, &d->digit_timeout_ms)) {
		why_set(why, why_size, "bad digit_timeout '%s' (ms)", argv[9]);
		return -EINVAL;
	}
	for (int i = 10; i < argc && i < 13; i++)
		d->transfer[i - 10] = argv[i];
	if (argc > 13) {
		why_set(why, why_size, "%s", "too many arguments");
		return -EINVAL;
	}
	if (*d->regexp) {
		int code;
		PCRE2_SIZE off;
		d->re = pcre2_compile((PCRE2_SPTR)d->regexp, PCRE2_ZERO_TERMINATED, 0, &code, &off,
				      NULL);
		if (!d->re) {
			why_set(why, why_size, "bad regexp '%s'", d->regexp);
			return -EINVAL;
		}
	}
	return common_check(d, why, why_size);
}

void dialplan__digits_fini(struct dialplan__digits *d)
{
	if (d && d->re) {
		pcre2_code_free(d->re);
		d->re = NULL;
	}
}

bool dialplan__digits_valid(const struct dialplan__digits *d, const char *digits)
{
	size_t n = strlen(digits);
	if (n == 0 || n < d->min || n > d->max)
		return false;
	if (!d->re)
		return true;
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(d->re, NULL);
	if (!md)
		return false;
	int rc = pcre2_match(d->re, (PCRE2_SPTR)digits, n, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

enum dialplan__digits_step dialplan__digits_start(struct dialplan__digits *d)
{
	d->attempt = 1;
	return DP_DIGITS_PROMPT;
}

enum dialplan__digits_step dialplan__digits_prompted(struct dialplan__digits *d)
{
	(void)d;
	return DP_DIGITS_COLLECT;
}

static enum dialplan__digits_step next_try(struct dialplan__digits *d)
{
	if (d->attempt >= d->tries)
		return DP_DIGITS_FAIL;
	d->attempt++;
	return DP_DIGITS_PROMPT;
}

enum dialplan__digits_step dialplan__digits_collected(struct dialplan__digits *d,
						      const char *digits)
{
	if (dialplan__digits_valid(d, digits))
		return DP_DIGITS_OK;
	d->invalid_count++;
	if (d->invalid_file && *d->invalid_file)
		return DP_DIGITS_INVALID;
	return next_try(d);
}

enum dialplan__digits_step dialplan__digits_invalid_done(struct dialplan__digits *d)
{
	return next_try(d);
}
