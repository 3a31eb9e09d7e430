/*
 * Unit tests for digest authentication, client side: challenge parsing
 * (RFC 7235 §2.1 syntax, RFC 7616 §3.3 parameters), picking the challenge to
 * answer from a 401/407 (RFC 7616 §3.7), and the Authorization line with the
 * worked examples of RFC 7616 §3.9.1, RFC 2617 §3.5 and RFC 2069 §2.4.
 * Expected responses that no RFC prints were computed apart, with md5sum and
 * sha256sum over the RFC 7616 §3.4 formulas.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sip/sip.h"

static void assert_slice(struct str got, const char *want, const char *what, const char *in)
{
	if (!str_eq(got, str_from_cstr(want)))
		fail_msg("%s of \"%s\": got \"%.*s\", want \"%s\"", what, in, (int)got.len, got.p,
			 want);
}

/* ---- parsing ----------------------------------------------------------------- */

static const struct parse_vector {
	const char *in;
	int ret;
	const char *realm, *nonce, *opaque; /* opaque NULL: absent */
	enum sip_auth_algorithm algorithm;
	bool has_algorithm, qop_auth, stale;
} parse_vectors[] = {
    /* RFC 7616 §3.9.1's challenge */
    {"Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=SHA-256, "
     "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
     "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"",
     0, "http-auth@example.org", "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
     "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", SIP_AUTH_SHA256, true, true, false},
    /* RFC 3261 §22.4 style, no qop, no algorithm: MD5 */
    {"Digest realm=\"atlanta.com\", domain=\"sip:boxesbybob.com\", "
     "nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=FALSE",
     0, "atlanta.com", "f84f1cec41e6cbe5aea9c8e88d359", "", SIP_AUTH_MD5, false, false, false},
    /* names case-insensitive, any order, token values, quoted algorithm */
    {"digest NONCE=abc123,REALM=example.com, Algorithm=\"md5-SESS\", QOP=auth, STALE=true", 0,
     "example.com", "abc123", NULL, SIP_AUTH_MD5_SESS, true, true, true},
    {"DIGEST realm=\"r\", nonce=\"n\", algorithm=sha-256-sess, stale=\"TRUE\"", 0, "r", "n", NULL,
     SIP_AUTH_SHA256_SESS, true, false, true},
    /* LWS around '=' and ',', folded lines, empty list elements (RFC 7230 §7) */
    {"Digest  realm = \"r\" ,\r\n\tnonce=\r\n \"n\" , ,opaque=\"o\",", 0, "r", "n", "o",
     SIP_AUTH_MD5, false, false, false},
    {"Digest ,realm=\"r\",,, nonce=\"n\"", 0, "r", "n", NULL, SIP_AUTH_MD5, false, false, false},
    /* unknown parameters are skipped; escapes stay as written */
    {"Digest charset=UTF-8, userhash=false, realm=\"a \\\"b\\\" c\", nonce=\"n,=;\"", 0,
     "a \\\"b\\\" c", "n,=;", NULL, SIP_AUTH_MD5, false, false, false},
    /* qop lists */
    {"Digest realm=\"r\", nonce=\"n\", qop=\"auth-int,auth\"", 0, "r", "n", NULL, SIP_AUTH_MD5,
     false, true, false},
    {.in = "Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"", .ret = -ENOTSUP},
    {.in = "Digest realm=\"r\", nonce=\"n\", qop=\"\"", .ret = -ENOTSUP},
    /* empty realm and nonce are values still */
    {"Digest realm=\"\", nonce=\"\"", 0, "", "", NULL, SIP_AUTH_MD5, false, false, false},
    /* several challenges in one value: the first */
    {"Digest realm=\"one\", nonce=\"1\", Digest realm=\"two\", nonce=\"2\"", 0, "one", "1", NULL,
     SIP_AUTH_MD5, false, false, false},
    {"Digest realm=\"r\", nonce=\"n\", Basic realm=\"x\"", 0, "r", "n", NULL, SIP_AUTH_MD5, false,
     false, false},
    {.in = "Basic realm=\"x\", Digest realm=\"r\", nonce=\"n\"", .ret = -ENOTSUP},
    /* other schemes and algorithms */
    {.in = "Basic realm=\"WallyWorld\"", .ret = -ENOTSUP},
    {.in = "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", .ret = -ENOTSUP},
    {.in = "Bearer", .ret = -ENOTSUP},
    {.in = "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256", .ret = -ENOTSUP},
    {.in = "Digest realm=\"r\", nonce=\"n\", algorithm=AKAv1-MD5", .ret = -ENOTSUP},
    /* missing parameters */
    {.in = "Digest realm=\"r\"", .ret = -EINVAL},
    {.in = "Digest nonce=\"n\"", .ret = -EINVAL},
    {.in = "Digest", .ret = -EINVAL},
    {.in = "Digest realm=\"r\", Digest nonce=\"n\"", .ret = -EINVAL},
    /* bad syntax */
    {.in = "", .ret = -EINVAL},
    {.in = " , ,", .ret = -EINVAL},
    {.in = "Digest realm=\"r\", nonce=\"unterminated", .ret = -EINVAL},
    {.in = "Digest realm=\"r, nonce=\"n\"", .ret = -EINVAL},
    {.in = "Digest realm=\"r\" nonce=\"n\"", .ret = -EINVAL},
    {.in = "Digest realm=\"r\", nonce=", .ret = -EINVAL},
    {.in = "Digest realm=\"r\", nonce=\"n\", =x", .ret = -EINVAL},
    {.in = "Digest realm=\"r\", realm=\"s\", nonce=\"n\"", .ret = -EINVAL},
    {.in = "Digest abc==", .ret = -EINVAL},
    {.in = "Digest realm", .ret = -EINVAL},
    {.in = "Digest foo bar=\"x\"", .ret = -EINVAL},
    {.in = "Digest\"realm\"", .ret = -EINVAL},
    {.in = "Digest realm=\"r\", nonce=\"n\"\rx", .ret = -EINVAL},
    {.in = "Digest realm=\"r\", nonce=\"n\\\"", .ret = -EINVAL},
    {.in = "<<<>>> ;;", .ret = -EINVAL},
    /* a quoted-pair may carry a control octet (RFC 3261 §25.1); echoing it would not do */
    {.in = "Digest realm=\"r\", nonce=\"a\\\001b\"", .ret = -EINVAL},
    {.in = "%%% garbage ===", .ret = -EINVAL},
    {.in = "=x", .ret = -EINVAL},
    {.in = "\"Digest\" realm=\"r\", nonce=\"n\"", .ret = -EINVAL},
    {.in = "\x01\x02\xff", .ret = -EINVAL},
};

static void test_parse_vectors(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(parse_vectors); i++) {
		const struct parse_vector *v = &parse_vectors[i];
		struct sip_auth_challenge ch;
		memset(&ch, 0x5a, sizeof(ch));
		int r = sip_auth_challenge_parse(&ch, str_from_cstr(v->in));
		if (r != v->ret)
			fail_msg("\"%s\": got %d, want %d", v->in, r, v->ret);
		if (r)
			continue;
		assert_slice(ch.realm, v->realm, "realm", v->in);
		assert_slice(ch.nonce, v->nonce, "nonce", v->in);
		assert_int_equal(ch.has_opaque, v->opaque != NULL);
		if (v->opaque)
			assert_slice(ch.opaque, v->opaque, "opaque", v->in);
		else
			assert_int_equal(ch.opaque.len, 0);
		assert_int_equal(ch.algorithm, v->algorithm);
		assert_int_equal(ch.has_algorithm, v->has_algorithm);
		assert_int_equal(ch.qop_auth, v->qop_auth);
		assert_int_equal(ch.stale, v->stale);
	}
}

