/*
 * irisx: command line, start-up, signals and shutdown.
 *
 *   irisx [-c CONFDIR] [-s STATEDIR] [-l LEVEL] [-L LOGFILE] [-t] [-h] [-v]
 *   irisx [-c CONFDIR] [-s STATEDIR] cdr export --format csv|json [--since T] [--until T]
 *
 * SIGTERM and SIGINT drain the calls and exit; SIGHUP reloads the ACLs and
 * reopens the log file (-L) for logrotate. Under systemd (Type=notify) it
 * tells the service manager READY=1 once "irisx ready" is logged and
 * STOPPING=1 when it starts to shut down.
 */
#define LOG_MODULE "main"
#include "config/config.h"
#include "control/control.h"
#include "core/core.h"
#include "dialplan/dialplan.h"
#include "store/store.h"
#include "twiml/twiml.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

enum { SHUTDOWN_GRACE_MS = 5000, CDR_FLUSH_GRACE_MS = 1000 };

struct options {
	const char *conf_dir;
	const char *state_dir;
	const char *log_file; /* NULL: stderr */
	bool check_only;
	char **command; /* what follows the options (cdr export …), NULL-terminated */
};

struct app {
	uv_loop_t *loop;
	struct core *core;
	struct dialplan *dialplan;
	struct esl *esl;
	struct http *http;
	struct webhook *webhook;
	struct twiml *twiml;
	uv_signal_t sig_term, sig_int, sig_hup;
	const char *log_file;
	bool stopping;
};

static void usage(FILE *to)
{
	fprintf(to,
		"usage: irisx [-c CONFDIR] [-s STATEDIR] [-l LEVEL] [-L LOGFILE] [-t] [-h] [-v]\n"
		"       irisx [-c CONFDIR] [-s STATEDIR] cdr export --format csv|json\n"
		"             [--since T] [--until T]   (T: epoch seconds or\n"
		"             YYYY-MM-DDTHH:MM:SSZ, UTC; reads the SQLite CDR store)\n"
		"  -c DIR    configuration directory holding freeswitch.xml (default: conf if\n"
		"            present, else /etc/irisx)\n"
		"  -s DIR    state directory for generated secrets, CDRs, recordings (default:\n"
		"            var if -c was not given, else /var/lib/irisx)\n"
		"  -l LEVEL  log level: err, warning, notice, info, debug (default: info)\n"
		"  -L FILE   log to FILE (appended, reopened on SIGHUP) instead of stderr\n"
		"  -t        check the configuration and exit\n"
		"  -h        this help\n"
		"  -v        print the version\n");
}

/*
 * systemd's readiness protocol (sd_notify(3)), without libsystemd: one
 * datagram such as "READY=1" to the AF_UNIX socket named by $NOTIFY_SOCKET
 * ('@' at its start means the abstract namespace). Nothing happens when the
 * variable is unset, i.e. when not started by a Type=notify unit.
 */
static void notify_service_manager(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	size_t len = path ? strlen(path) : 0;

	if (len == 0 || len >= sizeof(sun.sun_path) || (path[0] != '/' && path[0] != '@'))
		return;
	memcpy(sun.sun_path, path, len);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("NOTIFY_SOCKET: %s", strerror(errno));
		return;
	}
	socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun, alen) < 0)
		log_warn("NOTIFY_SOCKET %s: %s", path, strerror(errno));
	close(fd);
}

/*
 * -L: the log goes to a file by putting it on stderr, where every log line
 * is written. Called again on SIGHUP, so that logrotate can move the file
 * away and the next lines go to a new one at the same path.
 */
static int log_file_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	int e = dup2(fd, STDERR_FILENO) < 0 ? -errno : 0;
	close(fd);
	return e;
}

