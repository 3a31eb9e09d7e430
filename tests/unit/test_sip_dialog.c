/*
 * Dialog tests (RFC 3261 §12): creation on both sides, matching, the CSeq
 * rules, target refresh, route sets with loose and strict routers, and every
 * printed request parsed back with sip_msg_parse.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sip/sip.h"

static struct sip_msg *parse_text(const char *text, enum sip_transport tp)
{
	size_t n = strlen(text);
	char *wire = malloc(2 * n + 1);
	assert_non_null(wire);
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (text[i] == '\n')
			wire[w++] = '\r';
		wire[w++] = text[i];
	}
	struct sip_msg *m = NULL;
	int err = sip_msg_parse(&m, wire, w);
	free(wire);
	if (err)
		fail_msg("parse failed (%d):\n%s", err, text);
	m->src.transport = tp;
	assert_int_equal(net_addr_parse(&m->src.remote, STR("127.0.0.1"), 5070), 0);
	return m;
}

/* An INVITE as it reaches us through two record-routing proxies. */
static const char INVITE_IN[] = "INVITE sip:bob@127.0.0.1:5060 SIP/2.0\n"
				"Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKp2\n"
				"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKp1\n"
				"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa1\n"
				"Record-Route: <sip:p2.test;lr>, <sip:p1b.test;lr>\n"
				"Record-Route: <sip:p1.test:5080;lr;transport=tcp>\n"
				"Max-Forwards: 68\n"
				"From: \"Alice\" <sip:alice@a.test>;tag=atag\n"
				"To: Bob <sip:bob@b.test>\n"
				"Call-ID: dlg1@a.test\n"
				"CSeq: 10 INVITE\n"
				"Contact: <sip:alice@192.0.2.10:5070;transport=udp>\n"
				"Content-Length: 0\n\n";

static struct sip_dialog *uas_dialog(void)
{
	struct sip_msg *inv = parse_text(INVITE_IN, SIP_TRANSPORT_UDP);
	struct sip_dialog *d = NULL;
	assert_int_equal(sip_dialog_create_uas(&d, inv, "btag", "sip:irisx@127.0.0.1:5060"), 0);
	sip_msg_unref(inv); /* the dialog keeps copies, not the message */
	return d;
}

static struct sip_msg *print_parse(struct sip_dialog *d, enum sip_method m, uint32_t cseq,
				   const char *extra, struct str body)
{
	struct buf b;
	buf_init(&b);
	assert_int_equal(sip_dialog_request_print(&b, d, m, cseq, SIP_TRANSPORT_UDP,
						  "127.0.0.1:5060", extra, body),
			 0);
	struct sip_msg *msg = NULL;
	int err = sip_msg_parse(&msg, b.p, b.len);
	if (err)
		fail_msg("printed request does not parse (%d):\n%s", err, b.p);
	/* Printing the parse gives the same bytes back in canonical form. */
	struct buf again;
	buf_init(&again);
	sip_msg_print(&again, msg);
	struct sip_msg *msg2 = NULL;
	assert_int_equal(sip_msg_parse(&msg2, again.p, again.len), 0);
	assert_int_equal(msg2->method, msg->method);
	assert_true(str_eq(msg2->call_id, msg->call_id));
	sip_msg_unref(msg2);
	buf_fini(&again);
	buf_fini(&b);
	return msg;
}

static void expect_routes(const struct sip_msg *m, const char *const *want, size_t n)
{
	size_t i = 0;
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_ROUTE); h;
	     h = sip_msg_hdr_next(m, h)) {
		struct str list = h->value, item;
		while (sip_list_next(&list, &item)) {
			assert_true(i < n);
			assert_true(str_eq(str_trim(item), str_from_cstr(want[i])));
			i++;
		}
	}
	assert_int_equal(i, n);
}

