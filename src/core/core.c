/*
 * The server object: one loop, the configuration, the profiles and the
 * channels on them; start-up, reload (SIGHUP) and a draining shutdown
 * (SIGTERM).
 */
#define LOG_MODULE "core"
#include "core_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int core_create(struct core **out, uv_loop_t *loop, struct config *cfg)
{
	struct core *core = calloc(1, sizeof(*core));
	if (!core)
		return -ENOMEM;
	core->loop = loop;
	core->cfg = cfg;
	core->acls = cfg->acls;
	core->profile_count = cfg->profile_count;
	core->profiles = calloc(cfg->profile_count ? cfg->profile_count : 1, sizeof(*core->profiles));
	if (!core->profiles) {
		free(core);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cfg->profile_count; i++) {
		core->profiles[i].core = core;
		core->profiles[i].cfg = &cfg->profiles[i];
	}
	if (core__gateways_init(core)) {
		free(core->profiles);
		free(core);
		return -ENOMEM;
	}
	const char *sounds = config_var(cfg, "sounds_dir");
	int err = media_engine_create(&core->media, loop, cfg->sw.rtp_start_port,
				      cfg->sw.rtp_end_port);
	if (!err)
		err = media_library_create(&core->library, loop, sounds ? sounds : "sounds");
	if (err) {
		if (core->media)
			media_engine_destroy(core->media, NULL, NULL);
		core__gateways_fini(core);
		free(core->profiles);
		free(core);
		return err;
	}
	/* The bus last: it opens a handle, the commands do not. */
	err = core__commands_register(core);
	if (!err)
		err = core__bus_init(core);
	if (err) {
		core__commands_fini(core);
		core__bus_fini(core);
		media_library_destroy(core->library);
		media_engine_destroy(core->media, NULL, NULL);
		core__gateways_fini(core);
		free(core->profiles);
		free(core);
		return err;
	}
	core__runq_init(core);
	core->open_handles = 3; /* the run queue's check and idle, the heartbeat */
	uv_timer_init(loop, &core->shutdown_timer);
	core->shutdown_timer.data = core;
	core->open_handles++;
	*out = core;
	return 0;
}

int core_start(struct core *core)
{
	for (size_t i = 0; i < core->profile_count; i++) {
		int err = core__profile_start(&core->profiles[i]);
		if (err)
			return err;
		core->profiles_open++;
		err = core__gateways_start(&core->profiles[i]);
		if (err)
			return err;
	}
	core->started = true;
	log_notice("irisx ready: %zu profile%s, max-sessions %u, sessions-per-second %u",
		   core->profile_count, core->profile_count == 1 ? "" : "s",
		   core->cfg->sw.max_sessions, core->cfg->sw.sessions_per_second);
	return 0;
}

/* The dialplan (or any router) reads a freshly loaded configuration; it keeps
 * nothing of it, so the configuration goes when the router is done. */
static int core_reload_router(struct core *core)
{
	char err[512];
	struct config *cfg = NULL;

	if (!core->router.reload_cb)
		return 0;
	int rc = config_reload(core->cfg, &cfg, err, sizeof(err));
	if (rc) {
		log_err("reload failed, keeping the running dialplan: %s", err);
		return rc;
	}
	rc = core->router.reload_cb(core->router.arg, cfg);
	config_free(cfg);
	return rc;
}

int core__acls_reload(struct core *core, char *err, size_t err_size)
{
	struct acl_set *acls = NULL;
	int rc = config_reload_acls(core->cfg, &acls, err, err_size);
	if (rc)
		return rc;
	if (core->acls_reloaded)
		acl_set_free(core->acls);
	core->acls = acls;
	core->acls_reloaded = true;
	return 0;
}

const struct acl_set *core_acls(const struct core *core)
{
	return core->acls;
}

int core_reload(struct core *core)
{
	char err[512];

	int rc = core__acls_reload(core, err, sizeof(err));
	if (rc)
		log_err("reload failed, keeping the running ACLs: %s", err);
	else
		log_notice("ACLs reloaded");
	int rc2 = core_reload_router(core);
	return rc ? rc : rc2;
}

size_t core_channel_count(const struct core *core)
{
	return core->channel_count;
}

/* ---- shutdown ---- */

static void core_handle_closed_cb(uv_handle_t *h)
{
	struct core *core = h->data;
	if (--core->open_handles == 0 && core->shutdown_cb)
		core->shutdown_cb(core->shutdown_arg);
}

static void core_close_handles(struct core *core)
{
	uv_close((uv_handle_t *)&core->runq_check, core_handle_closed_cb);
	uv_close((uv_handle_t *)&core->runq_idle, core_handle_closed_cb);
	uv_close((uv_handle_t *)&core->shutdown_timer, core_handle_closed_cb);
	core__bus_close(core, core_handle_closed_cb);
}

static void core_media_closed_cb(void *arg)
{
	struct core *core = arg;
	core->media = NULL;
	core_close_handles(core);
}

/* After the profiles: no channel, hence no stream, is left. */
static void core_close_media(struct core *core)
{
	media_library_destroy(core->library);
	core->library = NULL;
	media_engine_destroy(core->media, core_media_closed_cb, core);
}

static void core_profile_closed_cb(void *arg)
{
	struct core *core = arg;
	if (--core->profiles_open == 0)
		core_close_media(core);
}

static void core_close_profiles(struct core *core)
{
	size_t open = core->profiles_open;
	if (open == 0) {
		core_close_media(core);
		return;
	}
	for (size_t i = 0; i < core->profile_count; i++) {
		struct profile *p = &core->profiles[i];
		if (p->ua) {
			struct sip_ua *ua = p->ua;
			core__gateways_stop(p); /* unregisters, before the sockets close */
			p->ua = NULL;
			sip_ua_destroy(ua, core_profile_closed_cb, core);
		}
	}
}

static void core_shutdown_tick_cb(uv_timer_t *t)
{
	struct core *core = t->data;

	if (core->channel_count > 0 && uv_now(core->loop) < core->shutdown_deadline_ms)
		return;
	uv_timer_stop(t);
	if (core->channel_count > 0)
		log_warn("%zu channel(s) still up after the grace period: dropping them",
			 core->channel_count);
	while (core->channels)
		core__channel_destroy(core->channels);
	core_close_profiles(core);
}

void core_shutdown(struct core *core, uint32_t grace_ms, void (*done_cb)(void *arg), void *arg)
{
	if (core->shutting_down)
		return;
	core->shutting_down = true;
	core->shutdown_cb = done_cb;
	core->shutdown_arg = arg;
	log_notice("shutting down: %zu channel(s) to clear", core->channel_count);
	for (size_t i = 0; i < core->profile_count; i++)
		if (core->profiles[i].ua)
			sip_ua_drain(core->profiles[i].ua);
	for (struct channel *ch = core->channels; ch; ch = ch->next)
		channel_hangup(ch, CAUSE_SYSTEM_SHUTDOWN);
	core->shutdown_deadline_ms = uv_now(core->loop) + grace_ms;
	/* Poll for the channels to clear: their hangups run from the run queue. */
	uv_timer_start(&core->shutdown_timer, core_shutdown_tick_cb, 0, 20);
}

void core_destroy(struct core *core)
{
	if (!core)
		return;
	if (core->acls_reloaded)
		acl_set_free(core->acls);
	media_record_writer_destroy(core->rec_writer); /* writes what is queued */
	free(core->recordings_dir);
	core__metrics_fini(core);
	core__commands_fini(core);
	core__bus_fini(core);
	core__gateways_fini(core);
	config_free(core->cfg);
	free(core->profiles);
	free(core);
}
