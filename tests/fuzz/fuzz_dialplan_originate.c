/*
 * libFuzzer target for the originate command's arguments
 * (dialplan/originate_args.c): they come from ESL api lines, i.e. from the
 * network.
 *
 * The input is "<args>\x01<url>\x01<cid_name>\x01<cid_num>". Besides "no
 * crash, no leak, no undefined behaviour", it aborts when an invariant
 * breaks: the splitter returns -1 or at most the words asked for, each a
 * NUL-terminated string inside the buffer without an unquoted blank (but
 * inside an &app(…)); and when <url> is a dial string that parses, the dial
 * string with the caller ID put into its {…} parses too and reads back
 * exactly the name and number given (unless the url sets them itself: its
 * own value wins, as a later variable does), or is refused for a ^^X
 * separator that would split the names.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/dialstring.h"
#include "dialplan/dialplan_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { WORDS = 7 };

static void check_split(const char *args)
{
	char buf[512], *argv[WORDS];
	int n = dialplan__originate_split(args, buf, sizeof(buf), argv, WORDS);
	if (n < -1 || n > WORDS)
		abort();
	for (int i = 0; i < n; i++) {
		if (argv[i] < buf || argv[i] >= buf + sizeof(buf))
			abort();
		size_t len = strnlen(argv[i], (size_t)(buf + sizeof(buf) - argv[i]));
		if (argv[i] + len >= buf + sizeof(buf))
			abort(); /* not terminated inside the buffer */
		if (len == 0 && !strchr(args, '\''))
			abort(); /* only '' makes an empty word */
	}
}

static void check_dial(const char *url, const char *name, const char *num)
{
	struct arena a;
	struct dial_string ds;
	struct buf b;
	arena_init(&a, 0);
	buf_init(&b);
	/* A url whose own block could not take three more variables proves nothing. */
	if (core__dial_parse(&ds, &a, url, NULL, 0) != 0 || ds.vars.count + 3 > DIAL_MAX_VARS)
		goto out;
	const char *own_name = core__dial_vars_get(&ds.vars, "origination_caller_id_name");
	const char *own_num = core__dial_vars_get(&ds.vars, "origination_caller_id_number");
	if (dialplan__originate_dial(&b, url, name, num, "30") != 0) {
		/* refused only for a separator that cannot take the names */
		if (strncmp(url, "{^^", 3) != 0 || !url[3] ||
		    !(isalnum((unsigned char)url[3]) || strchr("_=\\", url[3])))
			abort();
		goto out;
	}
	if (b.failed || b.len > DIAL_MAX_LEN)
		goto out;
	char err[256];
	int rc = core__dial_parse(&ds, &a, b.p, err, sizeof(err));
	if (rc == -ENOMEM)
		goto out;
	if (rc != 0)
		abort(); /* the escapes broke a dial string that parsed */
	const char *got_name = core__dial_vars_get(&ds.vars, "origination_caller_id_name");
	const char *got_num = core__dial_vars_get(&ds.vars, "origination_caller_id_number");
	const char *got_t = core__dial_vars_get(&ds.vars, "originate_timeout");
	if (!got_name || strcmp(got_name, own_name ? own_name : name) != 0)
		abort();
	if (!got_num || strcmp(got_num, own_num ? own_num : num) != 0)
		abort();
	if (!got_t)
		abort();
out:
	buf_fini(&b);
	arena_fini(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	char *part[4] = {text, NULL, NULL, NULL};
	for (int i = 1; i < 4; i++) {
		char *sep = part[i - 1] ? strchr(part[i - 1], '\x01') : NULL;
		if (!sep)
			break;
		*sep = '\0';
		part[i] = sep + 1;
	}
	check_split(part[0]);
	if (part[1] && part[2] && part[3])
		check_dial(part[1], part[2], part[3]);
	free(text);
	return 0;
}