static void test_parse_arguments(void **state)
{
	struct sip_auth_challenge ch;
	assert_int_equal(sip_auth_challenge_parse(&ch, STR_NULL), -EINVAL);
	assert_int_equal(sip_auth_challenge_parse(NULL, STR("Digest realm=\"r\", nonce=\"n\"")),
			 -EINVAL);
	/* the value's length bounds it: what follows is not read */
	const char text[] = "Digest realm=\"r\", nonce=\"n\"XXXX";
	assert_int_equal(sip_auth_challenge_parse(&ch, str_make(text, sizeof(text) - 5)), 0);
	assert_slice(ch.nonce, "n", "nonce", text);
	assert_int_equal(sip_auth_challenge_parse(&ch, str_make(text, 30)), -EINVAL);
}

/* ---- answering: the RFCs' worked examples --------------------------------------- */

static void print_ok(struct buf *out, const char *challenge, bool proxy, const char *method,
		     const char *uri, const char *user, const char *pass, uint32_t nc,
		     const char *cnonce)
{
	struct sip_auth_challenge ch;
	assert_int_equal(sip_auth_challenge_parse(&ch, str_from_cstr(challenge)), 0);
	buf_reset(out);
	assert_int_equal(sip_auth_credentials_print(out, &ch, proxy, method, str_from_cstr(uri),
						    user, pass, nc, cnonce),
			 0);
}

