/*
 * bench_cdr — CDRs per second through the real writer: the spool (queue,
 * group-committed appends with fdatasync, cursor files) and one sink
 * (SQLite, PostgreSQL or CSV), from cdr_store_submit() to the sink's
 * durable commit.
 *
 *   bench_cdr -k sqlite|postgres|csv -d DIR [-p DSN] [-n COUNT] [-b BATCH] [-r RATE]
 *
 * Synthetic records (every field filled, two extra variables) are submitted
 * from this thread, as the loop thread would, at RATE a second (0: as fast
 * as possible); the clock stops when the sink has stored the last one
 * (cdr_store_flush). Prints the submit cost per record, the end-to-end rate
 * and one "RESULT key=value ..." line for scripts.
 */
#include "store/store.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_cdr -k sqlite|postgres|csv -d DIR [-p DSN] [-n COUNT] "
			"[-b BATCH] [-r RATE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *kind = NULL, *dir = NULL, *dsn = NULL;
	unsigned long count = 50000, batch = 256, rate = 0;
	int c;
	while ((c = getopt(argc, argv, "k:d:p:n:b:r:")) != -1) {
		switch (c) {
		case 'k':
			kind = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'p':
			dsn = optarg;
			break;
		case 'n':
			count = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			batch = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rate = strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (!kind || !dir || count == 0 || batch == 0)
		usage();
	log_set_level(LOG_WARNING);
	struct cdr_conf conf;
	cdr_conf_default(&conf, dir);
	conf.sinks[CDR_SINK_SQLITE] = false;
	conf.batch_size = batch;
	if (strcmp(kind, "sqlite") == 0) {
		conf.sinks[CDR_SINK_SQLITE] = true;
	} else if (strcmp(kind, "postgres") == 0) {
		if (!dsn)
			usage();
		conf.sinks[CDR_SINK_POSTGRES] = true;
		snprintf(conf.pg_dsn, sizeof(conf.pg_dsn), "%s", dsn);
	} else if (strcmp(kind, "csv") == 0) {
		conf.sinks[CDR_SINK_CSV] = true;
	} else {
		usage();
	}
	struct cdr_store *st;
	int e = cdr_store_create(&st, &conf);
	if (e) {
		fprintf(stderr, "bench_cdr: %s\n", strerror(-e));
		return 1;
	}
	/* Let the sink connect (PostgreSQL: schema) before the clock starts. */
	struct cdr_store_stats s;
	for (int i = 0; i < 100; i++) {
		cdr_store_stats(st, &s);
		if (s.sinks[0].up)
			break;
		usleep(50000);
	}
	if (!s.sinks[0].up) {
		fprintf(stderr, "bench_cdr: %s is not up: %s\n", kind, s.sinks[0].error);
		cdr_store_destroy(st);
		return 1;
	}

	char tag[16];
	snprintf(tag, sizeof(tag), "%08x", (unsigned)(now_us() & 0xffffffff));
	uint64_t submit_us = 0, t0 = now_us();
	for (unsigned long i = 0; i < count; i++) {
		char uuid[64], other[64], cid[64];
		snprintf(uuid, sizeof(uuid), "%s-0000-4000-8000-%012lu", tag, i);
		snprintf(other, sizeof(other), "%s-0000-4000-9000-%012lu", tag, i);
		snprintf(cid, sizeof(cid), "%lu-bench@127.0.0.1", i);
		uint64_t created = 1700000000000000ULL + i * 1000;
		struct cdr r = {.uuid = uuid,
				.other_uuid = other,
				.direction = i % 2 ? "outbound" : "inbound",
				.caller_id_name = "Bench Caller",
				.caller_id_number = "+15551230000",
				.destination_number = "+15559870000",
				.context = "public",
				.gateway = i % 2 ? "carrier" : NULL,
				.sip_call_id = cid,
				.remote_addr = "127.0.0.1",
				.created_us = created,
				.answered_us = created + 2000000,
				.bridged_us = created + 2000000,
				.ended_us = created + 62000000,
				.duration = 62,
				.billsec = 60,
				.progresssec = 1,
				.hangup_cause = "NORMAL_CLEARING",
				.q850 = 16,
				.hangup_disposition = "recv_bye",
				.read_codec = "PCMU",
				.write_codec = "PCMU",
				.rtp_packets_in = 3000,
				.rtp_packets_out = 3000,
				.rtp_lost = 3,
				.jitter_ms = 1.5,
				.mos = cdr_mos(3000, 3, 1.5),
				.recording_path = "/var/lib/irisx/rec/x.wav",
				.vars = {{"account", "acme"}, {"campaign", "spring"}},
				.var_count = 2};
		uint64_t a = now_us();
		if ((e = cdr_store_submit(st, &r))) {
			fprintf(stderr, "bench_cdr: submit: %s\n", strerror(-e));
			return 1;
		}
		submit_us += now_us() - a;
		if (rate) {
			uint64_t due = t0 + (uint64_t)((double)(i + 1) * 1e6 / (double)rate);
			uint64_t n = now_us();
			if (due > n)
				usleep((useconds_t)(due - n));
		}
	}
	uint64_t t_submitted = now_us();
	e = cdr_store_flush(st, 120000);
	uint64_t t1 = now_us();
	cdr_store_stats(st, &s);
	cdr_store_destroy(st);
	if (e) {
		fprintf(stderr, "bench_cdr: not all stored within 120 s (%" PRIu64 " left)\n",
			s.sinks[0].backlog);
		return 1;
	}
	double secs = (double)(t1 - t0) / 1e6;
	double per_s = (double)count / secs;
	printf("%s: %lu CDRs stored in %.3f s: %.0f CDRs/s (batch %lu); submit %.2f µs/CDR on the "
	       "calling thread; last stored %.1f ms after the last submit\n",
	       kind, count, secs, per_s, batch, (double)submit_us / (double)count,
	       (double)(t1 - t_submitted) / 1000.0);
	printf("RESULT sink=%s cdrs=%lu seconds=%.3f cdrs_per_s=%.0f submit_us=%.2f\n", kind, count,
	       secs, per_s, (double)submit_us / (double)count);
	return 0;
}
