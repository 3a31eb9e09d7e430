/*
 * RFC 4475 torture messages: every file of tests/sip/rfc4475/ is parsed and
 * checked against the verdict in verdicts.tsv (parse outcome, the status
 * sip_msg_check gives, and the status a UAS should eventually send), then
 * printed and re-parsed. A few messages also get field-level assertions.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sip/sip.h"

#define DIR_4475 TESTS_DIR "/sip/rfc4475"

#define assert_str(s, lit) assert_true(str_eq((s), STR(lit)))

struct verdict {
	char file[32];
	char section[16];
	char parse[8]; /* ok, answer, drop */
	int check;     /* -1 when no message is left to check */
	int ua;
};

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	char *data = malloc(70000);
	assert_non_null(data);
	*len = fread(data, 1, 70000, f);
	fclose(f);
	/* exact size, so that ASan sees a read past the end */
	char *exact = malloc(*len);
	assert_non_null(exact);
	memcpy(exact, data, *len);
	free(data);
	return exact;
}

static size_t verdicts_load(struct verdict *v, size_t cap)
{
	FILE *f = fopen(DIR_4475 "/verdicts.tsv", "r");
	char line[512];
	size_t n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		assert_true(n < cap);
		char check[8];
		if (sscanf(line, "%31[^\t]\t%15[^\t]\t%7[^\t]\t%7[^\t]\t%d", v[n].file,
			   v[n].section, v[n].parse, check, &v[n].ua) != 5)
			fail_msg("bad verdict line: %s", line);
		v[n].check = strcmp(check, "-") == 0 ? -1 : atoi(check);
		n++;
	}
	fclose(f);
	return n;
}

static void round_trip(const struct sip_msg *a)
{
	struct buf b1, b2;
	struct sip_msg *b;

	buf_init(&b1);
	buf_init(&b2);
	sip_msg_print(&b1, a);
	if (sip_msg_parse(&b, b1.p, b1.len) != 0)
		fail_msg("printed form does not parse:\n%s", b1.p);
	assert_int_equal(a->hdr_count, b->hdr_count);
	for (size_t i = 0; i < a->hdr_count; i++)
		assert_int_equal(a->hdrs[i].id, b->hdrs[i].id);
	assert_true(str_eq(a->call_id, b->call_id));
	assert_true(str_eq(a->via.branch, b->via.branch));
	assert_true(str_eq(a->from.tag, b->from.tag));
	assert_true(str_eq(a->to.tag, b->to.tag));
	assert_int_equal(a->cseq.num, b->cseq.num);
	assert_true(str_eq(a->body, b->body));
	assert_int_equal(sip_msg_check(a, NULL), sip_msg_check(b, NULL));
	sip_msg_print(&b2, b);
	assert_int_equal(b1.len, b2.len);
	assert_memory_equal(b1.p, b2.p, b1.len);
	sip_msg_unref(b);
	buf_fini(&b1);
	buf_fini(&b2);
}