static void test_uas_create_and_bye(void **state)
{
	(void)state;
	struct sip_dialog *d = uas_dialog();
	assert_true(str_eq(sip_dialog_call_id(d), STR("dlg1@a.test")));
	assert_true(str_eq(sip_dialog_local_tag(d), STR("btag")));
	assert_true(str_eq(sip_dialog_remote_tag(d), STR("atag")));
	assert_true(
	    str_eq(sip_dialog_remote_target(d), STR("sip:alice@192.0.2.10:5070;transport=udp")));
	assert_true(sip_dialog_confirmed(d));
	assert_false(sip_dialog_secure(d));
	assert_int_equal(sip_dialog_peer(d)->transport, SIP_TRANSPORT_UDP);
	assert_int_equal(net_addr_port(&sip_dialog_peer(d)->remote), 5070);

	struct sip_msg *bye =
	    print_parse(d, SIP_METHOD_BYE, 0, "Reason: Q.850;cause=16\r\n", STR_NULL);
	assert_int_equal(bye->method, SIP_METHOD_BYE);
	/* Loose routing: target in the Request-URI, the route set as recorded. */
	assert_true(str_eq(bye->ruri_str, STR("sip:alice@192.0.2.10:5070;transport=udp")));
	static const char *const routes[] = {"<sip:p2.test;lr>", "<sip:p1b.test;lr>",
					     "<sip:p1.test:5080;lr;transport=tcp>"};
	expect_routes(bye, routes, ARRAY_LEN(routes));
	/* UAS: From is the INVITE's To with our tag, To the INVITE's From. */
	assert_true(str_eq(bye->from.uri_str, STR("sip:bob@b.test")));
	assert_true(str_eq(bye->from.tag, STR("btag")));
	assert_true(str_eq(bye->to.uri_str, STR("sip:alice@a.test")));
	assert_true(str_eq(bye->to.tag, STR("atag")));
	assert_true(str_eq(bye->to.display, STR("Alice")));
	assert_true(str_eq(bye->call_id, STR("dlg1@a.test")));
	assert_int_equal(bye->cseq.method, SIP_METHOD_BYE);
	uint32_t first = bye->cseq.num;
	assert_true(first >= 1);
	assert_int_equal(bye->max_forwards, 70);
	assert_true(str_eq(bye->via.transport, STR("UDP")));
	assert_true(str_eq(bye->via.host, STR("127.0.0.1")));
	assert_int_equal(bye->via.port, 5060);
	assert_int_equal(bye->via.branch.len, SIP_BRANCH_LEN - 1);
	assert_true(str_starts_with_i(bye->via.branch, "z9hG4bK"));
	assert_null(sip_msg_hdr(bye, SIP_HDR_CONTACT)); /* BYE takes none */
	assert_non_null(sip_msg_hdr(bye, SIP_HDR_REASON));
	assert_int_equal(bye->body.len, 0);
	/* The dialog matches what comes back for it. */
	struct sip_msg *ok = parse_text("SIP/2.0 200 OK\n"
					"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\n"
					"From: <sip:bob@b.test>;tag=btag\n"
					"To: <sip:alice@a.test>;tag=atag\n"
					"Call-ID: dlg1@a.test\n"
					"CSeq: 1 BYE\n"
					"Content-Length: 0\n\n",
					SIP_TRANSPORT_UDP);
	assert_true(sip_dialog_matches(d, ok));
	assert_int_equal(sip_dialog_recv_response(d, ok), 0);
	sip_msg_unref(ok);

	/* INFO with a body: the next CSeq, a Content-Length that fits. */
	struct sip_msg *info =
	    print_parse(d, SIP_METHOD_INFO, 0, "Content-Type: application/dtmf-relay\r\n",
			STR("Signal=5\r\nDuration=160\r\n"));
	assert_int_equal(info->cseq.num, first + 1);
	assert_true(str_eq(info->body, STR("Signal=5\r\nDuration=160\r\n")));
	assert_true(bye->via.branch.len == info->via.branch.len &&
		    !str_eq(bye->via.branch, info->via.branch));
	sip_msg_unref(info);
	sip_msg_unref(bye);

	/* OPTIONS and re-INVITE carry our Contact. */
	struct sip_msg *opt = print_parse(d, SIP_METHOD_OPTIONS, 0, NULL, STR_NULL);
	const struct sip_hdr *c = sip_msg_hdr(opt, SIP_HDR_CONTACT);
	assert_non_null(c);
	assert_true(str_eq(c->value, STR("<sip:irisx@127.0.0.1:5060>")));
	assert_int_equal(opt->cseq.num, first + 2);
	sip_msg_unref(opt);

	struct str host;
	uint16_t port;
	enum sip_transport tp;
	assert_int_equal(sip_dialog_next_hop(d, &host, &port, &tp), 0);
	assert_true(str_eq(host, STR("p2.test")));
	assert_int_equal(port, 0);
	assert_int_equal(tp, SIP_TRANSPORT_UDP);
	sip_dialog_destroy(d);
}

