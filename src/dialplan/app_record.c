/*
 * record_session and stop_record_session: the channel's whole call, both
 * directions, recorded in the background (channel_record_start) while the
 * dialplan goes on, as FreeSWITCH's. RECORD_STEREO=true records two
 * channels. The recording stops at stop_record_session or at hangup.
 */
#define LOG_MODULE "dialplan"
#include "dialplan_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