/* Field-level expectations for messages whose point is a parsing subtlety. */
static void details(const char *file, const struct sip_msg *m)
{
	if (strcmp(file, "wsinv") == 0) {
		assert_str(m->to.tag, "1918181833n");
		assert_str(m->from.tag, "98asjd8");
		assert_str(m->from.display, "J Rosenberg \\\\\\\"");
		assert_str(m->via.host, "192.0.2.2");
		assert_str(m->via.branch, "390skdjuw");
		assert_int_equal(m->cseq.num, 9);
		assert_int_equal(m->cseq.method, SIP_METHOD_INVITE);
		assert_int_equal(m->max_forwards, 68);
		assert_int_equal(m->body.len, 150);
		/* the second Via line holds two values */
		const struct sip_hdr *h = sip_msg_hdr_next(m, sip_msg_hdr(m, SIP_HDR_VIA));
		struct sip_via v;
		struct str rest;
		assert_int_equal(sip_via_parse(&v, h->value, &rest), 0);
		assert_str(v.host, "spindle.example.com");
		assert_str(v.branch, "z9hG4bK9ikj8");
		assert_int_equal(sip_via_parse(&v, rest, &rest), 0);
		assert_str(v.host, "192.168.255.111");
		assert_str(v.branch, "z9hG4bK30239");
		assert_int_equal(rest.len, 0);
		struct sip_addr c;
		assert_int_equal(sip_addr_parse(&c, sip_msg_hdr(m, SIP_HDR_CONTACT)->value, NULL),
				 0);
		assert_str(c.display, "Quoted string \\\"\\\"");
		struct str q;
		assert_true(sip_param_get(c.params, "q", &q));
		assert_str(q, "0.33");
		assert_true(sip_param_get(c.params, "secondparam", &q));
		assert_int_equal(q.len, 0);
	} else if (strcmp(file, "intmeth") == 0) {
		assert_int_equal(m->method, SIP_METHOD_UNKNOWN);
		assert_str(m->method_name, "!interesting-Method0123456789_*+`.%indeed'~");
		assert_str(m->ruri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
		assert_str(m->from.tag, "_token~1'+`*%!-.");
		assert_str(m->call_id, "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
	} else if (strcmp(file, "esc02") == 0) {
		assert_int_equal(m->method, SIP_METHOD_UNKNOWN);
		/* C%6Fntact is not Contact: header names are not unescaped */
		const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_CONTACT);
		assert_non_null(h = sip_msg_hdr_next(m, h));
		assert_str(h->value, "<sip:alias3@host3.example.com>");
		assert_null(sip_msg_hdr_next(m, h));
	} else if (strcmp(file, "dblreq") == 0) {
		assert_int_equal(m->method, SIP_METHOD_REGISTER);
		assert_int_equal(m->body.len, 0);
		assert_true(m->len < 400);
	} else if (strcmp(file, "semiuri") == 0) {
		assert_str(m->ruri.user, "user;par=u%40example.net");
		assert_str(m->ruri.host, "example.com");
		assert_int_equal(m->ruri.params.len, 0);
	} else if (strcmp(file, "transports") == 0) {
		size_t n = 0;
		for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_VIA); h;
		     h = sip_msg_hdr_next(m, h))
			n++;
		assert_int_equal(n, 5);
	} else if (strcmp(file, "lwsdisp") == 0) {
		assert_str(m->from.display, "caller");
		assert_str(m->from.tag, "323");
	} else if (strcmp(file, "noreason") == 0) {
		assert_int_equal(m->status, 100);
		assert_int_equal(m->reason.len, 0);
	} else if (strcmp(file, "badbranch") == 0) {
		assert_str(m->via.branch, "z9hG4bK");
	} else if (strcmp(file, "cparam01") == 0) {
		struct sip_addr c;
		assert_int_equal(sip_addr_parse(&c, sip_msg_hdr(m, SIP_HDR_CONTACT)->value, NULL),
				 0);
		assert_str(c.params, ";unknownparam");
		assert_int_equal(c.uri.params.len, 0);
	} else if (strcmp(file, "cparam02") == 0) {
		struct sip_addr c;
		assert_int_equal(sip_addr_parse(&c, sip_msg_hdr(m, SIP_HDR_CONTACT)->value, NULL),
				 0);
		assert_int_equal(c.params.len, 0);
		assert_str(c.uri.params, ";unknownparam");
	} else if (strcmp(file, "inv2543") == 0) {
		assert_int_equal(m->via.branch.len, 0);
		assert_int_equal(m->max_forwards, -1);
		assert_int_equal(m->body.len, 105); /* the rest of the datagram */
	} else if (strcmp(file, "unksm2") == 0) {
		assert_str(m->to.uri.scheme, "isbn");
		assert_str(m->from.uri.scheme, "http");
	} else if (strcmp(file, "zeromf") == 0) {
		assert_int_equal(m->max_forwards, 0);
	} else if (strcmp(file, "mpart01") == 0) {
		assert_int_equal(m->body.len, 553);
		assert_true(m->via.rport);
	}
}

