/*
 * The built-in commands, with FreeSWITCH's names, arguments and replies
 * (mod_commands' wording, so ESL clients that parse them keep working):
 * status, version, uptime, help, show channels/calls, the uuid_* family
 * (uuid_send_dtmf and uuid_record included; uuid_bridge is the dialplan's: it takes
 * channels out of their dialplan),
 * hupall, create_uuid, global_getvar/setvar, reloadacl, reloadxml, fsctl
 * shutdown and sofia status.
 */
#define LOG_MODULE "core"
#include "core_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

/* Up to `max` blank-separated words of `args` copied into `buf`; the last
 * takes the rest of the line. Returns the count. */
static int split(const char *args, char *buf, size_t size, char **argv, int max)
{
	int n = 0;
	snprintf(buf, size, "%s", args);
	char *p = buf;
	while (*p && n < max) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		argv[n++] = p;
		if (n == max)
			break;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

static void usage(struct core *core, const char *cmd, struct buf *out)
{
	buf_printf(out, "-USAGE: %s\n", core__command_usage(core, cmd));
}

/* A channel by the first argument, or the reply FreeSWITCH gives without one. */
static struct channel *find_or_err(struct core *core, const char *uuid, struct buf *out)
{
	struct channel *ch = core_channel_find(core, uuid);
	if (!ch)
		buf_append_cstr(out, "-ERR No such channel!\n");
	return ch;
}

static void uptime_print(struct buf *out, uint64_t us)
{
	uint64_t s = us / 1000000;
	buf_printf(out,
		   "%llu years, %llu days, %llu hours, %llu minutes, %llu seconds, %llu "
		   "milliseconds, %llu microseconds",
		   (unsigned long long)(s / (365 * 86400)), (unsigned long long)(s / 86400 % 365),
		   (unsigned long long)(s / 3600 % 24), (unsigned long long)(s / 60 % 60),
		   (unsigned long long)(s % 60), (unsigned long long)(us / 1000 % 1000),
		   (unsigned long long)(us % 1000));
}

static uint64_t uptime_us(const struct core *core)
{
	return clock_wall_us() - core->bus.started_us;
}

void core__peak_note(struct core_peak *pk, uint32_t value, uint64_t now_ms)
{
	uint64_t minute = now_ms / 60000;
	size_t i = minute % CORE_PEAK_MINUTES;
	if (pk->minute[i] != minute) {
		pk->minute[i] = minute;
		pk->minute_max[i] = 0;
	}
	if (value > pk->minute_max[i])
		pk->minute_max[i] = value;
	if (value > pk->all)
		pk->all = value;
}

uint32_t core__peak_recent(const struct core_peak *pk, uint64_t now_ms)
{
	uint64_t minute = now_ms / 60000;
	uint32_t best = 0;
	for (size_t i = 0; i < CORE_PEAK_MINUTES; i++)
		if (pk->minute[i] + CORE_PEAK_MINUTES > minute && pk->minute_max[i] > best)
			best = pk->minute_max[i];
	return best;
}

/*
 * The share of CPU time idle since the previous call (since boot the first
 * time), from /proc/stat's first line; 100 when it cannot be read. procfs is
 * not a disk: the read does not block.
 */
static double cpu_idle_percent(struct core *core)
{
	unsigned long long v[8] = {0};
	FILE *f = fopen("/proc/stat", "r");
	if (!f)
		return 100.0;
	int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		       &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 4)
		return 100.0;
	uint64_t total = 0, idle = v[3] + v[4]; /* idle + iowait */
	for (int i = 0; i < n; i++)
		total += v[i];
	uint64_t d_total = total - core->cpu_total_prev, d_idle = idle - core->cpu_idle_prev;
	core->cpu_total_prev = total;
	core->cpu_idle_prev = idle;
	if (d_total == 0)
		return 100.0;
	return 100.0 * (double)d_idle / (double)d_total;
}

static void stack_print(struct buf *out)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_STACK, &rl) != 0)
		return;
	buf_append_cstr(out, "Current Stack Size/Max ");
	if (rl.rlim_cur == RLIM_INFINITY)
		buf_append_cstr(out, "unlimited/");
	else
		buf_printf(out, "%lluK/", (unsigned long long)rl.rlim_cur / 1024);
	if (rl.rlim_max == RLIM_INFINITY)
		buf_append_cstr(out, "unlimited\n");
	else
		buf_printf(out, "%lluK\n", (unsigned long long)rl.rlim_max / 1024);
}

