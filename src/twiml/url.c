/*
 * URLs in TwiML documents: references (action="/next", <Redirect>../menu)
 * resolved against the document's URL as RFC 3986 §5.2 says — the
 * components split as in appendix B, transformed by §5.2.2 (strict: a
 * reference with a scheme is absolute), paths merged by §5.2.3 and
 * cleaned of "." and ".." by §5.2.4, recomposed by §5.3.
 *
 * Only http and https results are accepted, with a host: a document must
 * not send irisx to file:, ftp: or javascript: URLs. The scheme is
 * compared and written in lower case (§6.2.2.1), and the base's path
 * loses its dot segments too (§5.2.1 allows it), so that a result
 * resolves to itself; nothing else is normalised. Bytes that cannot appear in a request line
 * (controls, space) are refused rather than escaped.
 */
#include "twiml_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct uri {
	struct str scheme, authority, path, query, fragment;
	bool has_scheme, has_authority, has_query, has_fragment;
};

static bool scheme_valid(struct str s)
{
	if (!s.len)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		char ch = s.p[i];
		bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
		bool digit = ch >= '0' && ch <= '9';
		if (!alpha && (i == 0 || (!digit && ch != '+' && ch != '-' && ch != '.')))
			return false;
	}
	return true;
}

/* Appendix B's regular expression, by hand. */
static void uri_split(const char *s, struct uri *u)
{
	size_t len = strlen(s), i = 0, start;

	memset(u, 0, sizeof(*u));
	size_t colon = strcspn(s, ":/?#");
	if (colon < len && s[colon] == ':' && scheme_valid(str_make(s, colon))) {
		u->has_scheme = true;
		u->scheme = str_make(s, colon);
		i = colon + 1;
	}
	if (s[i] == '/' && s[i + 1] == '/') {
		i += 2;
		start = i;
		i += strcspn(s + i, "/?#");
		u->has_authority = true;
		u->authority = str_make(s + start, i - start);
	}
	start = i;
	i += strcspn(s + i, "?#");
	u->path = str_make(s + start, i - start);
	if (s[i] == '?') {
		start = ++i;
		i += strcspn(s + i, "#");
		u->has_query = true;
		u->query = str_make(s + start, i - start);
	}
	if (s[i] == '#') {
		u->has_fragment = true;
		u->fragment = str_make(s + i + 1, len - i - 1);
	}
}

static bool starts(const char *p, const char *prefix)
{
	return strncmp(p, prefix, strlen(prefix)) == 0;
}

/* Drops the last segment of out, and the "/" before it (§5.2.4 C). */
static void drop_last_segment(struct buf *out)
{
	while (out->len && out->p[out->len - 1] != '/')
		out->len--;
	if (out->len)
		out->len--;
}

/* §5.2.4; `in` is a scratch copy that the loop rewrites in place. */
static void remove_dot_segments(char *in, struct buf *out)
{
	char *p = in;

	while (*p) {
		if (starts(p, "../")) {
			p += 3;
		} else if (starts(p, "./")) {
			p += 2;
		} else if (starts(p, "/./")) {
			p += 2;
		} else if (strcmp(p, "/.") == 0) {
			p[1] = '/';
			p += 1;
		} else if (starts(p, "/../")) {
			p += 3;
			drop_last_segment(out);
		} else if (strcmp(p, "/..") == 0) {
			p[2] = '/';
			p += 2;
			drop_last_segment(out);
		} else if (strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
			p += strlen(p);
		} else {
			size_t n = (*p == '/') + strcspn(p + (*p == '/'), "/");
			buf_append(out, p, n);
			p += n;
		}
	}
	buf_append(out, "", 0); /* a NUL even when empty */
}

/* Appends path with its dot segments removed. */
static int append_clean_path(struct buf *out, struct str path)
{
	char *scratch = malloc(path.len + 1);
	struct buf clean;

	if (!scratch)
		return -ENOMEM;
	memcpy(scratch, path.p, path.len);
	scratch[path.len] = '\0';
	buf_init(&clean);
	remove_dot_segments(scratch, &clean);
	free(scratch);
	buf_append(out, clean.p, clean.len);
	int rc = clean.failed ? -ENOMEM : 0;
	buf_fini(&clean);
	return rc;
}

