/*
 * event_socket.conf's <settings> for the Event Socket, and the password
 * kept in <state_dir>/esl_password when none is configured: irisx never
 * listens with a well-known default (FreeSWITCH's ClueCon is refused unless
 * allow-default-password says otherwise). secret_load()
 * (control_secret.c) keeps that file.
 */
#define LOG_MODULE "esl"
#include "config/config.h"
#include "control/control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* What the walk over <settings> fills in; the password's node is kept for
 * the ClueCon check, which can only run once allow-default-password (which
 * may come later) has been read. */
struct param_ctx {
	struct esl_settings *s;
	const struct config *cfg;
	const struct config_node *pw_node;
	bool allow_default;
	char *err;
	size_t err_size;
};

static int param(void *arg, const struct config_node *p, const char *name, const char *value)
{
	struct param_ctx *ctx = arg;
	struct esl_settings *s = ctx->s;
	if (strcasecmp(name, "listen-ip") == 0) {
		snprintf(s->listen_ip, sizeof(s->listen_ip), "%s", value);
	} else if (strcasecmp(name, "listen-port") == 0) {
		uint32_t port;
		if (str_to_u32(str_from_cstr(value), &port) != 0 || port == 0 || port > 65535) {
			snprintf(ctx->err, ctx->err_size, "%s:%u: bad listen-port '%s'", p->file,
				 p->line, value);
			return -EINVAL;
		}
		s->listen_port = (uint16_t)port;
	} else if (strcasecmp(name, "password") == 0) {
		snprintf(s->password, sizeof(s->password), "%s", value);
		ctx->pw_node = p;
	} else if (strcasecmp(name, "apply-inbound-acl") == 0) {
		if (ctx->cfg && !acl_name_valid(ctx->cfg->acls, value)) {
			snprintf(ctx->err, ctx->err_size, "%s:%u: unknown ACL '%s'", p->file,
				 p->line, value);
			return -EINVAL;
		}
		snprintf(s->inbound_acl, sizeof(s->inbound_acl), "%s", value);
	} else if (strcasecmp(name, "allow-default-password") == 0) {
		ctx->allow_default = config_is_true(value);
	} else if (strcasecmp(name, "event-queue-size") == 0) {
		uint32_t n;
		if (str_to_u32(str_from_cstr(value), &n) == 0 && n > 0)
			s->queue_max = n;
	}
	return 0;
}

int esl_settings_load(struct esl_settings *out, const struct config *cfg, const char *state_dir,
		      char *err, size_t err_size)
{
	struct esl_settings s = {
	    .listen_ip = "127.0.0.1", .listen_port = 8021, .queue_max = ESL_QUEUE_MAX_DEFAULT};
	if (cfg)
		s.acls = cfg->acls;
	struct param_ctx ctx = {.s = &s, .cfg = cfg, .err = err, .err_size = err_size};
	int e = config_settings_each(cfg, "event_socket.conf", param, &ctx);
	if (e)
		return e;
	if (ctx.pw_node && strcmp(s.password, "ClueCon") == 0 && !ctx.allow_default) {
		snprintf(err, err_size,
			 "%s:%u: the well-known password ClueCon is refused; choose another or "
			 "set allow-default-password to true",
			 ctx.pw_node->file, ctx.pw_node->line);
		return -EINVAL;
	}
	if (!s.password[0]) {
		e = secret_load(state_dir, "esl_password", "event socket password", 16, s.password,
				sizeof(s.password), err, err_size);
		if (e)
			return e;
	}
	*out = s;
	return 0;
}
