/*
 * Answered inbound legs with a running PCMU stream, built straight in the
 * core (no SIP), for the unit tests of what happens between channels
 * (bridges, DTMF); and the small callbacks those tests share. Needs
 * <cmocka.h> and core_int.h before it.
 */
#ifndef TEST_CORE_LEG_UTIL_H
#define TEST_CORE_LEG_UTIL_H

#include <string.h>

/* A leg whose uuid starts with uuid_prefix (4 characters, to tell legs apart in
 * event lists), sending to the discard port of 127.0.0.1; te_pt < 0: no
 * telephone-event. */
static inline struct channel *test_leg(struct core *core, const char *uuid_prefix,
				       const char *caller, const char *dest, int te_pt)
{
	struct channel *ch = core__channel_create(core, CHANNEL_INBOUND);
	assert_non_null(ch);
	memcpy(ch->uuid, uuid_prefix, 4);
	ch->caller_id_name = "Caller";
	ch->caller_id_number = caller;
	ch->destination_number = dest;
	ch->network_addr = "127.0.0.1";
	ch->context = "public";
	ch->profile = "external";
	ch->answered = true;
	struct channel_media *m = arena_alloc(&ch->arena, sizeof(*m));
	assert_non_null(m);
	memset(m, 0, sizeof(*m));
	m->audio_rate = 8000;
	m->codec_name = "PCMU";
	ch->media = m;
	struct net_addr ip;
	struct media_stream_cbs cbs;
	assert_int_equal(net_addr_parse(&ip, str_from_cstr("127.0.0.1"), 0), 0);
	assert_int_equal(
	    media_stream_create(&m->stream, core->media, &ip, core__media_cbs(ch, &cbs)), 0);
	struct media_stream_params p = {.codec = MEDIA_CODEC_PCMU,
					.pt = 0,
					.ptime_ms = 20,
					.te_pt = te_pt,
					.dir = MEDIA_SENDRECV};
	assert_int_equal(net_addr_parse(&p.remote, str_from_cstr("127.0.0.1"), 9), 0);
	assert_int_equal(media_stream_start(m->stream, &p), 0);
	m->params = p;
	m->started = true;
	return ch;
}

/* What a channel operation's callbacks reported. */
struct test_done {
	int calls;
	int status;
};

static inline void test_done_cb(struct channel *ch, void *arg, int status)
{
	struct test_done *d = arg;
	d->calls++;
	d->status = status;
}

/* A router under which channels that reach CS_ROUTING (scheduled by an
 * operation's end) park. */
static inline void test_park_route_cb(void *arg, struct channel *ch)
{
	channel_execute(ch, NULL, NULL);
	channel_park(ch);
}

#endif