static void test_uas_cseq_and_refresh(void **state)
{
	(void)state;
	struct sip_dialog *d = uas_dialog();
	char text[1024];
	const char *fmt = "%s sip:bob@127.0.0.1:5060 SIP/2.0\n"
			  "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK%u\n"
			  "From: <sip:alice@a.test>;tag=%s\n"
			  "To: <sip:bob@b.test>;tag=%s\n"
			  "Call-ID: %s\n"
			  "CSeq: %u %s\n"
			  "%s"
			  "Content-Length: 0\n\n";
#define REQ(method, from_tag, to_tag, call_id, cseq, contact)                                      \
	(snprintf(text, sizeof(text), fmt, method, (unsigned)(cseq), from_tag, to_tag, call_id,    \
		  (unsigned)(cseq), method, contact),                                              \
	 parse_text(text, SIP_TRANSPORT_UDP))
	struct sip_msg *m;

	/* The ACK carries the INVITE's number. */
	m = REQ("ACK", "atag", "btag", "dlg1@a.test", 10, "");
	assert_true(sip_dialog_matches(d, m));
	assert_int_equal(sip_dialog_recv_request(d, m), 0);
	sip_msg_unref(m);
	/* Not ours: wrong tag either way, or another Call-ID. */
	m = REQ("BYE", "atag", "other", "dlg1@a.test", 11, "");
	assert_false(sip_dialog_matches(d, m));
	assert_int_equal(sip_dialog_recv_request(d, m), 481);
	sip_msg_unref(m);
	m = REQ("BYE", "btag", "atag", "dlg1@a.test", 11, "");
	assert_false(sip_dialog_matches(d, m));
	sip_msg_unref(m);
	m = REQ("BYE", "atag", "btag", "dlg2@a.test", 11, "");
	assert_false(sip_dialog_matches(d, m));
	sip_msg_unref(m);

	/* A re-INVITE refreshes the target; INFO with a Contact does not. */
	m = REQ("INVITE", "atag", "btag", "dlg1@a.test", 12, "Contact: <sip:alice@198.51.100.7>\n");
	assert_int_equal(sip_dialog_recv_request(d, m), 0);
	sip_msg_unref(m);
	assert_true(str_eq(sip_dialog_remote_target(d), STR("sip:alice@198.51.100.7")));
	m = REQ("INFO", "atag", "btag", "dlg1@a.test", 13, "Contact: <sip:elsewhere@192.0.2.1>\n");
	assert_int_equal(sip_dialog_recv_request(d, m), 0);
	sip_msg_unref(m);
	assert_true(str_eq(sip_dialog_remote_target(d), STR("sip:alice@198.51.100.7")));
	m = REQ("UPDATE", "atag", "btag", "dlg1@a.test", 14, "Contact: <sip:alice@198.51.100.8>\n");
	assert_int_equal(sip_dialog_recv_request(d, m), 0);
	sip_msg_unref(m);
	assert_true(str_eq(sip_dialog_remote_target(d), STR("sip:alice@198.51.100.8")));

	/* §12.2.2: lower than the last is out of order. */
	m = REQ("INFO", "atag", "btag", "dlg1@a.test", 13, "");
	assert_int_equal(sip_dialog_recv_request(d, m), 500);
	sip_msg_unref(m);
	m = REQ("BYE", "atag", "btag", "dlg1@a.test", 20, "");
	assert_int_equal(sip_dialog_recv_request(d, m), 0);
	sip_msg_unref(m);

	struct sip_msg *bye = print_parse(d, SIP_METHOD_BYE, 0, NULL, STR_NULL);
	assert_true(str_eq(bye->ruri_str, STR("sip:alice@198.51.100.8")));
	sip_msg_unref(bye);
#undef REQ
	sip_dialog_destroy(d);
}

