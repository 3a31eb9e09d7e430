/*
 * irisx-cli's interactive console: a prompt with line editing, history
 * ($HOME/.irisx_cli_history) and tab completion (libedit's readline
 * interface), while log lines and events from the server print above it.
 *
 * Lines are api commands, except fs_cli's slash commands: /event, /noevents,
 * /nixevent, /log, /nolog, /help, /exit (/quit, /bye). Command names complete
 * from the server's `help`, later words from the uuids of `show channels as
 * json`. When stdin is not a terminal the same commands are read as plain
 * lines, without libedit.
 *
 * Ctrl-C clears the line being typed, or gives up waiting for a reply (a
 * long originate); Ctrl-D or /exit leaves.
 *
 * readline's callbacks take no argument, so the console's state is one
 * file-scope struct, set up and torn down by cli_console_run.
 */
#include "cli_bin.h"

#include <editline/readline.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { HISTORY_LINES = 1000, MAX_COMPLETIONS = 4096 };

static const char *const slash_commands[] = {
    "/event", "/noevents", "/nixevent", "/log", "/nolog", "/help", "/exit", "/quit", "/bye",
};

struct console {
	struct cli_conn *c;
	const struct cli_opts *o;
	bool done;
	int status;
	bool editing;	    /* libedit owns the terminal line */
	char history[4096]; /* empty: no history file */
	char **names;	    /* command names from `help`, owned */
	size_t name_count;
	char **candidates; /* the current completion's words, owned */
	size_t candidate_count;
};

static struct console g_console;
/* Set by SIGINT; the loop (or a request's poll, interrupted) acts on it. */
static volatile sig_atomic_t g_interrupted;

static void on_sigint(int sig)
{
	g_interrupted = 1;
}

/* Prints a frame above the prompt and puts the prompt and the line back. */
static void print_above_prompt(void *arg, const struct cli_frame *f)
{
	struct console *con = arg;
	if (con->editing) {
		fputs("\r\033[K", stdout);
	}
	cli_print_frame(con->o, f);
	if (con->editing)
		rl_forced_update_display();
}

static void free_words(char ***words, size_t *count)
{
	for (size_t i = 0; i < *count; i++)
		free((*words)[i]);
	free(*words);
	*words = NULL;
	*count = 0;
}

static void add_word(char ***words, size_t *count, const char *w, size_t len)
{
	if (*count >= MAX_COMPLETIONS || len == 0)
		return;
	char **grown = realloc(*words, (*count + 1) * sizeof(**words));
	if (!grown)
		return;
	*words = grown;
	char *copy = strndup(w, len);
	if (copy)
		(*words)[(*count)++] = copy;
}

/* `help` is CSV: a heading line, then name,description,syntax,ikey. */
static void load_command_names(struct console *con)
{
	struct cli_frame *f;
	if (cli_conn_request(con->c, "api help", 5000, print_above_prompt, con, &f) != 0)
		return;
	struct str body = cli_reply_text(f);
	bool heading = true;
	while (body.len) {
		ptrdiff_t nl = str_find_char(body, '\n');
		struct str line = str_make(body.p, nl < 0 ? body.len : (size_t)nl);
		body = nl < 0 ? STR_NULL : str_make(body.p + nl + 1, body.len - (size_t)nl - 1);
		if (heading) {
			heading = false;
			continue;
		}
		ptrdiff_t comma = str_find_char(line, ',');
		if (comma > 0)
			add_word(&con->names, &con->name_count, line.p, (size_t)comma);
	}
}

static void uuid_row_cb(void *arg, size_t row, const char *key, const char *value)
{
	struct console *con = arg;
	if (key && strcmp(key, "uuid") == 0)
		add_word(&con->candidates, &con->candidate_count, value, strlen(value));
}

static char *candidate_gen(const char *text, int state)
{
	static size_t next;
	if (state == 0)
		next = 0;
	size_t len = strlen(text);
	while (next < g_console.candidate_count) {
		const char *w = g_console.candidates[next++];
		if (strncmp(w, text, len) == 0)
			return strdup(w);
	}
	return NULL;
}