/* mod_commands' status, line for line, irisx naming itself. */
static void cmd_status(struct core *core, const char *args, struct buf *out)
{
	const struct config_switch *sw = &core->cfg->sw;
	uint64_t now_ms = clock_wall_us() / 1000;
	uint32_t sps = uv_now(core->loop) - core->sps_window_ms < 1000 ? core->sps_count : 0;
	buf_append_cstr(out, "UP ");
	uptime_print(out, uptime_us(core));
	buf_printf(out, "\nirisx (Version %s %dbit) is ready\n", IRISX_VERSION,
		   (int)(sizeof(void *) * 8));
	buf_printf(out, "%llu session(s) since startup\n",
		   (unsigned long long)core->sessions_total);
	buf_printf(out, "%zu session(s) - peak %u, last 5min %u \n", core->channel_count,
		   core->sessions_peak.all, core__peak_recent(&core->sessions_peak, now_ms));
	buf_printf(out, "%u session(s) per Sec out of max %u, peak %u, last 5min %u \n", sps,
		   sw->sessions_per_second, core->sps_peak.all,
		   core__peak_recent(&core->sps_peak, now_ms));
	buf_printf(out, "%u session(s) max\n", sw->max_sessions);
	buf_printf(out, "min idle cpu 0.00/%.2f\n", cpu_idle_percent(core));
	stack_print(out);
}

static void cmd_version(struct core *core, const char *args, struct buf *out)
{
	if (args && strcmp(args, "short") == 0) {
		buf_printf(out, "%s\n", IRISX_VERSION);
		return;
	}
	buf_printf(out, "irisx Version %s (%s %dbit)\n", IRISX_VERSION, IRISX_VERSION,
		   (int)(sizeof(void *) * 8));
}

static void cmd_uptime(struct core *core, const char *args, struct buf *out)
{
	static const struct {
		const char *unit;
		uint64_t us;
	} units[] = {
	    {"us", 1},
	    {"ms", 1000},
	    {"s", 1000000},
	    {"m", 60000000ULL},
	    {"h", 3600000000ULL},
	    {"d", 86400000000ULL},
	    {"y", 86400000000ULL * 365},
	};
	uint64_t us = uptime_us(core);
	const char *unit = *args ? args : "s";
	for (size_t i = 0; i < ARRAY_LEN(units); i++) {
		if (strcmp(unit, units[i].unit) == 0) {
			buf_printf(out, "%llu\n", (unsigned long long)(us / units[i].us));
			return;
		}
	}
	usage(core, "uptime", out);
}

static void help_row_cb(void *arg, const char *name, const char *usage, const char *description)
{
	struct buf *out = arg;
	buf_printf(out, "%s,%s,%s,mod_commands\n", name, description, usage);
}

static void cmd_help(struct core *core, const char *args, struct buf *out)
{
	size_t n = 0;
	for (const struct core_command *c = core->commands; c; c = c->next)
		n++;
	buf_append_cstr(out, "name,description,syntax,ikey\n");
	core_command_each(core, help_row_cb, out);
	buf_printf(out, "\n%zu total.\n", n);
}

/* ---- show channels ---- */

static const char *const channel_cols[] = {
    "uuid",
    "direction",
    "created",
    "created_epoch",
    "name",
    "state",
    "cid_name",
    "cid_num",
    "ip_addr",
    "dest",
    "application",
    "application_data",
    "dialplan",
    "context",
    "read_codec",
    "read_rate",
    "read_bit_rate",
    "write_codec",
    "write_rate",
    "write_bit_rate",
    "secure",
    "hostname",
    "presence_id",
    "presence_data",
    "accountcode",
    "callstate",
    "callee_name",
    "callee_num",
    "callee_direction",
    "call_uuid",
    "sent_callee_name",
    "sent_callee_num",
    "initial_cid_name",
    "initial_cid_num",
    "initial_ip_addr",
    "initial_dest",
    "initial_dialplan",
    "initial_context",
};
enum { CHANNEL_COLS = sizeof(channel_cols) / sizeof(channel_cols[0]) };