static const char INVITE_OUT[] = "INVITE sip:carol@c.test SIP/2.0\n"
				 "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKout1\n"
				 "Max-Forwards: 70\n"
				 "From: <sip:irisx@127.0.0.1>;tag=ours\n"
				 "To: \"Carol\" <sip:carol@c.test>\n"
				 "Call-ID: out1@127.0.0.1\n"
				 "CSeq: 4711 INVITE\n"
				 "Contact: <sip:irisx@127.0.0.1:5060>\n"
				 "Content-Length: 0\n\n";

static struct sip_msg *uac_response(uint16_t status, const char *rr, const char *contact)
{
	char text[1024];
	snprintf(text, sizeof(text),
		 "SIP/2.0 %u %s\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKout1\n"
		 "%s"
		 "From: <sip:irisx@127.0.0.1>;tag=ours\n"
		 "To: \"Carol\" <sip:carol@c.test>;tag=theirs\n"
		 "Call-ID: out1@127.0.0.1\n"
		 "CSeq: 4711 INVITE\n"
		 "Contact: %s\n"
		 "Content-Length: 0\n\n",
		 status, sip_reason_phrase(status), rr, contact);
	return parse_text(text, SIP_TRANSPORT_UDP);
}

static void test_uac_routes_reversed_and_ack(void **state)
{
	(void)state;
	struct sip_msg *inv = parse_text(INVITE_OUT, SIP_TRANSPORT_UDP);
	struct sip_msg *ok = uac_response(200,
					  "Record-Route: <sip:near.test;lr>\n"
					  "Record-Route: <sip:mid.test;lr>, <sip:far.test;lr>\n",
					  "<sip:carol@203.0.113.5:5062>");
	struct sip_dialog *d = NULL;
	assert_int_equal(sip_dialog_create_uac(&d, inv, ok, "sip:irisx@127.0.0.1:5060"), 0);
	sip_msg_unref(inv);
	assert_true(sip_dialog_confirmed(d));
	assert_true(str_eq(sip_dialog_local_tag(d), STR("ours")));
	assert_true(str_eq(sip_dialog_remote_tag(d), STR("theirs")));
	assert_true(sip_dialog_matches(d, ok));
	sip_msg_unref(ok);

	/* The ACK for the 2xx: INVITE's CSeq number, a new branch, reversed routes. */
	struct sip_msg *ack = print_parse(d, SIP_METHOD_ACK, 0, NULL, STR_NULL);
	assert_int_equal(ack->method, SIP_METHOD_ACK);
	assert_int_equal(ack->cseq.num, 4711);
	assert_int_equal(ack->cseq.method, SIP_METHOD_ACK);
	assert_false(str_eq(ack->via.branch, STR("z9hG4bKout1")));
	assert_true(str_eq(ack->ruri_str, STR("sip:carol@203.0.113.5:5062")));
	static const char *const routes[] = {"<sip:far.test;lr>", "<sip:mid.test;lr>",
					     "<sip:near.test;lr>"};
	expect_routes(ack, routes, ARRAY_LEN(routes));
	assert_true(str_eq(ack->from.tag, STR("ours")));
	assert_true(str_eq(ack->to.tag, STR("theirs")));
	assert_true(str_eq(ack->to.display, STR("Carol")));
	sip_msg_unref(ack);

	/* The next request goes past the INVITE's CSeq. */
	struct sip_msg *bye = print_parse(d, SIP_METHOD_BYE, 0, NULL, STR_NULL);
	assert_int_equal(bye->cseq.num, 4712);
	sip_msg_unref(bye);

	/* A re-INVITE, its CANCEL (same branch and CSeq) and its ACK. */
	struct sip_msg *reinv = print_parse(d, SIP_METHOD_INVITE, 0, NULL, STR("v=0\r\n"));
	assert_int_equal(reinv->cseq.num, 4713);
	struct sip_msg *cancel = print_parse(d, SIP_METHOD_CANCEL, 0, NULL, STR_NULL);
	assert_int_equal(cancel->cseq.num, 4713);
	assert_int_equal(cancel->cseq.method, SIP_METHOD_CANCEL);
	assert_true(str_eq(cancel->via.branch, reinv->via.branch));
	assert_true(str_eq(cancel->ruri_str, reinv->ruri_str));
	struct sip_msg *ack2 = print_parse(d, SIP_METHOD_ACK, 0, NULL, STR_NULL);
	assert_int_equal(ack2->cseq.num, 4713);
	assert_false(str_eq(ack2->via.branch, reinv->via.branch));
	struct sip_msg *ack3 = print_parse(d, SIP_METHOD_ACK, 4711, NULL, STR_NULL);
	assert_int_equal(ack3->cseq.num, 4711);
	sip_msg_unref(ack3);
	sip_msg_unref(ack2);
	sip_msg_unref(cancel);
	sip_msg_unref(reinv);

	/* The UAC's remote CSeq starts empty: any first number is in order. */
	struct sip_msg *in = parse_text("BYE sip:irisx@127.0.0.1:5060 SIP/2.0\n"
					"Via: SIP/2.0/UDP 203.0.113.5:5062;branch=z9hG4bKb1\n"
					"From: <sip:carol@c.test>;tag=theirs\n"
					"To: <sip:irisx@127.0.0.1>;tag=ours\n"
					"Call-ID: out1@127.0.0.1\n"
					"CSeq: 3 BYE\n"
					"Content-Length: 0\n\n",
					SIP_TRANSPORT_UDP);
	assert_true(sip_dialog_matches(d, in));
	assert_int_equal(sip_dialog_recv_request(d, in), 0);
	in->cseq.num = 2;
	assert_int_equal(sip_dialog_recv_request(d, in), 500);
	sip_msg_unref(in);

	struct str host;
	uint16_t port;
	enum sip_transport tp;
	assert_int_equal(sip_dialog_next_hop(d, &host, &port, &tp), 0);
	assert_true(str_eq(host, STR("far.test")));
	sip_dialog_destroy(d);
}

