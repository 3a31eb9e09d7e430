/*
 * The TwiML engine: one per process, on the core's loop. It owns the HTTP
 * client the calls' requests go through, the <Play> audio cache and the
 * counters /metrics shows; the `webhook` dialplan application starts a call
 * on it (exec.c).
 */
#define LOG_MODULE "twiml"
#include "exec_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * The registry of dialplan applications is one per process and filled
 * before any dialplan loads (the `-t` check included), when no engine
 * exists yet: the application finds the engine here.
 */
static struct twiml *g_current;

struct twiml *twiml__current(void)
{
	return g_current;
}

static void collect_cb(void *arg, struct metrics_writer *w)
{
	struct twiml *tw = arg;
	if (metrics_family(w, "irisx_twiml_requests_total", METRIC_COUNTER,
			   "TwiML documents requested (actions and redirects included), and "
			   "those that failed or were not TwiML.") == 0) {
		metrics_sample_u64(w, NULL, tw->stats.requests,
				   (const char *const[]){"result", "requested", NULL});
		metrics_sample_u64(w, NULL, tw->stats.failures,
				   (const char *const[]){"result", "failed", NULL});
		metrics_sample_u64(w, NULL, tw->stats.fallbacks,
				   (const char *const[]){"result", "fallback", NULL});
	}
	if (metrics_family(w, "irisx_twiml_calls", METRIC_GAUGE,
			   "Calls running a TwiML document now.") == 0)
		metrics_sample_u64(w, NULL, tw->stats.active, NULL);
}

int twiml_create(struct twiml **out, uv_loop_t *loop, struct core *core,
		 const struct twiml_settings *settings)
{
	if (!out || !loop || !core || !settings)
		return -EINVAL;
	struct twiml *tw = calloc(1, sizeof(*tw));
	if (!tw)
		return -ENOMEM;
	tw->loop = loop;
	tw->core = core;
	tw->set = *settings;
	int e = fetch_create(&tw->fetch, loop);
	if (e) {
		free(tw);
		return e;
	}
	/* Start-up, before the loop runs: a blocking mkdir is fine here. */
	e = fs_mkdir_p(tw->set.audio_cache_dir, 0750, false);
	if (e)
		log_warn("audio cache %s: %s: <Play> of URLs will fail", tw->set.audio_cache_dir,
			 strerror(-e));
	twiml__audio_init(&tw->audio, tw);
	core_metrics_register(core, collect_cb, tw, &tw->collector);
	g_current = tw;
	log_info("TwiML requests signed for %s, %u ms per request%s%s", tw->set.account_sid,
		 tw->set.timeout_ms, tw->set.fallback_url[0] ? ", fallback " : "",
		 tw->set.fallback_url);
	*out = tw;
	return 0;
}

void twiml_destroy(struct twiml *tw)
{
	if (!tw)
		return;
	if (g_current == tw)
		g_current = NULL;
	core_metrics_unregister(tw->collector);
	twiml__audio_fini(&tw->audio);
	fetch_destroy(tw->fetch);
	free(tw);
}

void twiml_stats_get(const struct twiml *tw, struct twiml_stats *out)
{
	*out = tw->stats;
}
