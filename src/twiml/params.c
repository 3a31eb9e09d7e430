/*
 * The parameters of a TwiML request (CallSid, From, Digits, …), their
 * application/x-www-form-urlencoded form, and Twilio's request signature
 * (X-Twilio-Signature): base64 of HMAC-SHA1 keyed with the auth token over
 * the URL followed by every POST parameter, sorted by name, as name and
 * value run together. A GET request signs its full URL alone.
 */
#include "twiml_int.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

void twiml_params_init(struct twiml_params *ps)
{
	memset(ps, 0, sizeof(*ps));
	arena_init(&ps->arena, 1024);
}

void twiml_params_fini(struct twiml_params *ps)
{
	arena_fini(&ps->arena);
	ps->count = 0;
}

int twiml_params_set(struct twiml_params *ps, const char *name, const char *value)
{
	if (!ps || !name || !name[0] || !value)
		return -EINVAL;
	for (size_t i = 0; i < ps->count; i++) {
		if (strcmp(ps->p[i].name, name) != 0)
			continue;
		char *v = arena_strdup(&ps->arena, value);
		if (!v)
			return -ENOMEM;
		ps->p[i].value = v;
		return 0;
	}
	if (ps->count == TWIML_PARAMS_MAX)
		return -ENOSPC;
	char *n = arena_strdup(&ps->arena, name);
	char *v = arena_strdup(&ps->arena, value);
	if (!n || !v)
		return -ENOMEM;
	ps->p[ps->count].name = n;
	ps->p[ps->count].value = v;
	ps->count++;
	return 0;
}

const char *twiml_params_get(const struct twiml_params *ps, const char *name)
{
	if (!ps || !name)
		return NULL;
	for (size_t i = 0; i < ps->count; i++)
		if (strcmp(ps->p[i].name, name) == 0)
			return ps->p[i].value;
	return NULL;
}

static bool unreserved(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

static void encode_component(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (unreserved(*p)) {
			buf_append(out, p, 1);
		} else {
			char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			buf_append(out, esc, 3);
		}
	}
}

void twiml_params_encode(const struct twiml_params *ps, struct buf *out)
{
	for (size_t i = 0; i < ps->count; i++) {
		if (i)
			buf_append(out, "&", 1);
		encode_component(out, ps->p[i].name);
		buf_append(out, "=", 1);
		encode_component(out, ps->p[i].value);
	}
}

/* Indices of the parameters in byte order of their names (names are
 * unique: set replaces), by insertion sort: there are at most 48. */
static void sort_by_name(const struct twiml_params *ps, size_t order[])
{
	for (size_t i = 0; i < ps->count; i++) {
		size_t j = i;
		while (j > 0 && strcmp(ps->p[order[j - 1]].name, ps->p[i].name) > 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
}

int twiml_signature(const char *token, const char *url, const struct twiml_params *ps, char out[29])
{
	size_t order[TWIML_PARAMS_MAX];
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	struct buf data;

	if (!token || !token[0] || !url || !out)
		return -EINVAL;
	buf_init(&data);
	buf_append_cstr(&data, url);
	if (ps) {
		sort_by_name(ps, order);
		for (size_t i = 0; i < ps->count; i++) {
			buf_append_cstr(&data, ps->p[order[i]].name);
			buf_append_cstr(&data, ps->p[order[i]].value);
		}
	}
	if (data.failed) {
		buf_fini(&data);
		return -ENOMEM;
	}
	const unsigned char *ok = HMAC(EVP_sha1(), token, (int)strlen(token),
				       (const unsigned char *)data.p, data.len, mac, &mac_len);
	buf_fini(&data);
	if (!ok || mac_len != 20)
		return -EINVAL;
	/* 20 bytes are 28 base64 characters; EVP_EncodeBlock adds the NUL. */
	EVP_EncodeBlock((unsigned char *)out, mac, (int)mac_len);
	return 0;
}
