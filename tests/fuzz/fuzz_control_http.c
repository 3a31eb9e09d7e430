/*
 * libFuzzer target for the HTTP API's request -> command path, without
 * sockets: the input is "METHOD TARGET\n" (TARGET with its ?query), header
 * lines up to an empty line, then the body. It is built into a request as
 * MHD would hand it over, authenticated (unless the first byte is '!'),
 * rate limited, routed and run by the REST handlers against a real core
 * (no SIP listener started); the loop then runs once so that what the
 * handlers started (an originate) goes on.
 *
 * Invariants (abort when broken):
 *  - every request is answered exactly once, with a status in 200..599,
 *    synchronously or (api originate) within a few loop turns;
 *  - an answer with a body is JSON whose object has "error" and "detail"
 *    strings when the status is 400 or more.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "config/config.h"
#include "control/http_int.h"
#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TOKEN "fuzz-token-0123456789"

static uv_loop_t loop;
static struct core *core;
static struct http *http;
static int answers;

static void check_answer(void *arg, struct http_req *req)
{
	answers++;
	if (req->status < 200 || req->status > 599)
		abort();
	if (req->reply_len == 0 || req->stage != HTTP_STAGE_REPLIED)
		return;
	if (req->reply_type && strcmp(req->reply_type, "application/json") != 0)
		return;
	json_t *doc = json_loadb(req->reply_body, req->reply_len, 0, NULL);
	if (!doc)
		abort();
	if (req->status >= 400 && (!json_is_string(json_object_get(doc, "error")) ||
				   !json_is_string(json_object_get(doc, "detail"))))
		abort();
	json_decref(doc);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	char dir[] = "/tmp/irisx-fuzz-http-XXXXXX", err[512], sub[600];
	if (!mkdtemp(dir))
		abort();
	write_file(dir, "freeswitch.xml",
		   "<?xml version=\"1.0\"?>\n<document type=\"freeswitch/xml\">\n"
		   "<X-PRE-PROCESS cmd=\"include\" data=\"vars.xml\"/>\n"
		   "<section name=\"configuration\"/>\n</document>\n");
	write_file(dir, "vars.xml", "<include/>\n");
	struct config *cfg = NULL;
	log_set_level(LOG_ERR);
	if (config_load(&cfg, dir, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	snprintf(sub, sizeof(sub), "%s/freeswitch.xml", dir);
	unlink(sub);
	snprintf(sub, sizeof(sub), "%s/vars.xml", dir);
	unlink(sub);
	rmdir(dir);
	uv_loop_init(&loop);
	if (core_create(&core, &loop, cfg) != 0)
		abort();
	struct http_settings s = {.listen_ip = "127.0.0.1", .max_body = 65536, .enabled = true};
	snprintf(s.tokens[0], sizeof(s.tokens[0]), "%s", TOKEN);
	s.token_count = 1;
	if (http__create_detached(&http, &loop, core, NULL, &s, check_answer, NULL) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!http)
		setup();
	const char *p = (const char *)data;
	const char *nl = memchr(p, '\n', size);
	if (!nl || nl == p)
		return 0;
	bool anonymous = p[0] == '!';
	char line[2048];
	size_t line_len = (size_t)(nl - p) - anonymous;
	if (line_len >= sizeof(line) || memchr(p, '\0', (size_t)(nl - p)))
		return 0;
	memcpy(line, p + anonymous, line_len);
	line[line_len] = '\0';
	char *sp = strchr(line, ' ');
	if (!sp)
		return 0;
	*sp = '\0';
	/* Headers: lines up to an empty one; the rest is the body. */
	const char *h = nl + 1, *end = p + size;
	const char *blank = h;
	while (blank < end) {
		const char *e = memchr(blank, '\n', (size_t)(end - blank));
		if (!e) {
			blank = end;
			break;
		}
		if (e == blank) {
			break;
		}
		blank = e + 1;
	}
	struct buf headers;
	buf_init(&headers);
	if (!anonymous)
		buf_append_cstr(&headers, "Authorization: Bearer " TOKEN "\n");
	buf_append(&headers, h, (size_t)(blank - h));
	if (memchr(headers.p, '\0', headers.len)) {
		buf_fini(&headers);
		return 0;
	}
	const char *body = blank < end ? blank + 1 : end;
	struct http_req *req = http__req_new(http, line, sp + 1, headers.p, body,
					     (size_t)(end - body));
	buf_fini(&headers);
	if (!req)
		return 0;
	int before = answers;
	http__dispatch(http, req);
	/* An asynchronous command (api originate) answers once its calls fail:
	 * no profile runs here, so within a few loop turns. */
	for (int i = 0; i < 1000 && answers == before; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	if (answers != before + 1)
		abort();
	uv_run(&loop, UV_RUN_NOWAIT);
	return 0;
}
