/*
 * The originate command's arguments, read as FreeSWITCH reads them (pure:
 * they come from ESL api lines, i.e. from the network, and are fuzzed):
 * splitting into words, and the caller ID and timeout put into the dial
 * string's {…} block with the escapes the dial string parser undoes.
 */
#include "dialplan_int.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

int dialplan__originate_split(const char *s, char *buf, size_t size, char **argv, int max)
{
	size_t o = 0;
	int n = 0;
	while (*s && n < max) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		argv[n++] = buf + o;
		bool app = *s == '&';
		int depth = 0;
		while (*s && (depth > 0 || (*s != ' ' && *s != '\t'))) {
			if (*s == '\'') {
				const char *end = strchr(s + 1, '\'');
				if (!end)
					return -1;
				for (s++; s < end; s++) {
					if (o + 1 >= size)
						return -1;
					buf[o++] = *s;
				}
				s++;
				continue;
			}
			if (app && *s == '(')
				depth++;
			else if (app && *s == ')' && depth > 0)
				depth--;
			if (o + 1 >= size)
				return -1;
			buf[o++] = *s++;
		}
		if (depth > 0)
			return -1;
		if (o + 1 >= size)
			return -1;
		buf[o++] = '\0';
	}
	return n;
}

/* Appends name=value to a dial string's {…} block, escaping what the block
 * syntax would read (sep is the block's separator). */
static void dial_var_add(struct buf *b, char sep, bool *first, const char *name, const char *value)
{
	if (!*first)
		buf_append(b, &sep, 1);
	*first = false;
	buf_printf(b, "%s=", name);
	for (const char *p = value; *p; p++) {
		if (*p == sep || *p == ',' || *p == '}' || *p == '\\' || *p == '\'' || *p == '"')
			buf_append(b, "\\", 1);
		buf_append(b, p, 1);
	}
}

int dialplan__originate_dial(struct buf *b, const char *url, const char *cid_name,
			     const char *cid_num, const char *timeout)
{
	if (!cid_name && !cid_num && !timeout) {
		buf_append_cstr(b, url);
		return 0;
	}
	char sep = ',';
	const char *rest = url;
	bool first = true;
	if (url[0] == '{' && url[1] == '^' && url[2] == '^' && url[3]) {
		/* A separator our names, '=' or the escape would contain cannot take
		 * them (FreeSWITCH's own variables would break the same way). */
		if (isalnum((unsigned char)url[3]) || strchr("_=\\", url[3]))
			return -EINVAL;
		sep = url[3];
		buf_printf(b, "{^^%c", sep);
		rest = url + 4;
	} else {
		buf_append_cstr(b, "{");
		if (url[0] == '{')
			rest = url + 1;
	}
	if (cid_name)
		dial_var_add(b, sep, &first, "origination_caller_id_name", cid_name);
	if (cid_num)
		dial_var_add(b, sep, &first, "origination_caller_id_number", cid_num);
	if (timeout)
		dial_var_add(b, sep, &first, "originate_timeout", timeout);
	if (rest != url) {
		if (*rest != '}')
			buf_append(b, &sep, 1); /* the block goes on with the url's own */
		buf_append_cstr(b, rest);
	} else {
		buf_append_cstr(b, "}");
		buf_append_cstr(b, url);
	}
	return 0;
}
