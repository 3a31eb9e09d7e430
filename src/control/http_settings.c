/*
 * http.conf's <settings> for the HTTP API: the listening address, the
 * Bearer tokens (kept in <state_dir>/http_token when none is configured, as
 * the Event Socket keeps its password), CORS, the body cap and the rate limit.
 */
#define LOG_MODULE "http"
#include "config/config.h"
#include "control/control.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int bad(const struct config_node *p, char *err, size_t err_size, const char *what,
	       const char *value)
{
	snprintf(err, err_size, "%s:%u: bad %s '%s'", p->file, p->line, what, value);
	return -EINVAL;
}

struct param_ctx {
	struct http_settings *s;
	char *err;
	size_t err_size;
};

static int param(void *arg, const struct config_node *p, const char *name, const char *value)
{
	struct param_ctx *ctx = arg;
	struct http_settings *s = ctx->s;
	char *err = ctx->err;
	size_t err_size = ctx->err_size;
	uint32_t n;
	if (strcasecmp(name, "listen-ip") == 0) {
		if (strlen(value) >= sizeof(s->listen_ip))
			return bad(p, err, err_size, "listen-ip", value);
		snprintf(s->listen_ip, sizeof(s->listen_ip), "%s", value);
	} else if (strcasecmp(name, "listen-port") == 0) {
		if (str_to_u32(str_from_cstr(value), &n) != 0 || n > 65535)
			return bad(p, err, err_size, "listen-port", value);
		s->listen_port = (uint16_t)n;
	} else if (strcasecmp(name, "api-token") == 0) {
		/* A token is sent in a header: printable ASCII without blanks. */
		size_t len = strlen(value);
		if (len < 16 || len >= sizeof(s->tokens[0]))
			return bad(p, err, err_size, "api-token (16 to 127 characters)", "…");
		for (size_t i = 0; i < len; i++)
			if (value[i] <= ' ' || value[i] > '~')
				return bad(p, err, err_size, "api-token (no blanks)", "…");
		if (s->token_count == HTTP_TOKENS_MAX) {
			snprintf(err, err_size, "%s:%u: more than %d api-token", p->file, p->line,
				 HTTP_TOKENS_MAX);
			return -EINVAL;
		}
		snprintf(s->tokens[s->token_count++], sizeof(s->tokens[0]), "%s", value);
	} else if (strcasecmp(name, "cors-origin") == 0) {
		if (strlen(value) >= sizeof(s->cors_origin) || strpbrk(value, "\r\n"))
			return bad(p, err, err_size, "cors-origin", value);
		snprintf(s->cors_origin, sizeof(s->cors_origin), "%s", value);
	} else if (strcasecmp(name, "max-body") == 0) {
		if (str_to_u32(str_from_cstr(value), &n) != 0 || n == 0 || n > 64 * 1024 * 1024)
			return bad(p, err, err_size, "max-body", value);
		s->max_body = n;
	} else if (strcasecmp(name, "rate-limit") == 0) {
		if (str_to_u32(str_from_cstr(value), &n) != 0)
			return bad(p, err, err_size, "rate-limit", value);
		s->rate = n;
	} else if (strcasecmp(name, "rate-burst") == 0) {
		if (str_to_u32(str_from_cstr(value), &n) != 0 || n == 0)
			return bad(p, err, err_size, "rate-burst", value);
		s->burst = n;
	} else if (strcasecmp(name, "enabled") == 0) {
		s->enabled = config_is_true(value);
	} else if (strncasecmp(name, "status-callback", 15) == 0) {
		/* The call status webhooks' (webhook_settings_load). */
	} else {
		log_warn("%s:%u: unknown http.conf param '%s'", p->file, p->line, name);
	}
	return 0;
}

int http_settings_load(struct http_settings *out, const struct config *cfg, const char *state_dir,
		       char *err, size_t err_size)
{
	struct http_settings s = {.listen_ip = "127.0.0.1",
				  .listen_port = 8080,
				  .max_body = HTTP_MAX_BODY_DEFAULT,
				  .rate = HTTP_RATE_DEFAULT,
				  .burst = HTTP_BURST_DEFAULT,
				  .enabled = true};
	struct param_ctx ctx = {&s, err, err_size};
	int e = config_settings_each(cfg, "http.conf", param, &ctx);
	if (e)
		return e;
	if (s.burst < s.rate && s.burst == HTTP_BURST_DEFAULT)
		s.burst = s.rate * 2;
	if (s.token_count == 0 && s.enabled) {
		e = secret_load(state_dir, "http_token", "HTTP API token", 24, s.tokens[0],
				sizeof(s.tokens[0]), err, err_size);
		if (e)
			return e;
		s.token_count = 1;
	}
	*out = s;
	return 0;
}
