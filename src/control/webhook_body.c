/*
 * The pure side of call status webhooks: http.conf's status-callback-*
 * settings and the body of one callback, as a form
 * (application/x-www-form-urlencoded, WHATWG URL §5) or a JSON object
 * (RFC 8259). Nothing here touches a loop or a socket.
 */
#include "config/config.h"
#include "control/control.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const status_names[] = {"initiated", "ringing", "answered", "completed"};

const char *webhook_status_name(enum webhook_status s)
{
	return (unsigned)s < ARRAY_LEN(status_names) ? status_names[s] : "unknown";
}

int webhook_format_parse(const char *s, enum webhook_format *out)
{
	if (s && strcasecmp(s, "form") == 0)
		*out = WEBHOOK_FORM;
	else if (s && strcasecmp(s, "json") == 0)
		*out = WEBHOOK_JSON;
	else
		return -EINVAL;
	return 0;
}

static int param_u32(const struct config_node *p, const char *value, uint32_t min, uint32_t max,
		     uint32_t *out, char *err, size_t err_size)
{
	uint32_t n;
	if (str_to_u32(str_from_cstr(value), &n) != 0 || n < min || n > max) {
		snprintf(err, err_size, "%s:%u: bad %s '%s' (%u to %u)", p->file, p->line,
			 config_node_attr(p, "name"), value, min, max);
		return -EINVAL;
	}
	*out = n;
	return 0;
}

struct param_ctx {
	struct webhook_settings *s;
	char *err;
	size_t err_size;
};

/* One http.conf param; those not status-callback* are http_settings_load's. */
static int param(void *arg, const struct config_node *p, const char *name, const char *value)
{
	struct param_ctx *ctx = arg;
	struct webhook_settings *s = ctx->s;
	char *err = ctx->err;
	size_t err_size = ctx->err_size;
	if (strcasecmp(name, "status-callback") == 0) {
		if (value[0] && strncasecmp(value, "http://", 7) != 0 &&
		    strncasecmp(value, "https://", 8) != 0) {
			snprintf(err, err_size, "%s:%u: status-callback '%s' is not an http(s) URL",
				 p->file, p->line, value);
			return -EINVAL;
		}
		if (strlen(value) >= sizeof(s->url)) {
			snprintf(err, err_size, "%s:%u: status-callback too long", p->file,
				 p->line);
			return -EINVAL;
		}
		snprintf(s->url, sizeof(s->url), "%s", value);
	} else if (strcasecmp(name, "status-callback-method") == 0) {
		if (strcasecmp(value, "GET") != 0 && strcasecmp(value, "POST") != 0) {
			snprintf(err, err_size, "%s:%u: status-callback-method '%s' (GET or POST)",
				 p->file, p->line, value);
			return -EINVAL;
		}
		s->get = strcasecmp(value, "GET") == 0;
	} else if (strcasecmp(name, "status-callback-format") == 0) {
		if (webhook_format_parse(value, &s->format) != 0) {
			snprintf(err, err_size, "%s:%u: status-callback-format '%s' (form or json)",
				 p->file, p->line, value);
			return -EINVAL;
		}
	} else if (strcasecmp(name, "status-callback-tries") == 0) {
		return param_u32(p, value, 1, 10, &s->tries, err, err_size);
	} else if (strcasecmp(name, "status-callback-retry-ms") == 0) {
		return param_u32(p, value, 10, 600000, &s->retry_ms, err, err_size);
	} else if (strcasecmp(name, "status-callback-timeout-ms") == 0) {
		return param_u32(p, value, 100, 600000, &s->timeout_ms, err, err_size);
	} else if (strcasecmp(name, "status-callback-queue-max") == 0) {
		return param_u32(p, value, 1, 1000000, &s->queue_max, err, err_size);
	}
	return 0;
}

int webhook_settings_load(struct webhook_settings *out, const struct config *cfg, char *err,
			  size_t err_size)
{
	struct webhook_settings s = {.format = WEBHOOK_FORM,
				     .tries = 3,
				     .retry_ms = 1000,
				     .timeout_ms = 5000,
				     .queue_max = 1000};
	struct param_ctx ctx = {&s, err, err_size};
	int rc = config_settings_each(cfg, "http.conf", param, &ctx);
	if (rc)
		return rc;
	*out = s;
	return 0;
}

/* ---- bodies ---- */

static void form_value(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		unsigned char c = *p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '*') {
			buf_append(out, p, 1);
		} else if (c == ' ') {
			buf_append(out, "+", 1);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			buf_append(out, e, 3);
		}
	}
}

static void json_value(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	buf_append(out, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		unsigned char c = *p;
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			buf_append(out, e, 2);
		} else if (c < 0x20) {
			char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			buf_append(out, e, 6);
		} else {
			buf_append(out, p, 1);
		}
	}
	buf_append(out, "\"", 1);
}

/* One field: a string (str non-NULL) or a number. */
static void field(struct buf *out, enum webhook_format f, bool *first, const char *name,
		  const char *str, uint64_t num)
{
	if (f == WEBHOOK_FORM) {
		buf_printf(out, "%s%s=", *first ? "" : "&", name);
		if (str)
			form_value(out, str);
		else
			buf_printf(out, "%llu", (unsigned long long)num);
	} else {
		buf_printf(out, "%s\"%s\":", *first ? "{" : ",", name);
		if (str)
			json_value(out, str);
		else
			buf_printf(out, "%llu", (unsigned long long)num);
	}
	*first = false;
}

void webhook_report_print(const struct webhook_report *r, enum webhook_format f, struct buf *out)
{
	bool first = true;
	field(out, f, &first, "CallSid", r->uuid ? r->uuid : "", 0);
	field(out, f, &first, "CallStatus", webhook_status_name(r->status), 0);
	field(out, f, &first, "SequenceNumber", NULL, r->sequence);
	field(out, f, &first, "Direction", r->direction ? r->direction : "", 0);
	field(out, f, &first, "From", r->from ? r->from : "", 0);
	field(out, f, &first, "To", r->to ? r->to : "", 0);
	field(out, f, &first, "Timestamp", NULL, r->timestamp_us);
	if (r->status == WEBHOOK_COMPLETED) {
		field(out, f, &first, "CallDuration", NULL, r->duration_s);
		field(out, f, &first, "BillSec", NULL, r->billsec);
		field(out, f, &first, "HangupCause", r->hangup_cause ? r->hangup_cause : "", 0);
		field(out, f, &first, "HangupCauseCode", NULL, r->hangup_cause_q850);
	}
	if (f == WEBHOOK_JSON)
		buf_append(out, "}", 1);
}