static void test_strict_router(void **state)
{
	(void)state;
	/* §12.2.1.1: a first route without ;lr is a strict router. */
	struct sip_msg *inv = parse_text(INVITE_OUT, SIP_TRANSPORT_UDP);
	struct sip_msg *ok = uac_response(200,
					  "Record-Route: <sip:loose.test;lr>\n"
					  "Record-Route: <sip:strict.test:5070;maddr=10.1.1.1>\n",
					  "<sip:carol@203.0.113.5:5062>");
	struct sip_dialog *d = NULL;
	assert_int_equal(sip_dialog_create_uac(&d, inv, ok, "sip:irisx@127.0.0.1:5060"), 0);
	sip_msg_unref(inv);
	sip_msg_unref(ok);
	struct sip_msg *bye = print_parse(d, SIP_METHOD_BYE, 0, NULL, STR_NULL);
	assert_true(str_eq(bye->ruri_str, STR("sip:strict.test:5070;maddr=10.1.1.1")));
	static const char *const routes[] = {"<sip:loose.test;lr>", "<sip:carol@203.0.113.5:5062>"};
	expect_routes(bye, routes, ARRAY_LEN(routes));
	sip_msg_unref(bye);
	struct str host;
	uint16_t port;
	enum sip_transport tp;
	assert_int_equal(sip_dialog_next_hop(d, &host, &port, &tp), 0);
	assert_true(str_eq(host, STR("strict.test")));
	assert_int_equal(port, 5070);
	sip_dialog_destroy(d);
}