/* §5.2.3: the base path up to its last "/", then the reference's. */
static int merge_paths(struct buf *out, const struct uri *b, struct str ref_path)
{
	struct buf merged;

	buf_init(&merged);
	if (b->has_authority && !b->path.len) {
		buf_append(&merged, "/", 1);
	} else {
		size_t keep = b->path.len;
		while (keep && b->path.p[keep - 1] != '/')
			keep--;
		buf_append(&merged, b->path.p, keep);
	}
	buf_append_str(&merged, ref_path);
	int rc = merged.failed
		     ? -ENOMEM
		     : append_clean_path(out, str_make(merged.p ? merged.p : "", merged.len));
	buf_fini(&merged);
	return rc;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return false;
	return true;
}

static bool scheme_http(struct str s)
{
	return str_ieq(s, STR("http")) || str_ieq(s, STR("https"));
}

static int copy_out(const struct buf *b, char *out, size_t size)
{
	if (b->failed)
		return -ENOMEM;
	if (b->len >= size)
		return -ENAMETOOLONG;
	memcpy(out, b->p, b->len);
	out[b->len] = '\0';
	return 0;
}

/* §5.2.2 with §5.3's recomposition into res. */
static int resolve(const struct uri *b, const struct uri *r, struct buf *res)
{
	const struct uri *auth_from = r, *query_from = r;
	int rc = 0;

	/* The scheme, in lower case. */
	struct str scheme = r->has_scheme ? r->scheme : b->scheme;
	for (size_t i = 0; i < scheme.len; i++) {
		char ch = scheme.p[i];
		buf_append(res, (char[]){ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch}, 1);
	}
	buf_append(res, ":", 1);
	if (r->has_scheme) {
		/* an absolute reference: everything from it */
	} else if (r->has_authority) {
		/* "//host/…": the base's scheme, the rest from the reference */
	} else {
		auth_from = b;
		if (!r->path.len && !r->has_query)
			query_from = b;
	}
	if (auth_from->has_authority) {
		buf_append(res, "//", 2);
		buf_append_str(res, auth_from->authority);
	}
	if (auth_from == r)
		rc = append_clean_path(res, r->path);
	else if (!r->path.len)
		rc = append_clean_path(res, b->path); /* §5.2.1's optional normalisation */
	else if (r->path.p[0] == '/')
		rc = append_clean_path(res, r->path);
	else
		rc = merge_paths(res, b, r->path);
	if (rc)
		return rc;
	if (query_from->has_query) {
		buf_append(res, "?", 1);
		buf_append_str(res, query_from->query);
	}
	if (r->has_fragment) {
		buf_append(res, "#", 1);
		buf_append_str(res, r->fragment);
	}
	return 0;
}

int twiml_url_resolve(const char *base, const char *ref, char *out, size_t size)
{
	struct uri b, r, t;
	struct buf res;

	if (!base || !ref || !out || !base[0] || !ref[0] || !printable(base) || !printable(ref))
		return -EINVAL;
	uri_split(base, &b);
	if (!b.has_scheme || !scheme_http(b.scheme) || !b.has_authority || !b.authority.len)
		return -EINVAL;
	uri_split(ref, &r);
	if (r.has_scheme && !scheme_http(r.scheme))
		return -EINVAL;
	buf_init(&res);
	int rc = resolve(&b, &r, &res);
	if (rc == 0) {
		buf_append(&res, "", 0);
		/* The result must itself be an http(s) URL with a host. */
		uri_split(res.p, &t);
		if (!t.has_authority || !t.authority.len)
			rc = -EINVAL;
		else
			rc = copy_out(&res, out, size);
	}
	buf_fini(&res);
	return rc;
}

int twiml_url_with_query(const char *url, const char *query, char *out, size_t size)
{
	struct buf res;

	if (!url || !query || !out)
		return -EINVAL;
	/* The query goes before a fragment, which a server never sees. */
	size_t frag = strcspn(url, "#");
	size_t qmark = strcspn(url, "?");
	buf_init(&res);
	buf_append(&res, url, frag);
	if (query[0]) {
		char last = frag ? url[frag - 1] : '\0';
		if (qmark >= frag)
			buf_append(&res, "?", 1);
		else if (last != '?' && last != '&')
			buf_append(&res, "&", 1);
		buf_append_cstr(&res, query);
	}
	buf_append_cstr(&res, url + frag);
	int rc = copy_out(&res, out, size);
	buf_fini(&res);
	return rc;
}
