/*
 * Internals shared by the files of irisx-cli (src/cli/bin/): the blocking
 * Event Socket connection, the options, the interactive console and the
 * `calls` view. Nothing outside src/cli/bin/ includes this.
 */
#ifndef IRISX_CLI_BIN_H
#define IRISX_CLI_BIN_H

#include "cli/cli.h"

#include <stdbool.h>
#include <stddef.h>

struct cli_opts {
	const char *host;      /* -H, default 127.0.0.1 */
	const char *port;      /* -P, default 8021 */
	const char *password;  /* -p, IRISX_ESL_PASSWORD, <state>/esl_password, ClueCon */
	const char *state_dir; /* -s */
	const char *exec;      /* -x */
	const char *log_level; /* -l, default "info" in the console */
	int timeout_ms;	       /* -t, api reply wait in -x mode; 0: no limit */
	bool retry;	       /* -r */
	bool quiet;	       /* -q */
	bool color;	       /* a terminal and not -b */
};

/* One connection, read with poll() and parsed with cli_frame_parse. */
struct cli_conn {
	int fd;
	char *in; /* owned; bytes received and not yet consumed */
	size_t in_len, in_cap;
	size_t consumed; /* the last frame handed out, dropped at the next read */
	/* Replies still due to requests given up on (Ctrl-C while waiting):
	 * replies come in order, so the next ones are theirs and are skipped. */
	size_t abandoned;
	struct cli_frame frame;
};

/* Connects to host:port (a name or an IPv4/IPv6 literal), waits for
 * auth/request, authenticates. 0, or a negative errno with a sentence for
 * the user in err (-EACCES: the server refused the password). */
int cli_conn_open(struct cli_conn *c, const char *host, const char *port, const char *password,
		  char *err, size_t err_size);
void cli_conn_close(struct cli_conn *c);

/* Writes one command: `line`, then an empty line. 0 or a negative errno. */
int cli_conn_send(struct cli_conn *c, const char *line);

/*
 * The next frame, waiting at most timeout_ms (-1: no limit). The frame (and
 * the slices in it) stays valid until the next call. -ETIMEDOUT, -EPIPE when
 * the server closed the connection, -EBADMSG for bytes that are not ESL.
 */
int cli_conn_next(struct cli_conn *c, int timeout_ms, struct cli_frame **out);

/* Called with each frame that is not the awaited reply (events, log lines). */
typedef void (*cli_frame_cb)(void *arg, const struct cli_frame *f);

/*
 * Sends `line` and waits for its reply (command/reply or api/response),
 * handing every other frame to other_cb (may be NULL). Returns 0 with *out
 * set, or as cli_conn_next. On -EINTR (a signal while waiting) or
 * -ETIMEDOUT the request is counted in c->abandoned, so that its late reply
 * is not taken for the next request's.
 */
int cli_conn_request(struct cli_conn *c, const char *line, int timeout_ms, cli_frame_cb other_cb,
		     void *arg, struct cli_frame **out);

/* Whether a frame is a reply to a command (command/reply, api/response). */
bool cli_frame_is_reply(const struct cli_frame *f);

/* A reply's text: the body of an api/response, else its Reply-Text. */
struct str cli_reply_text(const struct cli_frame *f);

/* Connects as the options say (retrying when -r), printing why it failed. */
int cli_connect(struct cli_conn *c, const struct cli_opts *o);

/* Prints an event or a log line as the console shows them. */
void cli_print_frame(const struct cli_opts *o, const struct cli_frame *f);

int cli_console_run(struct cli_conn *c, const struct cli_opts *o);
int cli_calls_run(struct cli_conn *c, const struct cli_opts *o);

#endif
