/*
 * FreeSWITCH's DTMF strings as uuid_send_dtmf and send_dtmf take them:
 * "digits[@duration_ms]". Pure, so that a door or a test can parse without
 * pulling in channels.
 */
#include "core.h"

#include <errno.h>
#include <string.h>

int core_dtmf_parse(const char *s, char digits[CORE_DTMF_MAX + 1], uint32_t *duration_ms)
{
	if (!s)
		return -EINVAL;
	struct str all = str_trim(str_from_cstr(s)), d = all;
	ptrdiff_t at = str_find_char(all, '@');
	*duration_ms = 0;
	if (at >= 0) {
		d = str_make(all.p, (size_t)at);
		struct str dur = str_make(all.p + at + 1, all.len - (size_t)at - 1);
		/* media_stream_send_dtmf's floor is 40 ms; an hour is nobody's digit */
		if (str_to_u32(dur, duration_ms) != 0 || *duration_ms < 40 ||
		    *duration_ms > 3600000)
			return -EINVAL;
	}
	if (d.len == 0 || d.len > CORE_DTMF_MAX)
		return -EINVAL;
	for (size_t i = 0; i < d.len; i++)
		if (!strchr("0123456789*#ABCDabcdwW", d.p[i]) || d.p[i] == '\0')
			return -EINVAL;
	memcpy(digits, d.p, d.len);
	digits[d.len] = '\0';
	return 0;
}

const char *core_dtmf_source_name(enum core_dtmf_source src)
{
	switch (src) {
	case CORE_DTMF_RTP:
		return "RTP";
	case CORE_DTMF_INFO:
		return "ENDPOINT";
	case CORE_DTMF_INBAND:
		return "INBAND_AUDIO";
	}
	return "UNKNOWN";
}

/* "5", "*", "a" or an RFC 4733 event code ("10" is *, "11" #, "12"-"15"
 * A-D), as phones write Signal= either way. */
static int info_digit(struct str v, char *digit)
{
	static const char codes[] = "0123456789*#ABCD";
	uint32_t n;

	v = str_trim(v);
	if (v.len == 1) {
		char c = v.p[0];
		if (c >= 'a' && c <= 'd')
			c = (char)(c - 'a' + 'A');
		if (c != '\0' && strchr(codes, c)) {
			*digit = c;
			return 0;
		}
		return -EBADMSG;
	}
	if (v.len == 2 && str_to_u32(v, &n) == 0 && n >= 10 && n <= 15) {
		*digit = codes[n];
		return 0;
	}
	return -EBADMSG;
}

/* application/dtmf-relay: "Signal=5" and "Duration=160" lines (LF or CRLF),
 * names in any case, blanks around '='; other lines are ignored. */
static int info_relay(struct str body, char *digit, uint32_t *duration_ms)
{
	bool have_signal = false, have_duration = false;
	size_t i = 0;

	while (i < body.len) {
		size_t end = i;
		while (end < body.len && body.p[end] != '\n')
			end++;
		struct str line = str_trim(str_make(body.p + i, end - i));
		i = end + 1;
		if (line.len == 0)
			continue;
		ptrdiff_t eq = str_find_char(line, '=');
		if (eq < 0)
			continue;
		struct str name = str_trim(str_make(line.p, (size_t)eq));
		struct str value = str_trim(str_make(line.p + eq + 1, line.len - (size_t)eq - 1));
		if (str_ieq_cstr(name, "Signal")) {
			if (have_signal || info_digit(value, digit))
				return -EBADMSG;
			have_signal = true;
		} else if (str_ieq_cstr(name, "Duration")) {
			if (have_duration || str_to_u32(value, duration_ms) || *duration_ms > 60000)
				return -EBADMSG;
			have_duration = true;
		}
	}
	if (!have_duration)
		*duration_ms = 0;
	return have_signal ? 0 : -EBADMSG;
}

int core_dtmf_info_parse(struct str content_type, struct str body, char *digit,
			 uint32_t *duration_ms)
{
	if (!digit || !duration_ms || (body.len && !body.p))
		return -EINVAL;
	struct str type = content_type;
	ptrdiff_t semi = str_find_char(type, ';');
	if (semi >= 0)
		type.len = (size_t)semi;
	type = str_trim(type);
	*duration_ms = 0;
	if (str_ieq_cstr(type, "application/dtmf-relay"))
		return info_relay(body, digit, duration_ms);
	if (str_ieq_cstr(type, "application/dtmf"))
		return info_digit(body, digit);
	return -ENOTSUP;
}
