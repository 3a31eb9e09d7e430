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

static uint64_t uuid_hash(const char *uuid)
{
	return hash_str(str_from_cstr(uuid));
}

void twiml__star_arm(struct twiml__call *c)
{
	if (c->star_armed ||
	    hmap_insert(&c->tw->star_calls, &c->star_node, uuid_hash(c->ch->uuid)) != 0)
		return;
	c->star_armed = true;
}

void twiml__star_disarm(struct twiml__call *c)
{
	if (!c->star_armed)
		return;
	hmap_remove(&c->tw->star_calls, &c->star_node);
	c->star_armed = false;
}

/* A '*' from a caller whose <Dial hangupOnStar> is bridged: the called
 * party is hung up, the bridge ends and the document goes on. */
static void on_event(void *arg, struct core_event *ev)
{
	struct twiml *tw = arg;
	if (tw->star_calls.count == 0 || strcmp(core_event_name(ev), "DTMF") != 0)
		return;
	const char *digit = core_event_header(ev, "DTMF-Digit");
	const char *uuid = core_event_header(ev, "Unique-ID");
	if (!digit || strcmp(digit, "*") != 0 || !uuid)
		return;
	for (struct hmap_node *n = hmap_first(&tw->star_calls, uuid_hash(uuid)); n;
	     n = hmap_next(n)) {
		struct twiml__call *c = container_of(n, struct twiml__call, star_node);
		if (strcmp(c->ch->uuid, uuid) != 0)
			continue;
		struct channel *b = core_channel_find(tw->core, c->dial_uuid);
		twiml__star_disarm(c);
		if (b && channel_up(b)) {
			log_info("%s <Dial hangupOnStar>: '*' hangs up %s", uuid, b->uuid);
			channel_hangup(b, CAUSE_NORMAL_CLEARING);
		}
		return;
	}
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
	hmap_init(&tw->star_calls);
	e = core_subscribe(core, on_event, tw, &tw->sub);
	if (e) {
		twiml__audio_fini(&tw->audio);
		hmap_fini(&tw->star_calls);
		fetch_destroy(tw->fetch);
		free(tw);
		return e;
	}
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
	core_unsubscribe(tw->sub);
	hmap_fini(&tw->star_calls); /* the calls are gone: every node left it */
	twiml__audio_fini(&tw->audio);
	fetch_destroy(tw->fetch);
	free(tw);
}

void twiml_stats_get(const struct twiml *tw, struct twiml_stats *out)
{
	*out = tw->stats;
}