static void on_closed_all(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void shutdown_done_cb(void *arg)
{
	struct app *app = arg;
	/* The calls are over: TwiML's HTTP client goes (its handles close
	 * themselves, before the walk below). */
	twiml_destroy(app->twiml);
	app->twiml = NULL;
	/* Only our signal handles are left: close them so uv_run returns. */
	uv_walk(app->loop, on_closed_all, NULL);
}

static void app_stop(struct app *app, const char *why)
{
	if (app->stopping)
		return;
	app->stopping = true;
	notify_service_manager("STOPPING=1");
	log_notice("%s: stopping", why);
	esl_destroy(app->esl); /* its handles close while the core drains */
	app->esl = NULL;
	http_destroy(app->http); /* answers what is in progress with 503 */
	app->http = NULL;
	/* Status callbacks still waiting are dropped: the calls' completed ones
	 * would only come from the drain, and a dead receiver must not hold up
	 * the exit. */
	webhook_destroy(app->webhook);
	app->webhook = NULL;
	core_shutdown(app->core, SHUTDOWN_GRACE_MS, shutdown_done_cb, app);
}

/* fsctl shutdown: the same orderly stop as SIGTERM. */
static void fsctl_shutdown_cb(void *arg)
{
	app_stop(arg, "fsctl shutdown");
}

static void signal_cb(uv_signal_t *s, int signum)
{
	struct app *app = s->data;
	if (signum == SIGHUP) {
		if (app->log_file) {
			int e = log_file_open(app->log_file);
			if (e)
				log_err("cannot reopen log file %s: %s", app->log_file,
					strerror(-e));
		}
		log_notice("SIGHUP: reloading");
		core_reload(app->core);
		return;
	}
	app_stop(app, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void signal_watch(struct app *app, uv_signal_t *s, int signum)
{
	uv_signal_init(app->loop, s);
	s->data = app;
	uv_signal_start(s, signal_cb, signum);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	int c;
	enum log_level level;

	/* "+": options stop at the first word, the subcommand's. */
	while ((c = getopt(argc, argv, "+c:s:l:L:thv")) != -1) {
		switch (c) {
		case 'c':
			o->conf_dir = optarg;
			break;
		case 's':
			o->state_dir = optarg;
			break;
		case 'l':
			if (log_level_parse(optarg, &level) != 0) {
				fprintf(stderr, "irisx: unknown log level '%s'\n", optarg);
				return 2;
			}
			log_set_level(level);
			break;
		case 'L':
			o->log_file = optarg;
			break;
		case 't':
			o->check_only = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'v':
			printf("irisx %s\n", IRISX_VERSION);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		if (strcmp(argv[optind], "cdr") != 0) {
			usage(stderr);
			return 2;
		}
		o->command = argv + optind;
	}
	if (!o->conf_dir) {
		struct stat st;
		o->conf_dir = stat("conf/freeswitch.xml", &st) == 0 ? "conf" : "/etc/irisx";
	}
	if (!o->state_dir)
		o->state_dir = strcmp(o->conf_dir, "/etc/irisx") == 0 ? "/var/lib/irisx" : "var";
	return 0;
}

/*
 * Prompts live next to the executable in a build tree (build/sounds, made by
 * the build) and where `make install` puts them when installed
 * (<prefix>/share/irisx/sounds, IRISX_SOUNDS_INSTALL_DIR from CMake), else
 * in /usr/share/irisx/sounds, where a distribution package puts them.
 */
static void sounds_dir_default(char *out, size_t size)
{
	char exe[4096];
	struct stat st;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	out[0] = '\0';
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			int len = snprintf(out, size, "%s/sounds", exe);
			if (len > 0 && (size_t)len < size && stat(out, &st) == 0 &&
			    S_ISDIR(st.st_mode))
				return;
		}
	}
#ifdef IRISX_SOUNDS_INSTALL_DIR
	if (stat(IRISX_SOUNDS_INSTALL_DIR, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(out, size, "%s", IRISX_SOUNDS_INSTALL_DIR);
		return;
	}
#endif
	snprintf(out, size, "/usr/share/irisx/sounds");
}

/* Epoch seconds or an ISO 8601 UTC time, to µs. */
static int time_parse(const char *s, uint64_t *out)
{
	uint64_t secs;
	if (str_to_u64(str_from_cstr(s), &secs) == 0) {
		*out = secs * 1000000;
		return 0;
	}
	struct tm tm = {0};
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		end = strptime(s, "%Y-%m-%d", &tm);
	if (!end || (*end && strcmp(end, "Z") != 0))
		return -EINVAL;
	time_t t = timegm(&tm);
	if (t < 0)
		return -EINVAL;
	*out = (uint64_t)t * 1000000;
	return 0;
}

/* irisx cdr export --format csv|json [--since T] [--until T] */
static int cdr_command(char **argv, const struct config *cfg, const char *state_dir)
{
	bool json = false, format = false;
	uint64_t since = 0, until = 0;
	if (!argv[1] || strcmp(argv[1], "export") != 0) {
		fprintf(stderr, "irisx: cdr: the command is export\n");
		return 2;
	}
	/* Options come in pairs: --name value. */
	for (char **a = argv + 2; *a; a += 2) {
		const char *v = a[1];
		if (!v) {
			fprintf(stderr, "irisx: cdr export: %s needs a value\n", *a);
			return 2;
		}
		if (strcmp(*a, "--format") == 0) {
			if (strcmp(v, "json") != 0 && strcmp(v, "csv") != 0) {
				fprintf(stderr, "irisx: cdr export: format csv or json\n");
				return 2;
			}
			json = strcmp(v, "json") == 0;
			format = true;
		} else if (strcmp(*a, "--since") == 0 || strcmp(*a, "--until") == 0) {
			if (time_parse(v, strcmp(*a, "--since") == 0 ? &since : &until) != 0) {
				fprintf(stderr, "irisx: cdr export: bad time '%s'\n", v);
				return 2;
			}
		} else {
			fprintf(stderr, "irisx: cdr export: unknown argument %s\n", *a);
			return 2;
		}
	}
	if (!format) {
		fprintf(stderr, "irisx: cdr export: --format csv|json is required\n");
		return 2;
	}
	struct cdr_conf conf;
	char err[1024];
	if (cdr_conf_load(&conf, cfg, state_dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	int e = cdr_export(conf.sqlite_path, json, since, until, stdout);
	if (fflush(stdout) != 0 && !e)
		e = -EIO;
	if (e) {
		fprintf(stderr, "irisx: cdr export from %s: %s\n", conf.sqlite_path,
			e == -ENOENT ? "no CDR database" : strerror(-e));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = {0};
	struct config *cfg = NULL;
	char err[1024];
	char preset[4096];

	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	if (o.log_file && !o.check_only) {
		int e = log_file_open(o.log_file);
		if (e) {
			fprintf(stderr, "irisx: cannot open log file %s: %s\n", o.log_file,
				strerror(-e));
			return 1;
		}
	}
	/* Colour only for a terminal: never into a file or the journal. */
	log_set_color(isatty(STDERR_FILENO));

	char sounds[4096], sounds_preset[4200];
	snprintf(preset, sizeof(preset), "state_dir=%s", o.state_dir);
	sounds_dir_default(sounds, sizeof(sounds));
	snprintf(sounds_preset, sizeof(sounds_preset), "sounds_dir=%s", sounds);
	const char *vars[] = {preset, sounds_preset, NULL};
	/* Applications of other modules join the registry before a dialplan loads. */
	esl_apps_register();
	twiml_app_register();
	if (config_load(&cfg, o.conf_dir, vars, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		if (o.check_only)
			fprintf(stderr, "irisx: configuration in %s is NOT ok\n", o.conf_dir);
		return 1;
	}
	if (o.command) {
		rc = cdr_command(o.command, cfg, o.state_dir);
		config_free(cfg);
		return rc;
	}
	struct cdr_conf cdr_conf;
	if (cdr_conf_load(&cdr_conf, cfg, o.state_dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		if (o.check_only)
			fprintf(stderr, "irisx: configuration in %s is NOT ok\n", o.conf_dir);
		config_free(cfg);
		return 1;
	}
	if (o.check_only) {
		/* The dialplan is checked too: it compiles without a running core. */
		struct dialplan_xml *dp = NULL;
		if (dialplan_xml_create(&dp, cfg, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\nirisx: configuration in %s is NOT ok\n", err,
				o.conf_dir);
			config_free(cfg);
			return 1;
		}
		dialplan_xml_unref(dp);
		printf("irisx: configuration in %s is ok\n", o.conf_dir);
		config_free(cfg);
		return 0;
	}
	int e = fs_mkdir_p(o.state_dir, 0750, false);
	if (e) {
		fprintf(stderr, "irisx: cannot create state directory %s: %s\n", o.state_dir,
			strerror(-e));
		config_free(cfg);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	/* Before the core: a CDR store that cannot open its spool must stop
	 * start-up, or calls would go unrecorded. */
	struct cdr_store *cdrs = NULL;
	e = cdr_store_create(&cdrs, &cdr_conf);
	if (e) {
		fprintf(stderr, "irisx: CDR store (spool %s): %s\n", cdr_conf.spool_dir,
			strerror(-e));
		config_free(cfg);
		return 1;
	}

	struct app app = {.loop = uv_default_loop(), .log_file = o.log_file};
	e = core_create(&app.core, app.loop, cfg);
	if (e) {
		fprintf(stderr, "irisx: %s\n", strerror(-e));
		cdr_store_destroy(cdrs);
		config_free(cfg);
		return 1;
	}
	core_set_cdr_store(app.core, cdrs);
	/* Before the loop runs: the repair pass over recordings cut short reads
	 * and writes files. */
	e = core_recordings_open(app.core, o.state_dir);
	if (e)
		log_err("recordings under %s/recordings are off: %s", o.state_dir, strerror(-e));
	bool dialplan_ok = dialplan_create(&app.dialplan, app.core, cfg, err, sizeof(err)) == 0;
	if (!dialplan_ok)
		fprintf(stderr, "%s\n", err);
	core_set_shutdown_cb(app.core, fsctl_shutdown_cb, &app);
	struct esl_settings esl_set;
	bool esl_ok = esl_settings_load(&esl_set, cfg, o.state_dir, err, sizeof(err)) == 0;
	if (!esl_ok)
		fprintf(stderr, "%s\n", err);
	struct http_settings http_set;
	bool http_ok = http_settings_load(&http_set, cfg, o.state_dir, err, sizeof(err)) == 0;
	if (!http_ok)
		fprintf(stderr, "%s\n", err);
	if (cdr_conf.sinks[CDR_SINK_SQLITE])
		snprintf(http_set.cdr_sqlite_path, sizeof(http_set.cdr_sqlite_path), "%s",
			 cdr_conf.sqlite_path);
	struct webhook_settings wh_set;
	bool wh_ok = webhook_settings_load(&wh_set, cfg, err, sizeof(err)) == 0;
	if (!wh_ok)
		fprintf(stderr, "%s\n", err);
	struct twiml_settings tw_set;
	bool tw_ok = twiml_settings_load(&tw_set, cfg, o.state_dir, err, sizeof(err)) == 0;
	if (!tw_ok)
		fprintf(stderr, "%s\n", err);
	signal_watch(&app, &app.sig_term, SIGTERM);
	signal_watch(&app, &app.sig_int, SIGINT);
	signal_watch(&app, &app.sig_hup, SIGHUP);

	log_notice("irisx %s starting (config %s, state %s)", IRISX_VERSION, o.conf_dir,
		   o.state_dir);
	int status = 0;
	/* As FreeSWITCH, calls go on without the event socket if its port is taken. */
	if (esl_ok && dialplan_ok)
		esl_create(&app.esl, app.loop, app.core, app.dialplan, &esl_set);
	/* Likewise without the HTTP API. */
	if (http_ok && dialplan_ok && http_set.enabled)
		http_create(&app.http, app.loop, app.core, app.dialplan, &http_set);
	if (wh_ok && webhook_create(&app.webhook, app.loop, app.core, &wh_set) != 0)
		wh_ok = false;
	if (tw_ok && twiml_create(&app.twiml, app.loop, app.core, &tw_set) != 0)
		tw_ok = false;
	if (!dialplan_ok || !esl_ok || !http_ok || !wh_ok || !tw_ok || core_start(app.core) != 0) {
		status = 1;
		app_stop(&app, "start-up failed");
	} else {
		notify_service_manager("READY=1"); /* core_start logged "irisx ready" */
	}
	uv_run(app.loop, UV_RUN_DEFAULT);
	core_destroy(app.core);
	if (app.dialplan)
		dialplan_destroy(app.dialplan);
	/* After the last channel: the spool gets every CDR queued so far, and
	 * the stores a moment to catch up (what they miss waits in the spool
	 * for the next start). */
	if (cdr_store_flush(cdrs, CDR_FLUSH_GRACE_MS) != 0)
		log_warn("CDRs not yet in every store stay in the spool for the next start");
	cdr_store_destroy(cdrs);
	if (uv_loop_close(app.loop) != 0)
		log_warn("loop closed with handles still open");
	log_notice("irisx stopped");
	return status;
}