static char **complete(const char *text, int start, int end)
{
	struct console *con = &g_console;
	rl_attempted_completion_over = 1; /* never fall back to file names */
	free_words(&con->candidates, &con->candidate_count);
	if (start == 0) {
		for (size_t i = 0; i < con->name_count; i++)
			add_word(&con->candidates, &con->candidate_count, con->names[i],
				 strlen(con->names[i]));
		for (size_t i = 0; i < ARRAY_LEN(slash_commands); i++)
			add_word(&con->candidates, &con->candidate_count, slash_commands[i],
				 strlen(slash_commands[i]));
	} else {
		struct cli_frame *f;
		if (cli_conn_request(con->c, "api show channels as json", 2000, print_above_prompt,
				     con, &f) == 0)
			cli_json_rows_each(cli_reply_text(f), uuid_row_cb, con);
	}
	return rl_completion_matches(text, candidate_gen);
}

static void console_help(void)
{
	printf("Commands are sent as api commands (try 'help'), except:\n"
	       "  /event [plain|json|xml] NAMES|ALL  subscribe to events\n"
	       "  /noevents                          stop all events\n"
	       "  /nixevent NAMES                    stop some events\n"
	       "  /log [LEVEL]                       show log lines at LEVEL (default debug)\n"
	       "  /nolog                             stop log lines\n"
	       "  /help                              this help\n"
	       "  /exit, /quit, /bye                 leave (also Ctrl-D)\n"
	       "Tab completes command names, then channel uuids.\n");
}

/* Sends a command and prints its reply; events meanwhile print above. */
static void request_print(struct console *con, const char *line)
{
	struct cli_frame *f;
	int e = cli_conn_request(con->c, line, -1, print_above_prompt, con, &f);
	if (e == -EINTR) {
		if (con->editing) {
			g_interrupted = 0;
			fprintf(stderr, "irisx-cli: interrupted; the reply will not be shown\n");
		}
		return; /* without a terminal, the loop ends on the flag */
	}
	if (e) {
		fprintf(stderr, "irisx-cli: %s\n",
			e == -EPIPE ? "the server closed the connection" : strerror(-e));
		con->done = true;
		con->status = 2;
		return;
	}
	struct str text = cli_reply_text(f);
	fwrite(text.p, 1, text.len, stdout);
	if (text.len == 0 || text.p[text.len - 1] != '\n')
		fputc('\n', stdout);
	fflush(stdout);
}

static void run_line(struct console *con, const char *raw)
{
	struct str s = str_trim(str_from_cstr(raw));
	char line[8192];
	char cmd[8300];

	if (s.len == 0)
		return;
	if (str_copy_cstr(s, line, sizeof(line)) != 0) {
		fprintf(stderr, "irisx-cli: line too long\n");
		return;
	}
	if (line[0] != '/') {
		snprintf(cmd, sizeof(cmd), "api %s", line);
		request_print(con, cmd);
		return;
	}
	size_t word = strcspn(line, " \t");
	const char *rest = line + word + strspn(line + word, " \t");
	line[word] = '\0';
	if (!strcmp(line, "/exit") || !strcmp(line, "/quit") || !strcmp(line, "/bye")) {
		con->done = true;
	} else if (!strcmp(line, "/help")) {
		console_help();
	} else if (!strcmp(line, "/event") || !strcmp(line, "/nixevent") || !strcmp(line, "/log")) {
		snprintf(cmd, sizeof(cmd), "%s%s%s", line + 1, *rest ? " " : "", rest);
		request_print(con, cmd);
	} else if (!strcmp(line, "/noevents") || !strcmp(line, "/nolog")) {
		request_print(con, line + 1);
	} else {
		fprintf(stderr, "irisx-cli: unknown command %s (try /help)\n", line);
	}
}

static void line_cb(char *line)
{
	struct console *con = &g_console;
	if (!line) {
		/* Ctrl-D */
		fputc('\n', stdout);
		con->done = true;
		return;
	}
	/* libedit has already drawn the next prompt: what the line prints
	 * replaces it, and the prompt comes back after. */
	fputs("\r\033[K", stdout);
	if (*line) {
		add_history(line);
		if (con->history[0])
			write_history(con->history);
	}
	run_line(con, line);
	free(line);
}

/* Ctrl-C at the prompt: as a shell, drop the line and show a fresh prompt.
 * Without a terminal (commands piped in) it ends the console. */
static void handle_interrupt(struct console *con)
{
	if (!g_interrupted)
		return;
	g_interrupted = 0;
	if (!con->editing) {
		con->done = true;
		con->status = 130;
		return;
	}
	fputs("\n", stdout); /* the terminal has echoed the ^C */
	rl_replace_line("", 0);
	rl_forced_update_display();
}