static void test_early_dialog_confirmed(void **state)
{
	(void)state;
	struct sip_msg *inv = parse_text(INVITE_OUT, SIP_TRANSPORT_UDP);
	struct sip_msg *ringing =
	    uac_response(180, "Record-Route: <sip:early.test;lr>\n", "<sip:carol@192.0.2.50>");
	struct sip_dialog *d = NULL;
	assert_int_equal(sip_dialog_create_uac(&d, inv, ringing, "sip:irisx@127.0.0.1:5060"), 0);
	assert_false(sip_dialog_confirmed(d));
	sip_msg_unref(ringing);
	/* The 2xx recomputes the route set and refreshes the target (§13.2.2.4). */
	struct sip_msg *ok = uac_response(200, "Record-Route: <sip:a.test;lr>, <sip:b.test;lr>\n",
					  "<sips:carol@192.0.2.60>");
	assert_int_equal(sip_dialog_recv_response(d, ok), 0);
	sip_msg_unref(ok);
	assert_true(sip_dialog_confirmed(d));
	assert_true(str_eq(sip_dialog_remote_target(d), STR("sips:carol@192.0.2.60")));
	struct sip_msg *bye = print_parse(d, SIP_METHOD_BYE, 0, NULL, STR_NULL);
	static const char *const routes[] = {"<sip:b.test;lr>", "<sip:a.test;lr>"};
	expect_routes(bye, routes, ARRAY_LEN(routes));
	sip_msg_unref(bye);

	/* Without routes the target is the next hop: sips means TLS. */
	struct sip_msg *ok2 = uac_response(200, "", "<sips:carol@192.0.2.61:5063>");
	struct sip_dialog *d2 = NULL;
	assert_int_equal(sip_dialog_create_uac(&d2, inv, ok2, "sip:irisx@127.0.0.1:5060"), 0);
	struct str host;
	uint16_t port;
	enum sip_transport tp;
	assert_int_equal(sip_dialog_next_hop(d2, &host, &port, &tp), 0);
	assert_true(str_eq(host, STR("192.0.2.61")));
	assert_int_equal(port, 5063);
	assert_int_equal(tp, SIP_TRANSPORT_TLS);
	struct sip_msg *bye2 = print_parse(d2, SIP_METHOD_BYE, 0, NULL, STR_NULL);
	assert_null(sip_msg_hdr(bye2, SIP_HDR_ROUTE));
	sip_msg_unref(bye2);
	/* A response of another dialog is refused. */
	struct sip_msg *other = uac_response(200, "", "<sip:x@192.0.2.1>");
	other->to.tag = STR("someone-else");
	assert_int_equal(sip_dialog_recv_response(d2, other), -EINVAL);
	sip_msg_unref(other);
	sip_msg_unref(ok2);
	sip_msg_unref(inv);
	sip_dialog_destroy(d2);
	sip_dialog_destroy(d);
}

static void test_secure_and_errors(void **state)
{
	(void)state;
	struct sip_msg *inv = parse_text("INVITE sips:bob@127.0.0.1 SIP/2.0\n"
					 "Via: SIP/2.0/TLS 127.0.0.1:5071;branch=z9hG4bKs1\n"
					 "From: <sips:alice@a.test>;tag=a\n"
					 "To: <sips:bob@b.test>\n"
					 "Call-ID: s1\n"
					 "CSeq: 1 INVITE\n"
					 "Contact: <sips:alice@127.0.0.1:5071>\n"
					 "Content-Length: 0\n\n",
					 SIP_TRANSPORT_TLS);
	struct sip_dialog *d = NULL;
	assert_int_equal(sip_dialog_create_uas(&d, inv, "b", "sips:irisx@127.0.0.1:5061"), 0);
	assert_true(sip_dialog_secure(d));
	sip_dialog_destroy(d);
	/* The same over TCP is not secure. */
	inv->src.transport = SIP_TRANSPORT_TCP;
	assert_int_equal(sip_dialog_create_uas(&d, inv, "b", "sip:irisx@127.0.0.1:5060"), 0);
	assert_false(sip_dialog_secure(d));
	sip_dialog_destroy(d);
	assert_int_equal(sip_dialog_create_uas(&d, inv, "", "sip:x@y"), -EINVAL);
	sip_msg_unref(inv);

	/* No Contact: no remote target, no dialog. */
	struct sip_msg *bad = parse_text("INVITE sip:bob@127.0.0.1 SIP/2.0\n"
					 "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKs2\n"
					 "From: <sip:alice@a.test>;tag=a\n"
					 "To: <sip:bob@b.test>\n"
					 "Call-ID: s2\n"
					 "CSeq: 1 INVITE\n"
					 "Content-Length: 0\n\n",
					 SIP_TRANSPORT_UDP);
	d = NULL;
	assert_int_equal(sip_dialog_create_uas(&d, bad, "b", "sip:irisx@127.0.0.1"), -EBADMSG);
	assert_null(d);
	sip_msg_unref(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uas_create_and_bye),
	    cmocka_unit_test(test_uas_cseq_and_refresh),
	    cmocka_unit_test(test_uac_routes_reversed_and_ack),
	    cmocka_unit_test(test_strict_router),
	    cmocka_unit_test(test_early_dialog_confirmed),
	    cmocka_unit_test(test_secure_and_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
