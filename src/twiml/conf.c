/*
 * twiml.conf's <settings>: the signing key (kept in
 * <state_dir>/twiml_auth_token when none is configured, as the Event
 * Socket keeps its password), the AccountSid, request limits, the fallback
 * and where <Dial>, <Record> and <Play> take their calls and files.
 */
#define LOG_MODULE "twiml"
#include "config/config.h"
#include "twiml_int.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int bad(const struct config_node *p, char *err, size_t err_size, const char *what,
	       const char *value)
{
	snprintf(err, err_size, "%s:%u: bad %s '%s'", p->file, p->line, what, value);
	return -EINVAL;
}

/* Copies value into a field; a value that does not fit is an error. */
static int copy(const struct config_node *p, char *dst, size_t size, const char *name,
		const char *value, char *err, size_t err_size)
{
	if (strlen(value) >= size || strpbrk(value, "\r\n"))
		return bad(p, err, err_size, name, value);
	memcpy(dst, value, strlen(value) + 1);
	return 0;
}

static bool http_url(const char *v)
{
	return strncasecmp(v, "http://", 7) == 0 || strncasecmp(v, "https://", 8) == 0;
}

struct param_ctx {
	struct twiml_settings *s;
	char *err;
	size_t err_size;
};

static int param(void *arg, const struct config_node *p, const char *name, const char *value)
{
	struct param_ctx *ctx = arg;
	struct twiml_settings *s = ctx->s;
	char *err = ctx->err;
	size_t err_size = ctx->err_size;
	uint32_t n;
	if (strcasecmp(name, "auth-token") == 0) {
		size_t len = strlen(value);
		if (len < 16)
			return bad(p, err, err_size, "auth-token (16 characters at least)", "…");
		return copy(p, s->auth_token, sizeof(s->auth_token), name, value, err, err_size);
	}
	if (strcasecmp(name, "account-sid") == 0)
		return copy(p, s->account_sid, sizeof(s->account_sid), name, value, err, err_size);
	if (strcasecmp(name, "timeout-ms") == 0) {
		if (str_to_u32(str_from_cstr(value), &n) != 0 || n < 100 || n > 60000)
			return bad(p, err, err_size, "timeout-ms (100 to 60000)", value);
		s->timeout_ms = n;
		return 0;
	}
	if (strcasecmp(name, "fallback-url") == 0) {
		if (*value && !http_url(value))
			return bad(p, err, err_size, "fallback-url (http or https)", value);
		return copy(p, s->fallback_url, sizeof(s->fallback_url), name, value, err,
			    err_size);
	}
	if (strcasecmp(name, "fallback-prompt") == 0)
		return copy(p, s->fallback_prompt, sizeof(s->fallback_prompt), name, value, err,
			    err_size);
	if (strcasecmp(name, "max-document-bytes") == 0) {
		if (str_to_u32(str_from_cstr(value), &n) != 0 || n < 256 || n > 16 * 1024 * 1024)
			return bad(p, err, err_size, "max-document-bytes (256 to 16777216)", value);
		s->max_document = n;
		return 0;
	}
	if (strcasecmp(name, "max-requests") == 0) {
		if (str_to_u32(str_from_cstr(value), &n) != 0 || n == 0 || n > 100000)
			return bad(p, err, err_size, "max-requests (1 to 100000)", value);
		s->max_requests = n;
		return 0;
	}
	if (strcasecmp(name, "recording-url-base") == 0)
		return copy(p, s->recording_url_base, sizeof(s->recording_url_base), name, value,
			    err, err_size);
	if (strcasecmp(name, "dial-gateway") == 0)
		return copy(p, s->dial_gateway, sizeof(s->dial_gateway), name, value, err,
			    err_size);
	if (strcasecmp(name, "dial-profile") == 0) {
		if (!*value)
			return bad(p, err, err_size, "dial-profile", value);
		return copy(p, s->dial_profile, sizeof(s->dial_profile), name, value, err,
			    err_size);
	}
	if (strcasecmp(name, "audio-cache-dir") == 0) {
		if (!*value)
			return bad(p, err, err_size, "audio-cache-dir", value);
		return copy(p, s->audio_cache_dir, sizeof(s->audio_cache_dir), name, value, err,
			    err_size);
	}
	log_warn("%s:%u: unknown twiml.conf param '%s'", p->file, p->line, name);
	return 0;
}

/* "AC" and 32 hex digits that stay the same for the same token: the start
 * of a SHA-256 of it, which tells nothing of the token itself. */
static void account_sid_derive(const char *token, char *out, size_t size)
{
	char salted[160];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	int n = snprintf(salted, sizeof(salted), "irisx account:%s", token);
	if (!EVP_Digest(salted, (size_t)n, md, &md_len, EVP_sha256(), NULL) || md_len < 16) {
		snprintf(out, size, "AC%032d", 0);
		return;
	}
	char hex[33];
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	snprintf(out, size, "AC%s", hex);
}

int twiml_settings_load(struct twiml_settings *out, const struct config *cfg, const char *state_dir,
			char *err, size_t err_size)
{
	struct twiml_settings s = {
	    .timeout_ms = 5000,
	    .max_document = 64 * 1024,
	    .max_requests = 100,
	    .dial_profile = "external",
	};
	snprintf(s.audio_cache_dir, sizeof(s.audio_cache_dir), "%s/cache/twiml",
		 state_dir ? state_dir : ".");
	struct param_ctx ctx = {&s, err, err_size};
	int e = config_settings_each(cfg, "twiml.conf", param, &ctx);
	if (e)
		return e;
	if (!s.auth_token[0]) {
		e = secret_load(state_dir, "twiml_auth_token", "TwiML signing key", 16,
				s.auth_token, sizeof(s.auth_token), err, err_size);
		if (e)
			return e;
	}
	if (!s.account_sid[0])
		account_sid_derive(s.auth_token, s.account_sid, sizeof(s.account_sid));
	*out = s;
	return 0;
}
