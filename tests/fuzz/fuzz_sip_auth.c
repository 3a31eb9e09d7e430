/*
 * libFuzzer target for digest challenges: the input is a WWW-Authenticate
 * value, parsed alone, then inside a 401 for sip_auth_challenge_pick, and
 * every challenge that parses is answered.
 *
 * Besides "no crash, no leak, no undefined behaviour", it aborts when an
 * invariant breaks:
 *  - parse fails only with -EINVAL or -ENOTSUP, and its slices lie inside
 *    the input;
 *  - an answer is one header line (a single CRLF, at its end) that parses
 *    back as a Digest parameter list with the challenge's realm, nonce and
 *    opaque (when the input had no folds, which the answer flattens);
 *  - a value whose first challenge parses gives pick a usable challenge.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip/sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(struct str s, const char *p, size_t size)
{
	if (s.len && (s.p < p || s.p + s.len > p + size))
		abort();
}

static void answer(const struct sip_auth_challenge *ch, bool proxy, bool folded)
{
	struct buf out;
	struct sip_auth_challenge back;

	buf_init(&out);
	if (sip_auth_credentials_print(&out, ch, proxy, "INVITE", STR("sip:fuzz@127.0.0.1"),
				       "u\"\\", "p", 1, "c") != 0)
		abort();
	const char *crlf = strstr(out.p, "\r\n");
	if (!crlf || (size_t)(crlf - out.p) != out.len - 2)
		abort();
	const char *v = strstr(out.p, "Digest ");
	if (!v)
		abort();
	if (sip_auth_challenge_parse(&back, str_make(v, (size_t)(crlf - v))) != 0)
		abort();
	if (!folded && (!str_eq(back.realm, ch->realm) || !str_eq(back.nonce, ch->nonce) ||
			back.has_opaque != ch->has_opaque || !str_eq(back.opaque, ch->opaque) ||
			back.qop_auth != ch->qop_auth || back.algorithm != ch->algorithm))
		abort();
	buf_fini(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct sip_auth_challenge ch;
	bool folded = memchr(data, '\r', size) != NULL;

	int first = sip_auth_challenge_parse(&ch, str_make(size ? text : "", size));
	if (first != 0 && first != -EINVAL && first != -ENOTSUP)
		abort();
	if (first == 0) {
		inside(ch.realm, text, size);
		inside(ch.nonce, text, size);
		inside(ch.opaque, text, size);
		answer(&ch, false, folded);
	}

	/* The same value as a header of a 401. */
	if (size > 4096 || memchr(data, '\n', size) || folded)
		return 0;
	char msg[4400];
	int n = snprintf(msg, sizeof(msg),
			 "SIP/2.0 401 Unauthorized\r\n"
			 "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKf\r\n"
			 "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>;tag=2\r\n"
			 "Call-ID: f\r\nCSeq: 1 REGISTER\r\n"
			 "WWW-Authenticate: %.*s\r\nContent-Length: 0\r\n\r\n",
			 (int)size, text);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return 0;
	struct sip_msg *m = NULL;
	if (sip_msg_parse(&m, msg, (size_t)n) != 0) {
		sip_msg_unref(m);
		return 0;
	}
	int picked = sip_auth_challenge_pick(&ch, m);
	if (picked != 0 && picked != -ENOENT)
		abort();
	if (picked == 0) {
		inside(ch.realm, m->data, m->len);
		inside(ch.nonce, m->data, m->len);
		answer(&ch, true, false);
	}
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_WWW_AUTHENTICATE);
	if (first == 0 && h && str_eq(h->value, str_trim(str_make(text, size))) && picked != 0)
		abort();
	sip_msg_unref(m);
	return 0;
}