/* One row's values, in channel_cols' order, formatted into `scratch`. */
static void channel_row(struct core *core, struct channel *ch, const char **v, char scratch[3][64])
{
	time_t t = (time_t)(ch->created_us / 1000000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(scratch[0], 64, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(scratch[1], 64, "%lld", (long long)t);
	snprintf(scratch[2], 64, "%u", ch->media ? ch->media->audio_rate : 0);
	const char *codec = ch->media && ch->media->codec_name ? ch->media->codec_name : "";
	const char *rate = ch->media && ch->media->codec_name ? scratch[2] : "";
	const char *name = channel_var(ch, "channel_name");
	const char *app = channel_var(ch, "current_application");
	const char *app_data = channel_var(ch, "current_application_data");
	const char *cs = ch->callstate ? ch->callstate : "DOWN";
#define S(x) ((x) ? (x) : "")
	const char *vals[CHANNEL_COLS] = {
	    ch->uuid,
	    ch->direction == CHANNEL_INBOUND ? "inbound" : "outbound",
	    scratch[0],
	    scratch[1],
	    S(name),
	    channel_state_name(ch->state),
	    S(ch->caller_id_name),
	    S(ch->caller_id_number),
	    S(ch->network_addr),
	    S(ch->destination_number),
	    S(app),
	    S(app_data),
	    S(ch->dialplan),
	    S(ch->context),
	    codec,
	    rate,
	    "",
	    codec,
	    rate,
	    "",
	    "",
	    core->bus.hostname,
	    "",
	    "",
	    "",
	    cs,
	    "",
	    "",
	    "",
	    ch->uuid,
	    "",
	    "",
	    S(ch->caller_id_name),
	    S(ch->caller_id_number),
	    S(ch->network_addr),
	    S(ch->destination_number),
	    S(ch->dialplan),
	    S(ch->context),
	};
#undef S
	memcpy(v, vals, sizeof(vals));
}

struct show_ctx {
	struct core *core;
	struct buf *out;
	size_t n;
	bool json;
};

static void json_str(struct buf *out, const char *s)
{
	buf_append(out, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			buf_printf(out, "\\%c", c);
		else if (c < 0x20)
			buf_printf(out, "\\u%04x", c);
		else
			buf_append(out, s, 1);
	}
	buf_append(out, "\"", 1);
}

static void show_row_cb(void *arg, struct channel *ch)
{
	struct show_ctx *x = arg;
	const char *v[CHANNEL_COLS];
	char scratch[3][64];
	channel_row(x->core, ch, v, scratch);
	if (x->json) {
		buf_append_cstr(x->out, x->n ? ",{" : "{");
		for (size_t i = 0; i < CHANNEL_COLS; i++) {
			if (i)
				buf_append(x->out, ",", 1);
			json_str(x->out, channel_cols[i]);
			buf_append(x->out, ":", 1);
			json_str(x->out, v[i]);
		}
		buf_append(x->out, "}", 1);
	} else {
		if (x->n == 0) {
			for (size_t i = 0; i < CHANNEL_COLS; i++)
				buf_printf(x->out, "%s%s", i ? "," : "", channel_cols[i]);
			buf_append(x->out, "\n", 1);
		}
		for (size_t i = 0; i < CHANNEL_COLS; i++)
			buf_printf(x->out, "%s%s", i ? "," : "", v[i]);
		buf_append(x->out, "\n", 1);
	}
	x->n++;
}

static void cmd_show(struct core *core, const char *args, struct buf *out)
{
	char tmp[256], *argv[4];
	int n = split(args, tmp, sizeof(tmp), argv, 4);
	if (n < 1) {
		usage(core, "show", out);
		return;
	}
	bool channels = strcasecmp(argv[0], "channels") == 0 || strcasecmp(argv[0], "calls") == 0;
	if (!channels) {
		usage(core, "show", out);
		return;
	}
	if (n == 2 && strcasecmp(argv[1], "count") == 0) {
		buf_printf(out, "\n%zu total.\n", core->channel_count);
		return;
	}
	struct show_ctx x = {core, out, 0, false};
	if (n >= 2) {
		/* "as json" (FreeSWITCH also takes a "like" filter; not here). */
		char *rest = strstr(args, "as ");
		if (!rest || strcasecmp(rest + 3, "json") != 0) {
			usage(core, "show", out);
			return;
		}
		x.json = true;
		struct buf rows;
		buf_init(&rows);
		x.out = &rows;
		core_channel_each(core, show_row_cb, &x);
		if (x.n == 0) {
			buf_append_cstr(out, "{\"row_count\":0}");
		} else {
			buf_printf(out, "{\"row_count\":%zu,\"rows\":[", x.n);
			buf_append(out, rows.p, rows.len);
			buf_append_cstr(out, "]}");
		}
		buf_fini(&rows);
		return;
	}
	core_channel_each(core, show_row_cb, &x);
	buf_printf(out, "\n%zu total.\n", x.n);
}

/* ---- the uuid_* family ---- */

static void cmd_uuid_kill(struct core *core, const char *args, struct buf *out)
{
	char tmp[256], *argv[2];
	int n = split(args, tmp, sizeof(tmp), argv, 2);
	enum core_cause cause = CAUSE_NORMAL_CLEARING;
	if (n < 1) {
		usage(core, "uuid_kill", out);
		return;
	}
	struct channel *ch = find_or_err(core, argv[0], out);
	if (!ch)
		return;
	if (n == 2 && core_cause_parse(argv[1], &cause) != 0)
		cause = CAUSE_NORMAL_CLEARING;
	channel_hangup(ch, cause);
	buf_append_cstr(out, "+OK\n");
}

static void cmd_uuid_answer(struct core *core, const char *args, struct buf *out)
{
	if (!*args) {
		usage(core, "uuid_answer", out);
		return;
	}
	struct channel *ch = find_or_err(core, args, out);
	if (!ch)
		return;
	int err = channel_answer(ch);
	if (err)
		buf_printf(out, "-ERR %s\n", strerror(-err));
	else
		buf_append_cstr(out, "+OK\n");
}

static void cmd_uuid_broadcast(struct core *core, const char *args, struct buf *out)
{
	char tmp[1024], *argv[3];
	int n = split(args, tmp, sizeof(tmp), argv, 3);
	if (n < 2) {
		usage(core, "uuid_broadcast", out);
		return;
	}
	struct channel *ch = find_or_err(core, argv[0], out);
	if (!ch)
		return;
	/* argv[2], the leg (aleg, bleg, both): a channel has one leg here. */
	int err = channel_play(ch, argv[1], NULL, NULL);
	if (err)
		buf_printf(out, "-ERR %s\n", strerror(-err));
	else
		buf_append_cstr(out, "+OK Message sent\n");
}

static void cmd_uuid_break(struct core *core, const char *args, struct buf *out)
{
	char tmp[256], *argv[2];
	if (split(args, tmp, sizeof(tmp), argv, 2) < 1) {
		usage(core, "uuid_break", out);
		return;
	}
	struct channel *ch = find_or_err(core, argv[0], out);
	if (!ch)
		return;
	channel_stop_media(ch);
	buf_append_cstr(out, "+OK\n");
}

static void cmd_uuid_getvar(struct core *core, const char *args, struct buf *out)
{
	char tmp[512], *argv[2];
	if (split(args, tmp, sizeof(tmp), argv, 2) < 2) {
		usage(core, "uuid_getvar", out);
		return;
	}
	struct channel *ch = find_or_err(core, argv[0], out);
	if (!ch)
		return;
	const char *v = channel_var(ch, argv[1]);
	buf_append_cstr(out, v ? v : "_undef_");
}

static void cmd_uuid_setvar(struct core *core, const char *args, struct buf *out)
{
	char tmp[2048], *argv[3];
	int n = split(args, tmp, sizeof(tmp), argv, 3);
	if (n < 2) {
		usage(core, "uuid_setvar", out);
		return;
	}
	struct channel *ch = find_or_err(core, argv[0], out);
	if (!ch)
		return;
	int err = channel_var_set(ch, argv[1], n == 3 ? argv[2] : NULL);
	if (err)
		buf_printf(out, "-ERR %s\n", strerror(-err));
	else
		buf_append_cstr(out, "+OK\n");
}

static void cmd_uuid_dump(struct core *core, const char *args, struct buf *out)
{
	char tmp[256], *argv[2];
	int n = split(args, tmp, sizeof(tmp), argv, 2);
	if (n < 1) {
		usage(core, "uuid_dump", out);
		return;
	}
	struct channel *ch = find_or_err(core, argv[0], out);
	if (!ch)
		return;
	/* The channel's headers, as its events carry them, without firing one. */
	struct core_event *ev = core__channel_event_build(ch, "CHANNEL_DATA");
	if (!ev) {
		buf_append_cstr(out, "-ERR out of memory\n");
		return;
	}
	const char *fmt = n == 2 ? argv[1] : "plain";
	if (strcasecmp(fmt, "json") == 0)
		core_event_print_json(ev, out);
	else if (strcasecmp(fmt, "xml") == 0)
		core_event_print_xml(ev, out);
	else
		core_event_print_plain(ev, out);
	core_event_unref(ev);
}

static void cmd_uuid_send_dtmf(struct core *core, const char *args, struct buf *out)
{
	char tmp[512], *argv[2], digits[CORE_DTMF_MAX + 1];
	uint32_t ms;
	if (split(args, tmp, sizeof(tmp), argv, 2) < 2) {
		usage(core, "uuid_send_dtmf", out);
		return;
	}
	struct channel *ch = find_or_err(core, argv[0], out);
	if (!ch)
		return;
	if (core_dtmf_parse(argv[1], digits, &ms) != 0) {
		buf_printf(out, "-ERR invalid DTMF '%s'\n", argv[1]);
		return;
	}
	int err = channel_send_dtmf(ch, digits, ms);
	if (err == -ENOTSUP)
		buf_append_cstr(out, "-ERR no telephone-event negotiated on this channel\n");
	else if (err)
		buf_printf(out, "-ERR %s\n", strerror(-err));
	else
		buf_append_cstr(out, "+OK Success\n");
}

/* uuid_record <uuid> start|stop|mask|unmask <path> [<limit_secs>] */
static void cmd_uuid_record(struct core *core, const char *args, struct buf *out)
{
	char tmp[4200], *argv[4];
	int n = split(args, tmp, sizeof(tmp), argv, 4);
	if (n < 3) {
		usage(core, "uuid_record", out);
		return;
	}
	struct channel *ch = find_or_err(core, argv[0], out);
	if (!ch)
		return;
	const char *action = argv[1], *path = argv[2];
	int err;
	if (strcasecmp(action, "start") == 0) {
		uint32_t limit = 0;
		if (n == 4) {
			char *end;
			unsigned long v = strtoul(argv[3], &end, 10);
			if (*end || end == argv[3] || v > 86400 * 7) {
				buf_printf(out, "-ERR invalid limit '%s'\n", argv[3]);
				return;
			}
			limit = (uint32_t)v;
		}
		err = channel_record_start(ch, path, limit);
	} else if (strcasecmp(action, "stop") == 0) {
		err = channel_record_stop(ch, path);
	} else if (strcasecmp(action, "mask") == 0 || strcasecmp(action, "unmask") == 0) {
		err = channel_record_mask(ch, path, strcasecmp(action, "mask") == 0);
	} else {
		usage(core, "uuid_record", out);
		return;
	}
	if (err == -EINVAL)
		buf_printf(out, "-ERR invalid path '%s'\n", path);
	else if (err == -ENOENT)
		buf_printf(out, "-ERR no recording to %s\n", path);
	else if (err == -EEXIST)
		buf_printf(out, "-ERR already recording to %s\n", path);
	else if (err == -ENOTSUP)
		buf_append_cstr(out, "-ERR recording is not available\n");
	else if (err)
		buf_printf(out, "-ERR %s\n", strerror(-err));
	else
		buf_append_cstr(out, "+OK Success\n");
}

static void cmd_uuid_exists(struct core *core, const char *args, struct buf *out)
{
	buf_append_cstr(out, *args && core_channel_find(core, args) ? "true" : "false");
}

static void hupall_cb(void *arg, struct channel *ch)
{
	channel_hangup(ch, *(enum core_cause *)arg);
}

static void cmd_hupall(struct core *core, const char *args, struct buf *out)
{
	char tmp[256], *argv[1];
	enum core_cause cause = CAUSE_MANAGER_REQUEST;
	if (split(args, tmp, sizeof(tmp), argv, 1) == 1 && core_cause_parse(argv[0], &cause) != 0)
		cause = CAUSE_MANAGER_REQUEST;
	core_channel_each(core, hupall_cb, &cause);
	buf_printf(out, "+OK hangup all channels with cause %s\n", core_cause_name(cause));
}

static void cmd_create_uuid(struct core *core, const char *args, struct buf *out)
{
	char u[UUID_STRLEN];
	uuid_generate(u);
	buf_append_cstr(out, u);
}

static void cmd_global_getvar(struct core *core, const char *args, struct buf *out)
{
	if (*args) {
		const char *v = core_global_var(core, args);
		buf_append_cstr(out, v ? v : "");
		return;
	}
	for (const struct core_global *g = core->globals; g; g = g->next)
		buf_printf(out, "%s=%s\n", g->name, g->value);
}

static void cmd_global_setvar(struct core *core, const char *args, struct buf *out)
{
	const char *eq = strchr(args, '=');
	if (!eq || eq == args) {
		usage(core, "global_setvar", out);
		return;
	}
	char name[256];
	size_t nl = (size_t)(eq - args);
	while (nl && (args[nl - 1] == ' ' || args[nl - 1] == '\t'))
		nl--;
	if (nl == 0 || nl >= sizeof(name)) {
		usage(core, "global_setvar", out);
		return;
	}
	memcpy(name, args, nl);
	name[nl] = '\0';
	const char *value = eq + 1;
	while (*value == ' ' || *value == '\t')
		value++;
	int err = core__global_set(core, name, value);
	if (err)
		buf_printf(out, "-ERR %s\n", strerror(-err));
	else
		buf_append_cstr(out, "+OK\n");
}

static void cmd_reloadacl(struct core *core, const char *args, struct buf *out)
{
	char err[512];
	if (core__acls_reload(core, err, sizeof(err)) != 0) {
		buf_printf(out, "-ERR %s\n", err);
		return;
	}
	log_notice("ACLs reloaded (reloadacl)");
	buf_append_cstr(out, "+OK acl reloaded\n");
}

static void cmd_reloadxml(struct core *core, const char *args, struct buf *out)
{
	if (core_reload(core) != 0)
		buf_append_cstr(out, "-ERR reloadxml failed, see the log\n");
	else
		buf_append_cstr(out, "+OK [Success]\n");
}

static void cmd_fsctl(struct core *core, const char *args, struct buf *out)
{
	if (strcasecmp(args, "shutdown") != 0 && strncasecmp(args, "shutdown ", 9) != 0) {
		usage(core, "fsctl", out);
		return;
	}
	if (!core->app_shutdown_cb) {
		buf_append_cstr(out, "-ERR shutdown is not available\n");
		return;
	}
	core->app_shutdown_cb(core->app_shutdown_arg);
	buf_append_cstr(out, "+OK\n");
}

static const struct {
	const char *name, *usage, *description;
	core_command_fn fn;
} builtins[] = {
    {"create_uuid", "", "Create a uuid", cmd_create_uuid},
    {"fsctl", "shutdown", "FS control messages", cmd_fsctl},
    {"global_getvar", "<var>", "Get global var", cmd_global_getvar},
    {"global_setvar", "<var>=<value>", "Set global var", cmd_global_setvar},
    {"help", "", "Show help for all the api commands", cmd_help},
    {"hupall", "<cause>", "hupall", cmd_hupall},
    {"reloadacl", "", "Reload XML", cmd_reloadacl},
    {"reloadxml", "", "Reload XML", cmd_reloadxml},
    {"show", "channels|calls [count|as json]", "Show various reports", cmd_show},
    {"sofia", "status [profile <name>|gateway <name>]", "Sofia Controls", core__sofia_status},
    {"status", "", "Show current status", cmd_status},
    {"uptime", "[us|ms|s|m|h|d|y]", "Show uptime", cmd_uptime},
    {"uuid_answer", "<uuid>", "answer", cmd_uuid_answer},
    {"uuid_break", "<uuid> [all]", "Break out of media sent to channel", cmd_uuid_break},
    {"uuid_broadcast", "<uuid> <path> [aleg|bleg|both]", "Execute dialplan application",
     cmd_uuid_broadcast},
    {"uuid_dump", "<uuid> [format]", "Dump session vars", cmd_uuid_dump},
    {"uuid_exists", "<uuid>", "Check if a uuid exists", cmd_uuid_exists},
    {"uuid_getvar", "<uuid> <var>", "Get a variable from a channel", cmd_uuid_getvar},
    {"uuid_kill", "<uuid> [cause]", "Kill channel", cmd_uuid_kill},
    {"uuid_record", "<uuid> [start|stop|mask|unmask] <path> [<limit>]", "Record session audio",
     cmd_uuid_record},
    {"uuid_send_dtmf", "<uuid> <dtmf_data>", "Send dtmf digits", cmd_uuid_send_dtmf},
    {"uuid_setvar", "<uuid> <var> [value]", "Set a variable", cmd_uuid_setvar},
    {"version", "[short]", "Version", cmd_version},
};

int core__commands_register(struct core *core)
{
	for (size_t i = 0; i < ARRAY_LEN(builtins); i++) {
		int err = core_command_register(core, builtins[i].name, builtins[i].usage,
						builtins[i].description, builtins[i].fn);
		if (err)
			return err;
	}
	return 0;
}
