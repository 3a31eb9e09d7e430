/*
 * irisx: command line, start-up, signals and shutdown.
 *
 *   irisx [-c CONFDIR] [-s STATEDIR] [-l LEVEL] [-t] [-h] [-v]
 *
 * SIGTERM and SIGINT drain the calls and exit; SIGHUP reloads the ACLs.
 */
#define LOG_MODULE "main"
#include "config/config.h"
#include "control/control.h"
#include "core/core.h"
#include "dialplan/dialplan.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

enum { SHUTDOWN_GRACE_MS = 5000 };

struct options {
	const char *conf_dir;
	const char *state_dir;
	bool check_only;
};

struct app {
	uv_loop_t *loop;
	struct core *core;
	struct dialplan *dialplan;
	struct esl *esl;
	struct http *http;
	struct webhook *webhook;
	uv_signal_t sig_term, sig_int, sig_hup;
	bool stopping;
};

static void usage(FILE *to)
{
	fprintf(to,
		"usage: irisx [-c CONFDIR] [-s STATEDIR] [-l LEVEL] [-t] [-h] [-v]\n"
		"  -c DIR    configuration directory holding freeswitch.xml (default: conf if\n"
		"            present, else /etc/irisx)\n"
		"  -s DIR    state directory for generated secrets, CDRs, recordings (default:\n"
		"            var if -c was not given, else /var/lib/irisx)\n"
		"  -l LEVEL  log level: err, warning, notice, info, debug (default: info)\n"
		"  -t        check the configuration and exit\n"
		"  -h        this help\n"
		"  -v        print the version\n");
}

static int mkdir_p(const char *path)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void on_closed_all(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void shutdown_done_cb(void *arg)
{
	struct app *app = arg;
	/* Only our signal handles are left: close them so uv_run returns. */
	uv_walk(app->loop, on_closed_all, NULL);
}

static void app_stop(struct app *app, const char *why)
{
	if (app->stopping)
		return;
	app->stopping = true;
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

	while ((c = getopt(argc, argv, "c:s:l:thv")) != -1) {
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
		usage(stderr);
		return 2;
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
 * the build) and under /usr/share/irisx/sounds when installed.
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
	snprintf(out, size, "/usr/share/irisx/sounds");
}

int main(int argc, char **argv)
{
	struct options o = {0};
	struct config *cfg = NULL;
	char err[1024];
	char preset[4096];

	log_set_color(isatty(STDERR_FILENO));
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;

	char sounds[4096], sounds_preset[4200];
	snprintf(preset, sizeof(preset), "state_dir=%s", o.state_dir);
	sounds_dir_default(sounds, sizeof(sounds));
	snprintf(sounds_preset, sizeof(sounds_preset), "sounds_dir=%s", sounds);
	const char *vars[] = {preset, sounds_preset, NULL};
	/* Applications of other modules join the registry before a dialplan loads. */
	esl_apps_register();
	if (config_load(&cfg, o.conf_dir, vars, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		if (o.check_only)
			fprintf(stderr, "irisx: configuration in %s is NOT ok\n", o.conf_dir);
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
	int e = mkdir_p(o.state_dir);
	if (e) {
		fprintf(stderr, "irisx: cannot create state directory %s: %s\n", o.state_dir,
			strerror(-e));
		config_free(cfg);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	struct app app = {.loop = uv_default_loop()};
	e = core_create(&app.core, app.loop, cfg);
	if (e) {
		fprintf(stderr, "irisx: %s\n", strerror(-e));
		config_free(cfg);
		return 1;
	}
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
	struct webhook_settings wh_set;
	bool wh_ok = webhook_settings_load(&wh_set, cfg, err, sizeof(err)) == 0;
	if (!wh_ok)
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
	if (!dialplan_ok || !esl_ok || !http_ok || !wh_ok || core_start(app.core) != 0) {
		status = 1;
		app_stop(&app, "start-up failed");
	}
	uv_run(app.loop, UV_RUN_DEFAULT);
	core_destroy(app.core);
	if (app.dialplan)
		dialplan_destroy(app.dialplan);
	if (uv_loop_close(app.loop) != 0)
		log_warn("loop closed with handles still open");
	log_notice("irisx stopped");
	return status;
}