static void test_rfc4475(void **state)
{
	struct verdict v[64];
	size_t n = verdicts_load(v, ARRAY_LEN(v));

	for (size_t i = 0; i < n; i++) {
		char path[512];
		size_t len;
		snprintf(path, sizeof(path), DIR_4475 "/%s.dat", v[i].file);
		char *data = slurp(path, &len);
		struct sip_msg *m = NULL;
		int r = sip_msg_parse(&m, data, len);
		free(data); /* the message keeps its own copy */

		const char *want = v[i].parse;
		bool ok = strcmp(want, "ok") == 0, answer = strcmp(want, "answer") == 0;
		if (ok ? r != 0 : r != -EBADMSG)
			fail_msg("%s (%s): parse returned %d, want %s (%s)", v[i].file,
				 v[i].section, r, want, m && m->error ? m->error : "-");
		if ((ok || answer) != (m != NULL))
			fail_msg("%s: *out is %s", v[i].file, m ? "set" : "NULL");
		if (answer)
			assert_non_null(m->error);
		if (m) {
			const char *reason = NULL;
			int st = sip_msg_check(m, &reason);
			if (st != v[i].check)
				fail_msg("%s (%s): check gave %d (%s), want %d", v[i].file,
					 v[i].section, st, reason ? reason : "-", v[i].check);
			if (st)
				assert_non_null(reason);
			/* a rejected request can be answered: the response parses */
			if (st && m->is_request) {
				struct buf b;
				struct sip_msg *resp = NULL;
				buf_init(&b);
				sip_response_print(&b, m, (uint16_t)st, reason, "rej", NULL,
						   STR(""));
				int rr = sip_msg_parse(&resp, b.p, b.len);
				/* unless the fault is in a header it must echo (quotbal, …) */
				if (rr && !strstr(reason, "From") && !strstr(reason, "To ") &&
				    !strstr(reason, "CSeq"))
					fail_msg("%s: %d does not parse:\n%s", v[i].file, st, b.p);
				if (!rr)
					assert_int_equal(resp->status, st);
				sip_msg_unref(resp);
				buf_fini(&b);
			}
			if (ok) {
				details(v[i].file, m);
				round_trip(m);
			}
		}
		sip_msg_unref(m);
	}
}

/* Every message of the directory has a verdict: a new file cannot be skipped. */
static void test_rfc4475_complete(void **state)
{
	struct verdict v[64];
	size_t n = verdicts_load(v, ARRAY_LEN(v));
	DIR *d = opendir(DIR_4475);
	struct dirent *e;
	size_t files = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".dat") != 0)
			continue;
		files++;
		bool found = false;
		for (size_t i = 0; i < n; i++)
			found |= strncmp(v[i].file, e->d_name, l - 4) == 0 && v[i].file[l - 4] == 0;
		if (!found)
			fail_msg("%s has no verdict", e->d_name);
	}
	closedir(d);
	assert_int_equal(files, n);
	assert_int_equal(n, 50);
}

/* Truncating a valid message anywhere must give a clean result, never a crash
 * or a read past the end (ASan build). */
static void test_rfc4475_truncated(void **state)
{
	static const char *files[] = {"wsinv", "intmeth", "esc01", "longreq", "mpart01"};

	for (size_t f = 0; f < ARRAY_LEN(files); f++) {
		char path[512];
		size_t len;
		snprintf(path, sizeof(path), DIR_4475 "/%s.dat", files[f]);
		char *data = slurp(path, &len);
		for (size_t cut = 0; cut < len; cut++) {
			char *part = malloc(cut ? cut : 1);
			assert_non_null(part);
			memcpy(part, data, cut);
			struct sip_msg *m = NULL;
			int r = sip_msg_parse(&m, part, cut);
			assert_true(r == 0 || r == -EBADMSG);
			if (m) {
				sip_msg_check(m, NULL);
				struct buf b;
				buf_init(&b);
				sip_msg_print(&b, m);
				buf_fini(&b);
			}
			sip_msg_unref(m);
			free(part);
		}
		free(data);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc4475),
	    cmocka_unit_test(test_rfc4475_complete),
	    cmocka_unit_test(test_rfc4475_truncated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
