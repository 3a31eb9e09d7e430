/*
 * Time-of-day conditions: FreeSWITCH's condition attributes year, yday,
 * mon, mday, week, mweek, wday, hour, minute, minute-of-day, time-of-day and
 * date-time, parsed once at load into ranges and matched against one
 * broken-down time per hunt.
 *
 * Values are comma-separated lists of single values and ranges ("1-5,7",
 * "mon-fri,sun", "09:00-12:30,13:30-17:00", "2024-12-24 18:00~2024-12-26
 * 08:00"). Where FreeSWITCH never matches a reversed range of a cyclic
 * field ("22-6", "fri-mon", "22:00-06:00"), irisx wraps it around midnight,
 * the end of the week, and so on; year and date-time ranges must go forward.
 * time-of-day and date-time ranges include their start and exclude their end,
 * the others include both ends, as in FreeSWITCH.
 */
#include "dialplan_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *const dialplan__time_attrs[DP_T_COUNT] = {
    [DP_T_YEAR] = "year",	[DP_T_YDAY] = "yday",
    [DP_T_MON] = "mon",		[DP_T_MDAY] = "mday",
    [DP_T_WEEK] = "week",	[DP_T_MWEEK] = "mweek",
    [DP_T_WDAY] = "wday",	[DP_T_HOUR] = "hour",
    [DP_T_MINUTE] = "minute",	[DP_T_MINDAY] = "minute-of-day",
    [DP_T_TOD] = "time-of-day", [DP_T_DATETIME] = "date-time",
};

static const struct {
	int64_t min, max;
} bounds[DP_T_COUNT] = {
    [DP_T_YEAR] = {1970, 9999}, [DP_T_YDAY] = {1, 366},	 [DP_T_MON] = {1, 12},
    [DP_T_MDAY] = {1, 31},	[DP_T_WEEK] = {1, 53},	 [DP_T_MWEEK] = {1, 6},
    [DP_T_WDAY] = {1, 7},	[DP_T_HOUR] = {0, 23},	 [DP_T_MINUTE] = {0, 59},
    [DP_T_MINDAY] = {1, 1440},	[DP_T_TOD] = {0, 86400}, [DP_T_DATETIME] = {0, INT64_MAX},
};

static const char *const day_names[7] = {"sunday",   "monday", "tuesday", "wednesday",
					 "thursday", "friday", "saturday"};

/* A day: 1-7 (Sunday is 1) or a name, three letters or whole. */
static bool parse_wday(struct str s, int64_t *out)
{
	uint32_t v;
	if (str_to_u32(s, &v) == 0) {
		*out = v;
		return true;
	}
	for (int i = 0; i < 7; i++) {
		if ((s.len == 3 || s.len == strlen(day_names[i])) &&
		    strncasecmp(s.p, day_names[i], s.len) == 0) {
			*out = i + 1;
			return true;
		}
	}
	return false;
}

/* Fixed-width decimal digits at s[*i]: exactly `n` of them. */
static bool digits(struct str s, size_t *i, size_t n, int64_t *out)
{
	int64_t v = 0;
	if (*i + n > s.len)
		return false;
	for (size_t k = 0; k < n; k++) {
		char c = s.p[*i + k];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*i += n;
	*out = v;
	return true;
}

/* 1 or 2 digits. */
static bool small_number(struct str s, size_t *i, int64_t *out)
{
	if (!digits(s, i, 1, out))
		return false;
	int64_t more;
	if (*i < s.len && digits(s, i, 1, &more))
		*out = *out * 10 + more;
	return true;
}

static bool expect(struct str s, size_t *i, char c)
{
	if (*i < s.len && s.p[*i] == c) {
		(*i)++;
		return true;
	}
	return false;
}

/* "HH:MM" or "HH:MM:SS" at s[*i] → seconds of the day (24:00 allowed as an end). */
static bool parse_clock(struct str s, size_t *i, int64_t *out)
{
	int64_t h, m, sec = 0;
	if (!small_number(s, i, &h) || !expect(s, i, ':') || !digits(s, i, 2, &m))
		return false;
	if (*i < s.len && s.p[*i] == ':' && (!expect(s, i, ':') || !digits(s, i, 2, &sec)))
		return false;
	if (m > 59 || sec > 59 || h > 24 || (h == 24 && (m || sec)))
		return false;
	*out = h * 3600 + m * 60 + sec;
	return true;
}

/* "YYYY-MM-DD HH:MM[:SS]" → YYYYMMDDhhmmss. */
static bool parse_datetime(struct str s, int64_t *out)
{
	size_t i = 0;
	int64_t y, mo, d, clock;
	s = str_trim(s);
	if (!digits(s, &i, 4, &y) || !expect(s, &i, '-') || !small_number(s, &i, &mo) ||
	    !expect(s, &i, '-') || !small_number(s, &i, &d))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31)
		return false;
	while (i < s.len && (s.p[i] == ' ' || s.p[i] == '\t'))
		i++;
	if (!parse_clock(s, &i, &clock) || i != s.len || clock >= 86400)
		return false;
	int64_t h = clock / 3600, m = clock / 60 % 60, sec = clock % 60;
	*out = ((((y * 100 + mo) * 100 + d) * 100 + h) * 100 + m) * 100 + sec;
	return true;
}

static bool parse_value(enum dialplan__tfield f, struct str s, int64_t *out)
{
	uint32_t v;
	s = str_trim(s);
	if (f == DP_T_WDAY)
		return parse_wday(s, out);
	if (str_to_u32(s, &v) != 0)
		return false;
	*out = v;
	return true;
}

