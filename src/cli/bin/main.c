/*
 * irisx-cli: a console for irisx (and FreeSWITCH) over the Event Socket.
 *
 *   irisx-cli [-H host] [-P port] [-p password] [-s statedir] [-x command]
 *             [-t ms] [-l level] [-r] [-q] [-b] [calls]
 *
 * The flags are fs_cli's where both have them. Without -x it is an
 * interactive console (console.c); `calls` is the live channel list
 * (calls_view.c). Exit status: 0, 1 when -x's reply starts with -ERR (as
 * fs_cli), 2 when the connection or authentication failed or for bad usage.
 */
#include "cli_bin.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { RETRY_ATTEMPTS = 30, RETRY_DELAY_S = 1 };

static void usage(FILE *to)
{
	fprintf(to, "usage: irisx-cli [options] [calls]\n"
		    "  -H HOST     Event Socket host (default 127.0.0.1)\n"
		    "  -P PORT     Event Socket port (default 8021)\n"
		    "  -p PASS     password (default: $IRISX_ESL_PASSWORD, else the esl_password\n"
		    "              file of the state directory, else ClueCon)\n"
		    "  -s DIR      irisx's state directory to read esl_password from (default:\n"
		    "              var, then /var/lib/irisx)\n"
		    "  -x CMD      run one api command, print its reply, exit 1 if it starts\n"
		    "              with -ERR\n"
		    "  -t MS       with -x, give up waiting for the reply after MS milliseconds\n"
		    "  -l LEVEL    log level the console subscribes to (debug, info, notice,\n"
		    "              warning, err or 0-7; default info)\n"
		    "  -r          retry connecting (every second, for 30 s)\n"
		    "  -q          quiet: no log lines in the console\n"
		    "  -b          batch mode: no colour\n"
		    "  -h          this help\n"
		    "  -v          print the version\n"
		    "  calls       a live list of the channels, refreshed from events\n");
}

/* The first line of a password file, without its line break. */
static int read_password_file(const char *path, char *out, size_t size)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	int e = 0;
	if (!fgets(out, (int)size, f))
		e = ferror(f) ? -EIO : -ENODATA;
	fclose(f);
	if (e)
		return e;
	out[strcspn(out, "\r\n")] = '\0';
	return out[0] ? 0 : -ENODATA;
}

/*
 * -p, then $IRISX_ESL_PASSWORD, then <state>/esl_password (-s, or var/ under
 * `make run`, then the installed /var/lib/irisx), then FreeSWITCH's default.
 * A file that exists but cannot be read is worth saying: it is the usual
 * reason a console of an installed irisx fails (not root, not in its group).
 */
static const char *resolve_password(struct cli_opts *o, char *store, size_t size)
{
	if (o->password)
		return o->password;
	const char *env = getenv("IRISX_ESL_PASSWORD");
	if (env && *env)
		return env;
	const char *dirs[] = {o->state_dir, o->state_dir ? NULL : "var",
			      o->state_dir ? NULL : "/var/lib/irisx"};
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++) {
		if (!dirs[i])
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/esl_password", dirs[i]);
		int e = read_password_file(path, store, size);
		if (e == 0)
			return store;
		if (e != -ENOENT && e != -ENOTDIR)
			fprintf(stderr, "irisx-cli: cannot read %s: %s\n", path, strerror(-e));
	}
	return "ClueCon";
}

int cli_connect(struct cli_conn *c, const struct cli_opts *o)
{
	char err[512];
	for (int attempt = 1;; attempt++) {
		int e = cli_conn_open(c, o->host, o->port, o->password, err, sizeof(err));
		if (e == 0)
			return 0;
		/* A refused password will not get better by asking again. */
		bool again = o->retry && e != -EACCES && e != -EINVAL && attempt < RETRY_ATTEMPTS;
		if (!again) {
			fprintf(stderr, "irisx-cli: %s\n", err);
			return e;
		}
		if (!o->quiet)
			fprintf(stderr, "irisx-cli: %s; retrying\n", err);
		sleep(RETRY_DELAY_S);
	}
}

