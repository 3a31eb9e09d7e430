/*
 * record_session and stop_record_session: the channel's whole call, both
 * directions, recorded in the background (channel_record_start) while the
 * dialplan goes on, as FreeSWITCH's. RECORD_STEREO=true records two
 * channels. The recording stops at stop_record_session or at hangup.
 *
 * record: what the caller says, until a time limit, a run of silence or a
 * terminator digit (channel_record_read), FreeSWITCH's form
 *   record <path> [<time_limit_secs>] [<silence_thresh>] [<silence_hits>]
 * with silence_hits in seconds (3 when a threshold comes without it, as
 * FreeSWITCH's default), a threshold of 0 meaning no silence detection, and
 * the terminators from playback_terminators ("*" when unset, "none" for
 * none). The dialplan waits for it.
 */
#define LOG_MODULE "dialplan"
#include "dialplan_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int dialplan__app_record_session(struct channel *ch, const char *data)
{
	char path[4096];
	uint32_t limit = 0;
	/* "<path> +<secs>": the limit is the last word when it starts with '+' */
	const char *plus = strrchr(data, '+');
	size_t len = strlen(data);
	if (plus && plus > data && (plus[-1] == ' ' || plus[-1] == '\t')) {
		char *end;
		unsigned long v = strtoul(plus + 1, &end, 10);
		if (end == plus + 1 || *end || v > 86400 * 7) {
			log_warn("[%s] record_session: bad limit '%s'", ch->uuid, plus);
			return -EINVAL;
		}
		limit = (uint32_t)v;
		len = (size_t)(plus - data);
	}
	while (len && (data[len - 1] == ' ' || data[len - 1] == '\t'))
		len--;
	if (len == 0 || len >= sizeof(path))
		return -EINVAL;
	memcpy(path, data, len);
	path[len] = '\0';
	int rc = channel_record_start(ch, path, limit);
	if (rc < 0) {
		log_warn("[%s] record_session %s: %s", ch->uuid, path, strerror(-rc));
		return channel_up(ch) ? DIALPLAN_APP_DONE : DIALPLAN_APP_STOP;
	}
	return DIALPLAN_APP_DONE;
}

int dialplan__app_stop_record_session(struct channel *ch, const char *data)
{
	int rc = channel_record_stop(ch, data);
	if (rc < 0)
		log_info("[%s] stop_record_session %s: %s", ch->uuid, data,
			 rc == -ENOENT ? "not recording there" : strerror(-rc));
	return DIALPLAN_APP_DONE;
}

enum { RECORD_SILENCE_HITS_DEFAULT = 3 };

/* A whole non-negative decimal number up to max. */
static int parse_uint(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || errno || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* "<path> [<limit_secs>] [<thresh>] [<hits_secs>]" into path and r; why says
 * what is wrong (-EINVAL). */
static int parse_record(const char *data, char *path, size_t path_size,
			struct channel_record_read *r, char *why, size_t why_size)
{
	char buf[4200], *argv[5];
	int argc = dialplan__originate_split(data, buf, sizeof(buf), argv, 5);
	if (argc < 1 || !*argv[0]) {
		snprintf(why, why_size, "a path is needed");
		return -EINVAL;
	}
	if (argc > 4) {
		snprintf(why, why_size,
			 "at most 4 arguments: <path> [<time_limit_secs>] "
			 "[<silence_thresh>] [<silence_hits>]");
		return -EINVAL;
	}
	uint32_t limit = 0, thresh = 0, hits = RECORD_SILENCE_HITS_DEFAULT;
	if (argc > 1 && parse_uint(argv[1], 86400 * 7, &limit)) {
		snprintf(why, why_size, "'%s' is not a time limit in seconds", argv[1]);
		return -EINVAL;
	}
	if (argc > 2 && parse_uint(argv[2], INT16_MAX, &thresh)) {
		snprintf(why, why_size, "'%s' is not a silence threshold (0-32767)", argv[2]);
		return -EINVAL;
	}
	if (argc > 3 && parse_uint(argv[3], 86400, &hits)) {
		snprintf(why, why_size, "'%s' is not a number of seconds of silence", argv[3]);
		return -EINVAL;
	}
	if (snprintf(path, path_size, "%s", argv[0]) >= (int)path_size) {
		snprintf(why, why_size, "the path is too long");
		return -EINVAL;
	}
	memset(r, 0, sizeof(*r));
	r->limit_ms = limit * 1000;
	r->silence_threshold = thresh;
	r->silence_ms = thresh ? hits * 1000 : 0;
	return 0;
}

int dialplan__check_record(const char *data, char *why, size_t why_size)
{
	char path[4096];
	struct channel_record_read r;
	return parse_record(data, path, sizeof(path), &r, why, why_size);
}

int dialplan__app_record(struct channel *ch, const char *data, channel_done_cb cb, void *arg)
{
	char path[4096], why[160];
	/* the results are written when the recording ends: the call's arena */
	struct channel_record_read *r = arena_alloc(&ch->arena, sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (parse_record(data, path, sizeof(path), r, why, sizeof(why)) != 0) {
		log_warn("[%s] record: %s", ch->uuid, why);
		return -EINVAL;
	}
	const char *t = channel_var(ch, "playback_terminators");
	if (!t)
		t = "*";
	else if (strcasecmp(t, "none") == 0)
		t = "";
	r->terminators = arena_strdup(&ch->arena, t);
	if (!r->terminators)
		return -ENOMEM;
	int rc = channel_record_read(ch, path, r, cb, arg);
	if (rc < 0) {
		log_warn("[%s] record %s: %s", ch->uuid, path, strerror(-rc));
		return channel_up(ch) ? rc : DIALPLAN_APP_STOP;
	}
	return DIALPLAN_APP_PENDING;
}