/* Frames already read (behind a reply) and whatever the socket holds now. */
static int drain_socket(struct console *con)
{
	for (;;) {
		struct cli_frame *f;
		int e = cli_conn_next(con->c, 0, &f);
		if (e == -ETIMEDOUT || e == -EINTR)
			return 0; /* an interrupt is seen by the loop */
		if (e)
			return e;
		if (cli_frame_is_reply(f)) {
			/* The late reply of a request given up on. */
			if (con->c->abandoned)
				con->c->abandoned--;
			continue;
		}
		print_above_prompt(con, f);
		if (str_ieq_cstr(cli_frame_header(f, "Content-Type"), "text/disconnect-notice"))
			return -EPIPE;
	}
}

/* stdin is not a terminal: read lines as they come, no editing. */
static int read_plain_lines(struct console *con, struct buf *pending)
{
	char chunk[4096];
	ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n == 0) {
		if (pending->len)
			run_line(con, pending->p);
		con->done = true;
		return 0;
	}
	buf_append(pending, chunk, (size_t)n);
	char *nl;
	while (!con->done && pending->len && (nl = memchr(pending->p, '\n', pending->len))) {
		*nl = '\0';
		size_t used = (size_t)(nl - pending->p) + 1;
		run_line(con, pending->p);
		memmove(pending->p, pending->p + used, pending->len - used);
		pending->len -= used;
		pending->p[pending->len] = '\0';
	}
	return 0;
}

static void setup_history(struct console *con)
{
	const char *home = getenv("HOME");
	con->history[0] = '\0';
	if (!home || !*home)
		return;
	if ((size_t)snprintf(con->history, sizeof(con->history), "%s/.irisx_cli_history", home) >=
	    sizeof(con->history)) {
		con->history[0] = '\0';
		return;
	}
	stifle_history(HISTORY_LINES);
	read_history(con->history);
}

int cli_console_run(struct cli_conn *c, const struct cli_opts *o)
{
	struct console *con = &g_console;
	struct buf pending;
	char prompt[300];

	memset(con, 0, sizeof(*con));
	con->c = c;
	con->o = o;
	buf_init(&pending);
	/* No SA_RESTART: a Ctrl-C must end a poll() that waits for a reply. */
	struct sigaction sa = {.sa_handler = on_sigint}, old_int;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	g_interrupted = 0;
	load_command_names(con);
	if (!o->quiet) {
		char cmd[64];
		snprintf(cmd, sizeof(cmd), "log %s", o->log_level ? o->log_level : "info");
		request_print(con, cmd);
	}
	bool tty = isatty(STDIN_FILENO);
	if (tty && !con->done) {
		printf("irisx-cli %s connected to %s port %s. Type /help for help.\n",
		       IRISX_VERSION, o->host, o->port);
		snprintf(prompt, sizeof(prompt), "irisx@%s> ", o->host);
		setup_history(con);
		rl_readline_name = "irisx-cli";
		rl_catch_signals = 0; /* Ctrl-C is ours, see on_sigint */
		rl_attempted_completion_function = complete;
		rl_callback_handler_install(prompt, line_cb);
		con->editing = true;
	}
	while (!con->done) {
		int e = drain_socket(con);
		if (e) {
			if (con->editing)
				fputs("\r\033[K", stdout);
			fprintf(stderr, "irisx-cli: %s\n",
				e == -EPIPE ? "the server closed the connection" : strerror(-e));
			con->status = 2;
			break;
		}
		struct pollfd p[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
				      {.fd = c->fd, .events = POLLIN}};
		if (g_interrupted || poll(p, 2, -1) < 0) {
			if (g_interrupted || errno == EINTR) {
				handle_interrupt(con);
				continue;
			}
			con->status = 2;
			break;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (con->editing)
				rl_callback_read_char();
			else if (read_plain_lines(con, &pending) != 0)
				con->done = true;
		}
	}
	if (con->editing) {
		rl_callback_handler_remove();
		if (con->history[0])
			write_history(con->history);
	}
	sigaction(SIGINT, &old_int, NULL);
	buf_fini(&pending);
	free_words(&con->names, &con->name_count);
	free_words(&con->candidates, &con->candidate_count);
	return con->status;
}
