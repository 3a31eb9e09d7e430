/*
 * Fuzz target: hunting with caller-controlled values. A fixed dialplan
 * (captures, inline set feeding a later expression, regex any/xor with many
 * groups, nested conditions, a backtracking-prone pattern, time of day) is
 * hunted with destination_number, caller_id_number, caller_id_name and x
 * taken from the input's lines, and every action's data is expanded as the
 * executor would.
 *
 * Checks: hunting only ever routes or finds no route, and every action of a
 * route names an application and expands within DIALPLAN_EXPAND_MAX.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dialplan/dialplan.h"

static const char dialplan_xml[] =
    "<include><context name=\"default\">\n"
    "<extension name=\"area\" continue=\"true\">\n"
    " <condition field=\"destination_number\" expression=\"^(\\d{3})(\\d*)$\">\n"
    "  <action application=\"set\" data=\"area=$1\" inline=\"true\"/>\n"
    "  <anti-action application=\"set\" data=\"area=none\" inline=\"true\"/>\n"
    " </condition>\n"
    "</extension>\n"
    "<extension name=\"expr\" continue=\"true\">\n"
    " <condition field=\"caller_id_number\" expression=\"^${area}(.*)$\">\n"
    "  <action application=\"log\" data=\"rest $1 of ${caller_id_number:1:4}\"/>\n"
    " </condition>\n"
    "</extension>\n"
    "<extension name=\"many\" continue=\"true\">\n"
    " <condition regex=\"any\">\n"
    "  <regex field=\"caller_id_name\" expression=\"/^(a|b)+c$/i\"/>\n"
    "  <regex field=\"${x}\" expression=\"^(.)(.)?(.)?(.)?(.)?(.)?(.)?(.)?(.)?(.)?(.)?(.)?\"/>\n"
    "  <action application=\"log\" data=\"$0 $1 $2 $9 $10 $11 ${x_$1}\"/>\n"
    " </condition>\n"
    " <condition regex=\"xor\" break=\"never\">\n"
    "  <regex field=\"destination_number\" expression=\"9\"/>\n"
    "  <regex field=\"caller_id_name\" expression=\"9\"/>\n"
    "  <action application=\"export\" data=\"nolocal:k=$0\"/>\n"
    " </condition>\n"
    "</extension>\n"
    "<extension name=\"nested\">\n"
    " <condition field=\"destination_number\" expression=\"^9\" break=\"never\">\n"
    "  <action application=\"set\" data=\"d=$0\"/>\n"
    "  <condition field=\"caller_id_name\" expression=\"^(x+x+)+y$\">\n"
    "   <action application=\"log\" data=\"slow ${d}\"/>\n"
    "   <anti-action application=\"log\" data=\"not slow\"/>\n"
    "  </condition>\n"
    " </condition>\n"
    " <condition wday=\"mon-fri\" time-of-day=\"09:00-17:00\">\n"
    "  <action application=\"log\" data=\"open\"/>\n"
    "  <anti-action application=\"hangup\" data=\"USER_BUSY\"/>\n"
    " </condition>\n"
    "</extension>\n"
    "</context></include>\n";

enum { VARS_MAX = 16 };

struct vars {
	char *name[VARS_MAX], *value[VARS_MAX];
	size_t count;
};

static const char *get(void *arg, const char *name)
{
	struct vars *v = arg;
	for (size_t i = 0; i < v->count; i++)
		if (strcmp(v->name[i], name) == 0)
			return v->value[i];
	return NULL;
}

static int set(void *arg, const char *name, const char *value)
{
	struct vars *v = arg;
	size_t i = 0;
	while (i < v->count && strcmp(v->name[i], name) != 0)
		i++;
	if (i == v->count) {
		if (!value)
			return 0;
		if (v->count == VARS_MAX)
			return -1;
		v->name[v->count++] = strdup(name);
	}
	free(v->value[i]);
	v->value[i] = value ? strdup(value) : strdup("");
	return 0;
}

static struct dialplan_xml *load(void)
{
	char dir[] = "/tmp/irisx-fuzz-dialplan-XXXXXX", path[128], err[512];
	struct config *cfg;
	struct dialplan_xml *x;
	FILE *f;

	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/freeswitch.xml", dir);
	if (!(f = fopen(path, "w")))
		abort();
	fprintf(f, "<document type=\"freeswitch/xml\"><section name=\"dialplan\">"
		   "<X-PRE-PROCESS cmd=\"include\" data=\"dp.xml\"/></section></document>\n");
	fclose(f);
	snprintf(path, sizeof(path), "%s/dp.xml", dir);
	if (!(f = fopen(path, "w")))
		abort();
	fputs(dialplan_xml, f);
	fclose(f);
	if (config_load(&cfg, dir, NULL, err, sizeof(err)) != 0 ||
	    dialplan_xml_create(&x, cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	config_free(cfg);
	unlink(path);
	snprintf(path, sizeof(path), "%s/freeswitch.xml", dir);
	unlink(path);
	rmdir(dir);
	return x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dialplan_xml *x;
	static const char *const fields[] = {"destination_number", "caller_id_number",
					     "caller_id_name", "x"};
	struct vars v = {.count = 0};
	struct dialplan_route *r = NULL;

	if (!x) {
		log_set_level(LOG_ERR); /* match-limit warnings are expected here */
		x = load();
	}
	size_t at = 0;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const uint8_t *nl = at < size ? memchr(data + at, '\n', size - at) : NULL;
		size_t end = nl ? (size_t)(nl - data) : size;
		char *value = strndup((const char *)data + at, end > at ? end - at : 0);
		if (!value)
			abort();
		set(&v, fields[i], value);
		free(value);
		at = end + 1;
	}
	struct dialplan_vars dv = {.get_cb = get, .set_cb = set, .arg = &v};
	struct dialplan_hunt in = {.vars = &dv, .now = (time_t)1718447415 + (size % 7) * 86400};
	int rc = dialplan_xml_hunt(x, &in, &r);
	if (rc != 0 && rc != -ENOENT)
		abort();
	for (size_t i = 0; r && i < r->count; i++) {
		struct buf out;
		if (!r->actions[i].app || !r->actions[i].data)
			abort();
		buf_init(&out);
		rc = dialplan_expand(str_from_cstr(r->actions[i].data), r->actions[i].captures, &dv,
				     &out);
		if ((rc != 0 && rc != -E2BIG) || out.len > DIALPLAN_EXPAND_MAX)
			abort();
		buf_fini(&out);
	}
	dialplan_route_destroy(r);
	for (size_t i = 0; i < v.count; i++) {
		free(v.name[i]);
		free(v.value[i]);
	}
	return 0;
}