static const char *level_color(int level)
{
	if (level <= 3)
		return "\033[31m"; /* err and worse: red */
	if (level == 4)
		return "\033[35m"; /* warning: magenta */
	if (level == 5)
		return "\033[36m"; /* notice: cyan */
	if (level == 6)
		return "\033[32m"; /* info: green */
	return "\033[33m";	   /* debug: yellow, as fs_cli */
}

void cli_print_frame(const struct cli_opts *o, const struct cli_frame *f)
{
	struct str type = cli_frame_header(f, "Content-Type");
	struct str body = f->body;
	if (str_ieq_cstr(type, "log/data")) {
		uint32_t level = 7;
		str_to_u32(cli_frame_header(f, "Log-Level"), &level);
		while (body.len && body.p[body.len - 1] == '\n')
			body.len--;
		if (o->color)
			printf("%s%.*s\033[0m\n", level_color((int)level), (int)body.len, body.p);
		else
			printf("%.*s\n", (int)body.len, body.p);
	} else if (str_starts_with_i(type, "text/event-")) {
		printf("\n%.*s%s", (int)body.len, body.p,
		       body.len && body.p[body.len - 1] == '\n' ? "" : "\n");
	} else if (str_ieq_cstr(type, "text/disconnect-notice")) {
		printf("%s%.*s%s\n", o->color ? "\033[31m" : "", (int)str_trim(body).len,
		       str_trim(body).p, o->color ? "\033[0m" : "");
	}
	fflush(stdout);
}

/* -x: one api command. The reply goes to stdout as is. */
static int run_exec(struct cli_conn *c, const struct cli_opts *o)
{
	struct buf line;
	buf_init(&line);
	buf_printf(&line, "api %s", o->exec);
	if (line.failed || strpbrk(o->exec, "\r\n")) {
		fprintf(stderr, "irisx-cli: -x takes one line\n");
		buf_fini(&line);
		return 2;
	}
	struct cli_frame *f;
	int e = cli_conn_request(c, line.p, o->timeout_ms > 0 ? o->timeout_ms : -1, NULL, NULL, &f);
	buf_fini(&line);
	if (e) {
		fprintf(stderr, "irisx-cli: no reply to '%s': %s\n", o->exec,
			e == -EPIPE ? "the server closed the connection" : strerror(-e));
		return 2;
	}
	struct str text = cli_reply_text(f);
	fwrite(text.p, 1, text.len, stdout);
	if (text.len == 0 || text.p[text.len - 1] != '\n')
		fputc('\n', stdout);
	fflush(stdout);
	return cli_reply_ok(text) ? 0 : 1;
}

static int parse_args(int argc, char **argv, struct cli_opts *o)
{
	int ch;
	while ((ch = getopt(argc, argv, "H:P:p:s:x:t:l:rqbhv")) != -1) {
		switch (ch) {
		case 'H':
			o->host = optarg;
			break;
		case 'P':
			o->port = optarg;
			break;
		case 'p':
			o->password = optarg;
			break;
		case 's':
			o->state_dir = optarg;
			break;
		case 'x':
			o->exec = optarg;
			break;
		case 't': {
			uint32_t ms;
			if (str_to_u32(str_from_cstr(optarg), &ms) != 0 || ms > 86400000) {
				fprintf(stderr, "irisx-cli: -t wants milliseconds\n");
				return 2;
			}
			o->timeout_ms = (int)ms;
			break;
		}
		case 'l':
			o->log_level = optarg;
			break;
		case 'r':
			o->retry = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'b':
			o->color = false;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'v':
			printf("irisx-cli %s\n", IRISX_VERSION);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct cli_opts o = {.host = "127.0.0.1", .port = "8021", .color = isatty(STDOUT_FILENO)};
	char password[1024];
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	bool calls = false;
	if (optind < argc) {
		if (strcmp(argv[optind], "calls") != 0 || optind + 1 != argc || o.exec) {
			usage(stderr);
			return 2;
		}
		calls = true;
	}
	o.password = resolve_password(&o, password, sizeof(password));

	struct cli_conn c;
	if (cli_connect(&c, &o) != 0)
		return 2;
	if (o.exec)
		rc = run_exec(&c, &o);
	else if (calls)
		rc = cli_calls_run(&c, &o);
	else
		rc = cli_console_run(&c, &o);
	cli_conn_close(&c);
	return rc;
}