static void assert_line(const struct buf *b, const char *want)
{
	if (b->len != strlen(want) || memcmp(b->p, want, b->len) != 0)
		fail_msg("got  %.*s\nwant %s", (int)b->len, b->p, want);
}

/* RFC 7616 §3.9.1: the same request answered with MD5 and with SHA-256. */
static void test_rfc7616_examples(void **state)
{
	static const char challenge[] =
	    "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=%s, "
	    "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
	    "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
	static const struct {
		const char *algorithm, *response;
	} cases[] = {
	    {"MD5", "8ca523f5e9506fed4657c9700eebdbec"},
	    {"SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	};
	struct buf out, want;
	buf_init(&out);
	buf_init(&want);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char text[512];
		snprintf(text, sizeof(text), challenge, cases[i].algorithm);
		print_ok(&out, text, false, "GET", "/dir/index.html", "Mufasa", "Circle of Life", 1,
			 "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ");
		buf_reset(&want);
		buf_printf(&want,
			   "Authorization: Digest username=\"Mufasa\", "
			   "realm=\"http-auth@example.org\", "
			   "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
			   "uri=\"/dir/index.html\", response=\"%s\", algorithm=%s, "
			   "cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", "
			   "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\", "
			   "qop=auth, nc=00000001\r\n",
			   cases[i].response, cases[i].algorithm);
		assert_line(&out, want.p);
	}
	buf_fini(&want);
	buf_fini(&out);
}

/* RFC 2617 §3.5 (qop=auth, no algorithm named: none echoed) and RFC 2069
 * §2.4 (no qop: response = H(HA1:nonce:HA2), no cnonce, no nc). */
static void test_rfc2617_rfc2069_examples(void **state)
{
	struct buf out;
	buf_init(&out);
	print_ok(&out,
		 "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
		 "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
		 "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
		 false, "GET", "/dir/index.html", "Mufasa", "Circle Of Life", 1, "0a4f113b");
	assert_line(&out,
		    "Authorization: Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
		    "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
		    "response=\"6629fae49393a05397450978507c4ef1\", cnonce=\"0a4f113b\", "
		    "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", qop=auth, nc=00000001\r\n");

	print_ok(&out,
		 "Digest realm=\"testrealm@host.com\", "
		 "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
		 "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
		 false, "GET", "/dir/index.html", "Mufasa", "CircleOfLife", 1, "unused");
	assert_line(&out,
		    "Authorization: Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
		    "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
		    "response=\"1949323746fe6a43ef61f9606e7febea\", "
		    "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"\r\n");
	buf_fini(&out);
}

/* SIP requests, the -sess forms and a 407 (responses computed apart). */
static void test_sip_answers(void **state)
{
	struct buf out;
	buf_init(&out);

	print_ok(&out,
		 "Digest realm=\"atlanta.com\", nonce=\"84a4cc6f3082121f32b42a2187831a9e\", "
		 "algorithm=MD5-sess, qop=\"auth\"",
		 false, "INVITE", "sip:bob@biloxi.com", "bob", "zanzibar", 1, "0a4f113b");
	assert_line(&out, "Authorization: Digest username=\"bob\", realm=\"atlanta.com\", "
			  "nonce=\"84a4cc6f3082121f32b42a2187831a9e\", uri=\"sip:bob@biloxi.com\", "
			  "response=\"3403fe7e21a9707d150ce0141cc84903\", algorithm=MD5-sess, "
			  "cnonce=\"0a4f113b\", qop=auth, nc=00000001\r\n");

	print_ok(&out,
		 "Digest realm=\"atlanta.com\", nonce=\"84a4cc6f3082121f32b42a2187831a9e\", "
		 "algorithm=SHA-256-sess, qop=\"auth\"",
		 true, "INVITE", "sip:bob@biloxi.com", "bob", "zanzibar", 1, "0a4f113b");
	assert_line(&out,
		    "Proxy-Authorization: Digest username=\"bob\", realm=\"atlanta.com\", "
		    "nonce=\"84a4cc6f3082121f32b42a2187831a9e\", uri=\"sip:bob@biloxi.com\", "
		    "response=\"59ee2d523294291e36fdde1ae2971d410788030f3a60b3ede4172f29024a0bd5\""
		    ", algorithm=SHA-256-sess, cnonce=\"0a4f113b\", qop=auth, nc=00000001\r\n");

	/* a REGISTER without qop, algorithm named: echoed */
	print_ok(&out,
		 "Digest realm=\"atlanta.com\", nonce=\"84a4cc6f3082121f32b42a2187831a9e\", "
		 "algorithm=md5",
		 false, "REGISTER", "sip:atlanta.com", "bob", "zanzibar", 7, NULL);
	assert_line(&out, "Authorization: Digest username=\"bob\", realm=\"atlanta.com\", "
			  "nonce=\"84a4cc6f3082121f32b42a2187831a9e\", uri=\"sip:atlanta.com\", "
			  "response=\"2f19e4d5ef90a612be07956ef97ba105\", algorithm=MD5\r\n");

	/* quotes in the username are escaped on the wire and hashed as they are;
	 * an escaped realm is hashed unescaped (unq(), RFC 7616 §3.4); nc in hex */
	print_ok(&out, "Digest realm=\"r\\\"x\", nonce=\"n\", qop=auth", false, "INVITE", "sip:x",
		 "a\"b", "pw", 26, "cn");
	assert_line(&out,
		    "Authorization: Digest username=\"a\\\"b\", realm=\"r\\\"x\", nonce=\"n\", "
		    "uri=\"sip:x\", response=\"3c0138c3f422c215f124b0e4553413f7\", "
		    "cnonce=\"cn\", qop=auth, nc=0000001a\r\n");
	buf_fini(&out);
}

/* Without a cnonce a fresh random one is used, and the line still parses
 * back as the challenge's parameters (same syntax, RFC 7616 §3.4). */
static void test_random_cnonce_and_round_trip(void **state)
{
	struct buf a, b;
	struct sip_auth_challenge ch, back;
	buf_init(&a);
	buf_init(&b);
	static const char challenge[] =
	    "Digest realm=\"r\", nonce=\"n\", qop=auth, algorithm=SHA-256, opaque=\"o\"";
	print_ok(&a, challenge, false, "INVITE", "sip:x@y", "u", "p", 1, NULL);
	print_ok(&b, challenge, false, "INVITE", "sip:x@y", "u", "p", 1, NULL);
	assert_true(a.len == b.len && memcmp(a.p, b.p, a.len) != 0);

	const char *v = strstr(a.p, "Digest ");
	assert_non_null(v);
	assert_int_equal(
	    sip_auth_challenge_parse(&back, str_make(v, a.len - 2 - (size_t)(v - a.p))), 0);
	assert_int_equal(sip_auth_challenge_parse(&ch, STR(challenge)), 0);
	assert_true(str_eq(back.realm, ch.realm) && str_eq(back.nonce, ch.nonce) &&
		    str_eq(back.opaque, ch.opaque));
	assert_int_equal(back.algorithm, SIP_AUTH_SHA256);
	assert_true(back.qop_auth);
	const char *cn = strstr(a.p, "cnonce=\"");
	assert_non_null(cn);
	cn += 8;
	size_t n = strspn(cn, "0123456789abcdef");
	assert_int_equal(n, 32);
	assert_int_equal(cn[n], '"');
	buf_fini(&a);
	buf_fini(&b);
}

static void test_print_refusals(void **state)
{
	struct sip_auth_challenge ch;
	struct buf out;
	buf_init(&out);
	buf_append_cstr(&out, "kept");
	assert_int_equal(sip_auth_challenge_parse(&ch, STR("Digest realm=\"r\", nonce=\"n\"")), 0);
	struct str uri = STR("sip:x");

	assert_int_equal(
	    sip_auth_credentials_print(&out, &ch, false, "INVITE", uri, NULL, "p", 1, NULL),
	    -EINVAL);
	assert_int_equal(sip_auth_credentials_print(&out, &ch, false, NULL, uri, "u", "p", 1, NULL),
			 -EINVAL);
	assert_int_equal(
	    sip_auth_credentials_print(&out, &ch, false, "INVITE", uri, "u", "p", 0, NULL),
	    -EINVAL);
	assert_int_equal(
	    sip_auth_credentials_print(&out, &ch, false, "INVITE", uri, "u\r\nX: y", "p", 1, NULL),
	    -EINVAL);
	assert_int_equal(sip_auth_credentials_print(&out, &ch, false, "INVITE",
						    STR("sip:x\r\nX: y"), "u", "p", 1, NULL),
			 -EINVAL);
	assert_int_equal(
	    sip_auth_credentials_print(&out, &ch, false, "INVITE", uri, "u", "p", 1, "a\nb"),
	    -EINVAL);
	assert_int_equal(
	    sip_auth_credentials_print(NULL, &ch, false, "INVITE", uri, "u", "p", 1, NULL),
	    -EINVAL);
	assert_int_equal(
	    sip_auth_credentials_print(&out, NULL, false, "INVITE", uri, "u", "p", 1, NULL),
	    -EINVAL);
	assert_int_equal(out.len, 4);
	assert_string_equal(out.p, "kept");

	/* a NULL password is the empty one; the line is appended after what was there */
	assert_int_equal(
	    sip_auth_credentials_print(&out, &ch, false, "OPTIONS", uri, "u", NULL, 1, NULL), 0);
	assert_true(strncmp(out.p, "keptAuthorization: Digest username=\"u\"", 38) == 0);
	buf_fini(&out);
}

/* ---- picking from a response -------------------------------------------------- */

static struct sip_msg *response(uint16_t status, const char *headers)
{
	char text[4096];
	struct sip_msg *m = NULL;
	int n = snprintf(text, sizeof(text),
			 "SIP/2.0 %u Unauthorized\r\n"
			 "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK776asdhds\r\n"
			 "From: <sip:a@127.0.0.1>;tag=1\r\n"
			 "To: <sip:b@127.0.0.1>;tag=2\r\n"
			 "Call-ID: c1\r\n"
			 "CSeq: 1 INVITE\r\n"
			 "%s"
			 "Content-Length: 0\r\n\r\n",
			 status, headers);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	assert_int_equal(sip_msg_parse(&m, text, (size_t)n), 0);
	return m;
}

static void test_pick_prefers_sha256(void **state)
{
	struct sip_auth_challenge ch;
	struct sip_msg *m = response(401, "WWW-Authenticate: Digest realm=\"r\", nonce=\"md5\", "
					  "algorithm=MD5, qop=\"auth\"\r\n"
					  "WWW-Authenticate: Digest realm=\"r\", nonce=\"sha\", "
					  "algorithm=SHA-256, qop=\"auth\"\r\n"
					  "WWW-Authenticate: Digest realm=\"r\", nonce=\"sha2\", "
					  "algorithm=SHA-256\r\n");
	assert_int_equal(sip_auth_challenge_pick(&ch, m), 0);
	assert_slice(ch.nonce, "sha", "nonce", "two headers");
	assert_int_equal(ch.algorithm, SIP_AUTH_SHA256);
	sip_msg_unref(m);

	/* the same in one value, after a scheme irisx does not answer */
	m = response(401,
		     "WWW-Authenticate: Basic realm=\"x\", Digest realm=\"r\", nonce=\"md5\", "
		     "Digest realm=\"r\", nonce=\"sha\", algorithm=SHA-256-sess, qop=auth\r\n");
	assert_int_equal(sip_auth_challenge_pick(&ch, m), 0);
	assert_slice(ch.nonce, "sha", "nonce", "one value");
	assert_int_equal(ch.algorithm, SIP_AUTH_SHA256_SESS);
	sip_msg_unref(m);

	/* MD5 first when it is all there is; unusable ones are passed over */
	m = response(401,
		     "WWW-Authenticate: Digest realm=\"r\", nonce=\"bad\", qop=\"auth-int\"\r\n"
		     "WWW-Authenticate: Digest realm=\"r\", nonce=\"unterminated\r\n"
		     "WWW-Authenticate: Digest realm=\"r\", nonce=\"ok1\"\r\n"
		     "WWW-Authenticate: Digest realm=\"r\", nonce=\"ok2\"\r\n");
	assert_int_equal(sip_auth_challenge_pick(&ch, m), 0);
	assert_slice(ch.nonce, "ok1", "nonce", "skipping");
	sip_msg_unref(m);
}

static void test_pick_proxy(void **state)
{
	struct sip_auth_challenge ch;
	struct buf out;
	buf_init(&out);

	struct sip_msg *m = response(407, "Proxy-Authenticate: Digest realm=\"proxy\", "
					  "nonce=\"p1\"\r\n"
					  "WWW-Authenticate: Digest realm=\"www\", nonce=\"w1\", "
					  "algorithm=SHA-256\r\n");
	assert_int_equal(sip_auth_challenge_pick(&ch, m), 0);
	assert_slice(ch.realm, "proxy", "realm", "407");
	assert_int_equal(sip_auth_credentials_print(&out, &ch, m->status == 407, "INVITE",
						    STR("sip:b@127.0.0.1"), "u", "p", 1, NULL),
			 0);
	assert_true(strncmp(out.p, "Proxy-Authorization: Digest ", 28) == 0);
	sip_msg_unref(m);

	/* a 401 reads WWW-Authenticate only */
	m = response(401, "Proxy-Authenticate: Digest realm=\"proxy\", nonce=\"p1\"\r\n");
	assert_int_equal(sip_auth_challenge_pick(&ch, m), -ENOENT);
	sip_msg_unref(m);
	buf_fini(&out);
}

static void test_pick_nothing_usable(void **state)
{
	static const char *const headers[] = {
	    "",
	    "WWW-Authenticate: Basic realm=\"x\"\r\n",
	    "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"\r\n",
	    "WWW-Authenticate: Digest realm=\"r\"\r\n",
	    "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256\r\n",
	    "WWW-Authenticate: %%% garbage ===\r\n",
	    "WWW-Authenticate: Digest realm=\"r\" nonce=\"n\"\r\n",
	};
	struct sip_auth_challenge ch;
	for (size_t i = 0; i < ARRAY_LEN(headers); i++) {
		struct sip_msg *m = response(401, headers[i]);
		if (sip_auth_challenge_pick(&ch, m) != -ENOENT)
			fail_msg("%s: not -ENOENT", headers[i]);
		sip_msg_unref(m);
	}
	struct sip_msg *m = response(403, "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n");
	assert_int_equal(sip_auth_challenge_pick(&ch, m), -EINVAL);
	assert_int_equal(sip_auth_challenge_pick(NULL, m), -EINVAL);
	assert_int_equal(sip_auth_challenge_pick(&ch, NULL), -EINVAL);
	sip_msg_unref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_vectors),
	    cmocka_unit_test(test_parse_arguments),
	    cmocka_unit_test(test_rfc7616_examples),
	    cmocka_unit_test(test_rfc2617_rfc2069_examples),
	    cmocka_unit_test(test_sip_answers),
	    cmocka_unit_test(test_random_cnonce_and_round_trip),
	    cmocka_unit_test(test_print_refusals),
	    cmocka_unit_test(test_pick_prefers_sha256),
	    cmocka_unit_test(test_pick_proxy),
	    cmocka_unit_test(test_pick_nothing_usable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