/* One list item into r: "v", "a-b", "HH:MM-HH:MM", "date~date". */
static bool parse_item(enum dialplan__tfield f, struct str item, struct dialplan__range *r)
{
	item = str_trim(item);
	if (f == DP_T_DATETIME) {
		ptrdiff_t t = str_find_char(item, '~');
		return t > 0 && parse_datetime(str_make(item.p, (size_t)t), &r->lo) &&
		       parse_datetime(str_make(item.p + t + 1, item.len - (size_t)t - 1), &r->hi) &&
		       r->lo < r->hi;
	}
	if (f == DP_T_TOD) {
		size_t i = 0;
		if (!parse_clock(item, &i, &r->lo))
			return false;
		while (i < item.len && item.p[i] == ' ')
			i++;
		if (!expect(item, &i, '-'))
			return false;
		while (i < item.len && item.p[i] == ' ')
			i++;
		return parse_clock(item, &i, &r->hi) && i == item.len && r->lo != r->hi &&
		       r->lo < 86400;
	}
	ptrdiff_t dash = str_find_char(item, '-');
	if (dash < 0) {
		if (!parse_value(f, item, &r->lo))
			return false;
		r->hi = r->lo;
	} else if (!parse_value(f, str_make(item.p, (size_t)dash), &r->lo) ||
		   !parse_value(f, str_make(item.p + dash + 1, item.len - (size_t)dash - 1),
				&r->hi)) {
		return false;
	}
	if (r->lo < bounds[f].min || r->hi < bounds[f].min || r->lo > bounds[f].max ||
	    r->hi > bounds[f].max)
		return false;
	return f != DP_T_YEAR || r->lo <= r->hi;
}

int dialplan__time_parse(enum dialplan__tfield f, const char *value, struct arena *arena,
			 struct dialplan__range **out, size_t *count, char *why, size_t why_size)
{
	struct str all = str_from_cstr(value);
	size_t n = 1;

	for (size_t i = 0; i < all.len; i++)
		n += all.p[i] == ',';
	struct dialplan__range *r = arena_alloc(arena, n * sizeof(*r));
	if (!r) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	size_t k = 0;
	for (struct str rest = all;;) {
		ptrdiff_t comma = str_find_char(rest, ',');
		struct str item = comma < 0 ? rest : str_make(rest.p, (size_t)comma);
		if (!parse_item(f, item, &r[k])) {
			static const char *const forms[DP_T_COUNT] = {
			    [DP_T_WDAY] = "days 1-7 (Sunday is 1) or names (mon-fri)",
			    [DP_T_TOD] = "HH:MM[:SS]-HH:MM[:SS] ranges",
			    [DP_T_DATETIME] = "YYYY-MM-DD HH:MM[:SS]~YYYY-MM-DD HH:MM[:SS] ranges",
			};
			if (forms[f])
				snprintf(why, why_size, "%s=\"%s\": expected %s",
					 dialplan__time_attrs[f], value, forms[f]);
			else
				snprintf(why, why_size,
					 "%s=\"%s\": expected numbers or ranges within %lld-%lld",
					 dialplan__time_attrs[f], value, (long long)bounds[f].min,
					 (long long)bounds[f].max);
			return -EINVAL;
		}
		k++;
		if (comma < 0)
			break;
		rest = str_make(rest.p + comma + 1, rest.len - (size_t)comma - 1);
	}
	*out = r;
	*count = k;
	return 0;
}

static bool in_range(enum dialplan__tfield f, const struct dialplan__range *r, int64_t v)
{
	bool half_open = f == DP_T_TOD || f == DP_T_DATETIME;
	if (r->lo <= r->hi)
		return v >= r->lo && (half_open ? v < r->hi : v <= r->hi);
	return v >= r->lo || (half_open ? v < r->hi : v <= r->hi);
}

static int64_t field_value(enum dialplan__tfield f, const struct tm *tm)
{
	switch (f) {
	case DP_T_YEAR:
		return tm->tm_year + 1900;
	case DP_T_YDAY:
		return tm->tm_yday + 1;
	case DP_T_MON:
		return tm->tm_mon + 1;
	case DP_T_MDAY:
		return tm->tm_mday;
	case DP_T_WEEK:
		return tm->tm_yday / 7 + 1;
	case DP_T_MWEEK: {
		/* weeks start on Sunday; the first (partial) week of the month is 1 */
		int first = ((tm->tm_wday - (tm->tm_mday - 1)) % 7 + 7) % 7;
		return (tm->tm_mday - 1 + first) / 7 + 1;
	}
	case DP_T_WDAY:
		return tm->tm_wday + 1;
	case DP_T_HOUR:
		return tm->tm_hour;
	case DP_T_MINUTE:
		return tm->tm_min;
	case DP_T_MINDAY:
		return tm->tm_hour * 60 + tm->tm_min + 1;
	case DP_T_TOD:
		return tm->tm_hour * 3600 + tm->tm_min * 60 + tm->tm_sec;
	case DP_T_DATETIME:
		return (((((int64_t)tm->tm_year + 1900) * 100 + tm->tm_mon + 1) * 100 +
			 tm->tm_mday) *
			    100 +
			tm->tm_hour) *
			   10000 +
		       tm->tm_min * 100 + tm->tm_sec;
	case DP_T_COUNT:
		break;
	}
	return -1;
}

bool dialplan__time_match(const struct dialplan__time *t, const struct tm *tm)
{
	for (int f = 0; f < DP_T_COUNT; f++) {
		if (!t->ranges[f])
			continue;
		int64_t v = field_value((enum dialplan__tfield)f, tm);
		bool hit = false;
		for (size_t i = 0; i < t->count[f] && !hit; i++)
			hit = in_range((enum dialplan__tfield)f, &t->ranges[f][i], v);
		if (!hit)
			return false;
	}
	return true;
}
