/*
 * `irisx-cli calls`: the channels as a live table, loaded from `show
 * channels as json` and then kept current from CHANNEL_* events (calls.c).
 *
 * On a terminal the screen is redrawn in place at most every 200 ms when
 * something changed and every second for the durations; 'q' or Ctrl-C
 * leaves. When stdout is not a terminal, a new table is printed after each
 * change (a blank line between tables), which scripts and tests can read.
 */
#include "cli_bin.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

enum { REDRAW_MIN_MS = 200, TICK_MS = 1000 };

static const char channel_events[] = "event plain CHANNEL_CREATE CHANNEL_PROGRESS "
				     "CHANNEL_PROGRESS_MEDIA CHANNEL_ANSWER CHANNEL_CALLSTATE "
				     "CHANNEL_BRIDGE CHANNEL_UNBRIDGE CHANNEL_HOLD CHANNEL_UNHOLD "
				     "CHANNEL_EXECUTE CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE "
				     "CHANNEL_DESTROY";

/* The only state a signal handler may touch. */
static volatile sig_atomic_t g_interrupted;

static void on_sigint(int sig)
{
	g_interrupted = 1;
}

static uint64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static unsigned terminal_width(bool tty)
{
	struct winsize ws;
	if (tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col;
	return 80;
}

static void draw(const struct cli_calls *calls, bool tty, const struct cli_opts *o)
{
	struct buf out;
	buf_init(&out);
	if (tty)
		buf_append_cstr(&out, "\033[H\033[2J");
	cli_calls_print(calls, wall_us(), terminal_width(tty), &out);
	buf_printf(&out, "%zu channel%s%s", calls->count, calls->count == 1 ? "" : "s",
		   tty ? " - q to quit" : "");
	if (calls->dropped)
		buf_printf(&out, " (%llu not shown: table full)",
			   (unsigned long long)calls->dropped);
	buf_append_cstr(&out, tty ? "\n" : "\n\n");
	if (!out.failed)
		fwrite(out.p, 1, out.len, stdout);
	fflush(stdout);
	buf_fini(&out);
}

/* The event inside a text/event-plain frame, into `calls`. */
static bool apply_frame(struct cli_calls *calls, const struct cli_frame *f)
{
	if (!str_ieq_cstr(cli_frame_header(f, "Content-Type"), "text/event-plain"))
		return false;
	struct cli_frame ev;
	size_t used;
	if (cli_frame_parse(&ev, f->body.p ? f->body.p : "", f->body.len, &used) != 0) {
		/* An event body without its blank line: headers to the end. */
		struct buf b;
		buf_init(&b);
		buf_append_str(&b, f->body);
		buf_append_cstr(&b, "\n\n");
		bool changed = !b.failed && cli_frame_parse(&ev, b.p, b.len, &used) == 0 &&
			       cli_calls_apply(calls, &ev);
		buf_fini(&b);
		return changed;
	}
	return cli_calls_apply(calls, &ev);
}

struct view {
	struct cli_calls calls; /* large: heap */
	bool changed;
};

static void other_frame_cb(void *arg, const struct cli_frame *f)
{
	struct view *v = arg;
	if (apply_frame(&v->calls, f))
		v->changed = true;
}

int cli_calls_run(struct cli_conn *c, const struct cli_opts *o)
{
	struct view *v = calloc(1, sizeof(*v));
	struct cli_frame *f;
	int status = 0;

	if (!v)
		return 2;
	cli_calls_init(&v->calls);
	/* Subscribe first: a channel created between the list and the
	 * subscription then still arrives as an event. */
	int e = cli_conn_request(c, channel_events, 5000, NULL, NULL, &f);
	if (e == 0 && !cli_reply_ok(cli_reply_text(f)))
		e = -EPROTO;
	if (e == 0)
		e = cli_conn_request(c, "api show channels as json", 5000, other_frame_cb, v, &f);
	if (e == 0 && cli_calls_load_json(&v->calls, cli_reply_text(f)) != 0)
		fprintf(stderr, "irisx-cli: could not read the channel list; showing new calls\n");
	if (e) {
		fprintf(stderr, "irisx-cli: cannot follow the channels: %s\n", strerror(-e));
		free(v);
		return 2;
	}

	bool tty = isatty(STDOUT_FILENO);
	bool keys = isatty(STDIN_FILENO);
	struct termios saved;
	if (keys && tcgetattr(STDIN_FILENO, &saved) == 0) {
		struct termios raw = saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	} else {
		keys = false;
	}
	struct sigaction sa = {.sa_handler = on_sigint}, old_int, old_term;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	draw(&v->calls, tty, o);
	uint64_t last_draw = mono_ms();
	while (!g_interrupted) {
		for (;;) {
			e = cli_conn_next(c, 0, &f);
			if (e)
				break;
			if (apply_frame(&v->calls, f))
				v->changed = true;
		}
		if (e != -ETIMEDOUT) {
			fprintf(stderr, "irisx-cli: %s\n",
				e == -EPIPE ? "the server closed the connection" : strerror(-e));
			status = 2;
			break;
		}
		uint64_t now = mono_ms();
		if ((v->changed && now - last_draw >= REDRAW_MIN_MS) ||
		    (tty && now - last_draw >= TICK_MS)) {
			draw(&v->calls, tty, o);
			v->changed = false;
			last_draw = now;
		}
		struct pollfd p[2] = {{.fd = c->fd, .events = POLLIN},
				      {.fd = keys ? STDIN_FILENO : -1, .events = POLLIN}};
		int wait = v->changed ? REDRAW_MIN_MS : TICK_MS;
		if (poll(p, 2, wait) < 0 && errno != EINTR) {
			status = 2;
			break;
		}
		if (keys && (p[1].revents & POLLIN)) {
			char k;
			if (read(STDIN_FILENO, &k, 1) == 1 && (k == 'q' || k == 'Q'))
				break;
		}
	}
	if (keys)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	free(v);
	return status;
}
