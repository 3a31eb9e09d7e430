/*
 * The preprocessor: reads the root file and everything it includes with
 * libxml2, runs the X-PRE-PROCESS instructions in document order, expands
 * $${…} in attribute values and text, and builds the tree of config_node
 * that remembers the file and line of every element.
 *
 * It follows FreeSWITCH's preprocessor (switch_xml.c) where a configuration
 * written for FreeSWITCH depends on it, and differs where FreeSWITCH's
 * line-oriented text splicing would be a trap:
 *  - Instructions: <X-PRE-PROCESS cmd= data=/> elements, the same as a
 *    <?X-PRE-PROCESS cmd= data=?> processing instruction, and the old
 *    <!--#cmd "data"--> comment form. cmd is set, include, env-set; exec-set,
 *    exec and stun-set are reported and never run. <X-NO-PRE-PROCESS> is a
 *    disabled instruction and vanishes.
 *  - include takes a path or a glob, relative to the including file's
 *    directory or absolute. A glob matching nothing is fine; a plain path
 *    that does not exist is an error. An included file contributes its
 *    top-level elements; it may hold several, or none.
 *  - An <include> element, wherever it is, is replaced by its children
 *    (FreeSWITCH drops the lines holding <include> and </include>).
 *  - Each file is parsed on its own, so a malformed file is reported with
 *    its own name and line, and an X-PRE-PROCESS inside a comment is not run
 *    (FreeSWITCH runs it: we warn).
 * Limits: 32 levels of includes, 4096 files, 16 MiB a file.
 */
#include "config_int.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_MODULE "config"

static const char WRAP_OPEN[] = "<irisx-include>";
static const char WRAP_CLOSE[] = "</irisx-include>";

/* A node while the tree is built: the public part, the tail of its child
 * list (so children append in order), and the text gathered so far. */
struct tnode {
	struct config_node pub;
	struct config_node *last_child;
	struct buf text;
};

/* The file being walked, and the chain of files that included it. */
struct frame {
	const char *file; /* arena copy, shared by the nodes read from it */
	xmlDocPtr doc;
	dev_t dev;
	ino_t ino;
	bool has_id;
	unsigned depth;
	const struct frame *up;
};

static int walk_list(struct config__ctx *c, xmlNodePtr n, struct tnode *parent,
		     const struct frame *f);

static unsigned node_line(xmlNodePtr n)
{
	long l = xmlGetLineNo(n);
	return l > 0 && l <= (long)UINT_MAX ? (unsigned)l : 0;
}

/* ---- reading and parsing one file ---- */

static int read_path(const char *path, char **data, size_t *len, struct stat *st)
{
	/* O_NONBLOCK: opening a FIFO must not hang the start-up. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if (st->st_size > CONFIG_FILE_SIZE_MAX) {
		close(fd);
		return -EFBIG;
	}
	size_t cap = (size_t)st->st_size + 1, n = 0;
	char *p = malloc(cap);
	if (!p) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		if (n == cap) { /* the file grew while we read it */
			close(fd);
			free(p);
			return -EFBIG;
		}
		ssize_t r = read(fd, p + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			free(p);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*data = p;
	*len = n;
	return 0;
}

static const char *read_error(int rc)
{
	switch (rc) {
	case -EINVAL:
		return "not a regular file";
	case -EFBIG:
		return "larger than 16 MiB";
	default:
		return strerror(-rc);
	}
}

struct xml_err {
	bool set;
	int code;
	unsigned line;
	char msg[256];
};

static void xml_error_cb(void *ctx, xmlErrorPtr e)
{
	xmlParserCtxtPtr px = ctx;
	struct xml_err *xe = px->_private;

	/* The first error is the one that explains; the rest follow from it. */
	if (xe->set || e->level < XML_ERR_ERROR)
		return;
	xe->set = true;
	xe->code = e->code;
	xe->line = e->line > 0 ? (unsigned)e->line : 0;
	snprintf(xe->msg, sizeof(xe->msg), "%s", e->message ? e->message : "malformed XML");
	size_t n = strlen(xe->msg);
	while (n && (xe->msg[n - 1] == '\n' || xe->msg[n - 1] == ' '))
		xe->msg[--n] = '\0';
}

static xmlDocPtr xml_read(const char *url, const char *data, size_t len, struct xml_err *xe)
{
	memset(xe, 0, sizeof(*xe));
	xmlParserCtxtPtr px = xmlNewParserCtxt();
	if (!px) {
		xe->set = true;
		xe->code = -ENOMEM;
		snprintf(xe->msg, sizeof(xe->msg), "out of memory");
		return NULL;
	}
	/* serror takes every report of this parse, so libxml2 prints nothing. */
	px->_private = xe;
	px->sax->serror = xml_error_cb;
	/* No network, no external entities or DTDs (no XML_PARSE_NOENT or
	 * XML_PARSE_DTDLOAD), line numbers past 65535. */
	xmlDocPtr doc =
	    xmlCtxtReadMemory(px, data, (int)len, url, NULL,
			      XML_PARSE_NONET | XML_PARSE_BIG_LINES | XML_PARSE_NOCDATA);
	if (doc && !px->wellFormed) {
		xmlFreeDoc(doc);
		doc = NULL;
	}
	if (!doc && !xe->set) {
		xe->set = true;
		snprintf(xe->msg, sizeof(xe->msg), "malformed XML");
	}
	xmlFreeParserCtxt(px);
	return doc;
}

/*
 * The file's bytes inside <irisx-include>…</irisx-include>, so that a file
 * of several top-level elements (or none) parses. The XML declaration is
 * blanked rather than removed, keeping every line number.
 */
static char *wrap(const char *data, size_t len, size_t *out_len)
{
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
		data += 3;
		len -= 3;
	}
	size_t decl = 0;
	if (len > 6 && memcmp(data, "<?xml", 5) == 0 && strchr(" \t\r\n", data[5])) {
		const char *e = memmem(data, len, "?>", 2);
		if (e)
			decl = (size_t)(e - data) + 2;
	}
	size_t n = sizeof(WRAP_OPEN) - 1 + len + sizeof(WRAP_CLOSE) - 1;
	char *p = malloc(n);
	if (!p)
		return NULL;
	memcpy(p, WRAP_OPEN, sizeof(WRAP_OPEN) - 1);
	char *q = p + sizeof(WRAP_OPEN) - 1;
	memcpy(q, data, len);
	for (size_t i = 0; i < decl; i++)
		if (q[i] != '\n')
			q[i] = ' ';
	memcpy(q + len, WRAP_CLOSE, sizeof(WRAP_CLOSE) - 1);
	*out_len = n;
	return p;
}

/*
 * Parses a file's bytes. With `allow_wrap` (included files), a document
 * that is empty or has several top-level elements is parsed again wrapped;
 * *wrapped tells which happened. NULL with the error recorded.
 */
static xmlDocPtr parse_file(struct config__ctx *c, const char *path, const char *data, size_t len,
			    bool allow_wrap, bool *wrapped)
{
	struct xml_err xe;
	xmlDocPtr doc = xml_read(path, data, len, &xe);

	*wrapped = false;
	if (!doc && allow_wrap &&
	    (xe.code == XML_ERR_DOCUMENT_EMPTY || xe.code == XML_ERR_DOCUMENT_END)) {
		size_t wlen;
		char *w = wrap(data, len, &wlen);
		if (!w) {
			config__fail(c, -ENOMEM, path, 0, "out of memory");
			return NULL;
		}
		doc = xml_read(path, w, wlen, &xe);
		free(w);
		*wrapped = doc != NULL;
	}
	if (!doc) {
		/* Name the wrapper's closing tag for what it stands for. */
		char msg[300];
		const char *hit = strstr(xe.msg, "irisx-include");
		if (hit)
			snprintf(msg, sizeof(msg), "%.*send of file%s", (int)(hit - xe.msg), xe.msg,
				 hit + strlen("irisx-include"));
		else
			snprintf(msg, sizeof(msg), "%s", xe.msg);
		config__fail(c, xe.code == -ENOMEM ? -ENOMEM : -EINVAL, path, xe.line, "%s", msg);
	}
	return doc;
}

/* ---- the tree ---- */

static struct tnode *tnode_new(struct config__ctx *c, struct tnode *parent, const char *name,
			       const char *file, unsigned line)
{
	struct tnode *t = arena_alloc(c->arena, sizeof(*t));
	if (!t || !(t->pub.name = arena_strdup(c->arena, name))) {
		config__fail(c, -ENOMEM, file, line, "out of memory");
		return NULL;
	}
	t->pub.text = "";
	t->pub.file = file;
	t->pub.line = line;
	buf_init(&t->text);
	if (parent) {
		t->pub.parent = &parent->pub;
		if (parent->last_child)
			parent->last_child->next = &t->pub;
		else
			parent->pub.first_child = &t->pub;
		parent->last_child = &t->pub;
	}
	return t;
}

/* Keeps the gathered text, trimmed, and frees the gathering buffer. */
static int tnode_close(struct config__ctx *c, struct tnode *t)
{
	struct str s = str_trim(str_make(t->text.p, t->text.len));
	int rc = 0;

	if (t->text.failed)
		rc = config__fail(c, -ENOMEM, t->pub.file, t->pub.line, "out of memory");
	else if (s.len && !(t->pub.text = arena_strndup(c->arena, s)))
		rc = config__fail(c, -ENOMEM, t->pub.file, t->pub.line, "out of memory");
	buf_fini(&t->text);
	return rc;
}

/* An attribute's raw value (heap, xmlFree) looked up without regard to case. */
static xmlChar *attr_raw(xmlNodePtr n, const char *name)
{
	for (xmlAttrPtr a = n->properties; a; a = a->next)
		if (strcasecmp((const char *)a->name, name) == 0)
			return a->children ? xmlNodeListGetString(n->doc, a->children, 1)
					   : xmlStrdup((const xmlChar *)"");
	return NULL;
}

static int set_attrs(struct config__ctx *c, struct tnode *t, xmlNodePtr n)
{
	size_t count = 0;
	for (xmlAttrPtr a = n->properties; a; a = a->next)
		count++;
	if (!count)
		return 0;
	t->pub.attrs = arena_alloc(c->arena, count * sizeof(*t->pub.attrs));
	if (!t->pub.attrs)
		return config__fail(c, -ENOMEM, t->pub.file, t->pub.line, "out of memory");
	for (xmlAttrPtr a = n->properties; a; a = a->next) {
		xmlChar *v = a->children ? xmlNodeListGetString(n->doc, a->children, 1) : NULL;
		const char *raw = v ? (const char *)v : "";
		struct config_attr *ca = &t->pub.attrs[t->pub.attr_count++];
		ca->name = arena_strdup(c->arena, (const char *)a->name);
		ca->value = config__expand(c, raw, strlen(raw), t->pub.file, t->pub.line);
		xmlFree(v);
		if (!ca->name)
			return config__fail(c, -ENOMEM, t->pub.file, t->pub.line, "out of memory");
		if (!ca->value)
			return c->rc;
	}
	return 0;
}

/* ---- instructions ---- */

static int include_pattern(struct config__ctx *c, const char *pattern, const struct frame *f,
			   unsigned line, struct tnode *parent);

static int do_set(struct config__ctx *c, const char *data, const char *file, unsigned line)
{
	const char *eq = data ? strchr(data, '=') : NULL;
	if (!eq) {
		config__warn(c, file, line,
			     "X-PRE-PROCESS set needs data=\"name=value\" (ignored)");
		return 0;
	}
	struct str name = str_trim(str_make(data, (size_t)(eq - data)));
	const char *value = eq + 1;
	while (*value == ' ')
		value++;
	if (!name.len) {
		config__warn(c, file, line, "X-PRE-PROCESS set without a name (ignored)");
		return 0;
	}
	if (config__var_set(c->vars, name.p, name.len, value, strlen(value)))
		return config__fail(c, -ENOMEM, file, line, "out of memory");
	return 0;
}

/* env-set data="name=$ENVVAR": the variable takes the environment's value. */
static int do_env_set(struct config__ctx *c, const char *data, const char *file, unsigned line)
{
	const char *eq = data ? strchr(data, '=') : NULL;
	if (!eq || eq[1] != '$' || eq == data) {
		config__warn(c, file, line,
			     "X-PRE-PROCESS env-set needs data=\"name=$ENVVAR\" (ignored)");
		return 0;
	}
	const char *env = getenv(eq + 2);
	if (!env) {
		config__warn(c, file, line,
			     "env-set: environment variable %s is not set ('%.*s' left unset)",
			     eq + 2, (int)(eq - data), data);
		return 0;
	}
	if (config__var_set(c->vars, data, (size_t)(eq - data), env, strlen(env)))
		return config__fail(c, -ENOMEM, file, line, "out of memory");
	return 0;
}

static int directive(struct config__ctx *c, const char *cmd, const char *data,
		     const struct frame *f, unsigned line, struct tnode *parent)
{
	const char *file = f->file;
	const char *eq = data ? strchr(data, '=') : NULL;
	int nlen = eq ? (int)(eq - data) : data ? (int)strlen(data) : 0;

	if (!cmd || !*cmd) {
		config__warn(c, file, line, "X-PRE-PROCESS without cmd (ignored)");
		return 0;
	}
	if (config__ieq(cmd, "set"))
		return do_set(c, data, file, line);
	if (config__ieq(cmd, "include"))
		return include_pattern(c, data, f, line, parent);
	if (config__ieq(cmd, "env-set"))
		return do_env_set(c, data, file, line);
	if (config__ieq(cmd, "comment"))
		return 0;
	if (config__ieq(cmd, "exec-set"))
		config__warn(c, file, line,
			     "X-PRE-PROCESS exec-set is not supported by irisx, which never runs "
			     "commands from its configuration ('%.*s' left unset)",
			     nlen, data ? data : "");
	else if (config__ieq(cmd, "exec"))
		config__warn(c, file, line,
			     "X-PRE-PROCESS exec is not supported by irisx, which never runs "
			     "commands from its configuration (ignored)");
	else if (config__ieq(cmd, "stun-set"))
		config__warn(c, file, line,
			     "X-PRE-PROCESS stun-set is not supported by irisx, which makes no "
			     "STUN requests at start ('%.*s' left unset)",
			     nlen, data ? data : "");
	else
		config__warn(c, file, line,
			     "X-PRE-PROCESS cmd '%s' is not supported by irisx (ignored)", cmd);
	return 0;
}

/* ---- includes ---- */

static int include_file(struct config__ctx *c, const char *path, const struct frame *from,
			unsigned line, struct tnode *parent, bool globbed)
{
	char *data;
	size_t len;
	struct stat st;

	if (from->depth >= CONFIG_INCLUDE_DEPTH_MAX)
		return config__fail(c, -ELOOP, from->file, line,
				    "includes nested deeper than %d levels (including '%s')",
				    CONFIG_INCLUDE_DEPTH_MAX, path);
	if (++c->files > CONFIG_FILES_MAX)
		return config__fail(c, -EINVAL, from->file, line,
				    "more than %d files included (including '%s')",
				    CONFIG_FILES_MAX, path);
	int rc = read_path(path, &data, &len, &st);
	if (rc == -EINVAL && globbed)
		return 0; /* the glob matched a directory */
	if (rc)
		return config__fail(c, rc == -EINVAL || rc == -EFBIG ? -EINVAL : rc, from->file,
				    line, "cannot include '%s': %s", path, read_error(rc));
	for (const struct frame *up = from; up; up = up->up) {
		if (up->has_id && up->dev == st.st_dev && up->ino == st.st_ino) {
			free(data);
			return config__fail(c, -ELOOP, from->file, line,
					    "include cycle: '%s' is already being read", path);
		}
	}
	struct frame nf = {
	    .file = arena_strdup(c->arena, path),
	    .dev = st.st_dev,
	    .ino = st.st_ino,
	    .has_id = true,
	    .depth = from->depth + 1,
	    .up = from,
	};
	if (!nf.file) {
		free(data);
		return config__fail(c, -ENOMEM, from->file, line, "out of memory");
	}
	bool wrapped;
	nf.doc = parse_file(c, nf.file, data, len, true, &wrapped);
	free(data);
	if (!nf.doc)
		return c->rc;
	xmlNodePtr top = wrapped ? xmlDocGetRootElement(nf.doc)->children : nf.doc->children;
	rc = walk_list(c, top, parent, &nf);
	xmlFreeDoc(nf.doc);
	return rc;
}

/*
 * Drops "." components and folds "dir/.." where dir is a real directory (not
 * a symlink, through which ".." leads elsewhere), in place, so that messages
 * name "conf/sip_profiles/x.xml" rather than "conf/autoload_configs/../…".
 * The result opens the same file.
 */
static void path_tidy(char *path)
{
	char out[PATH_MAX];
	size_t starts[PATH_MAX / 2], depth = 0, o = 0;
	const char *s = path;
	const bool abs = *s == '/';

	if (strlen(path) >= sizeof(out))
		return;
	if (abs)
		out[o++] = '/';
	while (*s) {
		while (*s == '/')
			s++;
		if (!*s)
			break;
		size_t len = strcspn(s, "/");
		if (len == 1 && s[0] == '.') {
			s += len;
			continue;
		}
		if (len == 2 && s[0] == '.' && s[1] == '.' && depth > 0 &&
		    !(o - starts[depth - 1] == 2 &&
		      memcmp(out + starts[depth - 1], "..", 2) == 0)) {
			struct stat st;
			out[o] = '\0';
			if (lstat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
				o = starts[--depth];
				if (o > (abs ? 1u : 0u))
					o--;
				s += len;
				continue;
			}
		}
		if (o > 0 && out[o - 1] != '/')
			out[o++] = '/';
		starts[depth++] = o;
		memcpy(out + o, s, len);
		o += len;
		s += len;
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	memcpy(path, out, o + 1);
}

static int include_pattern(struct config__ctx *c, const char *pattern, const struct frame *f,
			   unsigned line, struct tnode *parent)
{
	char path[PATH_MAX];
	int n;

	if (!pattern || !*pattern) {
		config__warn(c, f->file, line, "X-PRE-PROCESS include without data (ignored)");
		return 0;
	}
	if (c->confine && (pattern[0] == '/' || strstr(pattern, "..")))
		return config__fail(c, -EINVAL, f->file, line,
				    "include '%s' leaves the configuration directory", pattern);
	if (pattern[0] == '/') {
		n = snprintf(path, sizeof(path), "%s", pattern);
	} else {
		const char *slash = strrchr(f->file, '/');
		if (slash)
			n = snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - f->file), f->file,
				     pattern);
		else
			n = snprintf(path, sizeof(path), "%s", pattern);
	}
	if (n < 0 || (size_t)n >= sizeof(path))
		return config__fail(c, -ENAMETOOLONG, f->file, line, "include path too long");
	path_tidy(path);
	if (!strpbrk(pattern, "*?["))
		return include_file(c, path, f, line, parent, false);

	glob_t g;
	int r = glob(path, 0, NULL, &g);
	if (r == GLOB_NOMATCH)
		return 0; /* as FreeSWITCH: an empty directory is fine */
	if (r != 0) {
		globfree(&g);
		return config__fail(c, r == GLOB_NOSPACE ? -ENOMEM : -EIO, f->file, line,
				    "cannot expand include '%s'", path);
	}
	int rc = 0;
	for (size_t i = 0; i < g.gl_pathc && !rc; i++)
		rc = include_file(c, g.gl_pathv[i], f, line, parent, true);
	globfree(&g);
	return rc;
}

/* ---- walking a parsed file ---- */

static int walk_element(struct config__ctx *c, xmlNodePtr n, struct tnode *parent,
			const struct frame *f)
{
	const char *name = (const char *)n->name;
	unsigned line = node_line(n);

	if (strcasecmp(name, "X-PRE-PROCESS") == 0) {
		xmlChar *cmd = attr_raw(n, "cmd"), *data = attr_raw(n, "data");
		const char *ecmd = NULL, *edata = NULL;
		if (cmd)
			ecmd = config__expand(c, (const char *)cmd, strlen((const char *)cmd),
					      f->file, line);
		if (data && !c->rc)
			edata = config__expand(c, (const char *)data, strlen((const char *)data),
					       f->file, line);
		xmlFree(cmd);
		xmlFree(data);
		if (c->rc)
			return c->rc;
		return directive(c, ecmd, edata, f, line, parent);
	}
	if (strcasecmp(name, "X-NO-PRE-PROCESS") == 0)
		return 0;		  /* FreeSWITCH's way of switching an instruction off */
	if (strcmp(name, "include") == 0) /* a wrapper: its children take its place */
		return walk_list(c, n->children, parent, f);

	struct tnode *t = tnode_new(c, parent, name, f->file, line);
	if (!t)
		return c->rc;
	int rc = set_attrs(c, t, n);
	if (!rc)
		rc = walk_list(c, n->children, t, f);
	int rc2 = tnode_close(c, t);
	return rc ? rc : rc2;
}

static int add_text(struct config__ctx *c, xmlNodePtr n, struct tnode *parent,
		    const struct frame *f)
{
	const char *s = (const char *)n->content;
	if (!s || !parent || str_trim(str_from_cstr(s)).len == 0)
		return 0;
	const char *e = config__expand(c, s, strlen(s), f->file, node_line(n));
	if (!e)
		return c->rc;
	buf_append_cstr(&parent->text, e);
	return 0;
}

/* The value of pseudo-attribute `name` in a processing instruction's data
 * (cmd="set" data="a=b"), as an arena string, or NULL. */
static const char *pi_attr(struct config__ctx *c, const char *s, const char *name)
{
	size_t nl = strlen(name);
	for (const char *p = s; (p = strcasestr(p, name)); p += nl) {
		if (p != s && !strchr(" \t\r\n", p[-1]))
			continue;
		const char *q = p + nl;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q++ != '=')
			continue;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q != '"' && *q != '\'')
			continue;
		const char *end = strchr(q + 1, *q);
		if (!end)
			return NULL;
		return arena_strndup(c->arena, str_make(q + 1, (size_t)(end - q - 1)));
	}
	return NULL;
}

static int walk_pi(struct config__ctx *c, xmlNodePtr n, struct tnode *parent, const struct frame *f)
{
	if (strcasecmp((const char *)n->name, "X-PRE-PROCESS") != 0)
		return 0;
	unsigned line = node_line(n);
	const char *s = n->content ? (const char *)n->content : "";
	const char *cmd = pi_attr(c, s, "cmd"), *data = pi_attr(c, s, "data");
	if (cmd && !(cmd = config__expand(c, cmd, strlen(cmd), f->file, line)))
		return c->rc;
	if (data && !(data = config__expand(c, data, strlen(data), f->file, line)))
		return c->rc;
	return directive(c, cmd, data, f, line, parent);
}

static int walk_comment(struct config__ctx *c, xmlNodePtr n, struct tnode *parent,
			const struct frame *f)
{
	const char *s = n->content ? (const char *)n->content : "";
	unsigned line = node_line(n);

	if (s[0] == '#') {
		/* <!--#include "file"-->, <!--#set "name=value"-->, <!--#comment …--> */
		const char *cmd = s + 1, *sp = cmd + strcspn(cmd, " \t\r\n");
		char *name = arena_strndup(c->arena, str_make(cmd, (size_t)(sp - cmd)));
		struct str arg = str_trim(str_from_cstr(sp));
		if (arg.len >= 2 && arg.p[0] == '"' && memchr(arg.p + 1, '"', arg.len - 1)) {
			const char *q = memchr(arg.p + 1, '"', arg.len - 1);
			arg = str_make(arg.p + 1, (size_t)(q - arg.p - 1));
		}
		if (!name)
			return config__fail(c, -ENOMEM, f->file, line, "out of memory");
		if (config__ieq(name, "comment"))
			return 0;
		const char *data = config__expand(c, arg.p, arg.len, f->file, line);
		if (!data)
			return c->rc;
		return directive(c, name, data, f, line, parent);
	}
	/* FreeSWITCH's preprocessor reads lines, not XML, and runs an
	 * instruction even inside a comment. irisx does not: say so. */
	for (const char *p = s; (p = strcasestr(p, "<X-PRE-PROCESS")); p++) {
		unsigned at = line;
		for (const char *q = s; q < p; q++)
			at += *q == '\n';
		config__warn(c, f->file, at,
			     "X-PRE-PROCESS inside a comment is not run by irisx (FreeSWITCH "
			     "runs it; delete the line to be sure)");
	}
	return 0;
}

static int walk_one(struct config__ctx *c, xmlNodePtr n, struct tnode *parent,
		    const struct frame *f)
{
	switch (n->type) {
	case XML_ELEMENT_NODE:
		return walk_element(c, n, parent, f);
	case XML_TEXT_NODE:
	case XML_CDATA_SECTION_NODE:
		return add_text(c, n, parent, f);
	case XML_COMMENT_NODE:
		return walk_comment(c, n, parent, f);
	case XML_PI_NODE:
		return walk_pi(c, n, parent, f);
	case XML_ENTITY_REF_NODE:
		config__warn(c, f->file, node_line(n),
			     "entity reference &%s; is not expanded by irisx (ignored)",
			     (const char *)n->name);
		return 0;
	default:
		return 0;
	}
}

static int walk_list(struct config__ctx *c, xmlNodePtr n, struct tnode *parent,
		     const struct frame *f)
{
	int rc = 0;
	for (; n && !rc; n = n->next)
		rc = walk_one(c, n, parent, f);
	return rc;
}

int config__preprocess(struct config__ctx *c, const char *path, const void *data, size_t len,
		       struct config_node **out)
{
	struct frame f = {.file = arena_strdup(c->arena, path)};
	char *owned = NULL;
	struct stat st;
	int rc;

	if (!f.file)
		return config__fail(c, -ENOMEM, path, 0, "out of memory");
	path_tidy((char *)f.file);
	if (!data) {
		rc = read_path(path, &owned, &len, &st);
		if (rc)
			return config__fail(c, rc == -EFBIG ? -EINVAL : rc, f.file, 0,
					    "cannot read: %s", read_error(rc));
		data = owned;
		f.dev = st.st_dev;
		f.ino = st.st_ino;
		f.has_id = true;
	} else if (len > CONFIG_FILE_SIZE_MAX) {
		return config__fail(c, -EINVAL, path, 0, "cannot read: larger than 16 MiB");
	}
	xmlInitParser();
	bool wrapped;
	f.doc = parse_file(c, f.file, data, len, false, &wrapped);
	free(owned);
	if (!f.doc)
		return c->rc;

	/* A holder collects the top level, where exactly one <document> must be. */
	struct tnode *holder = tnode_new(c, NULL, "", f.file, 0);
	rc = holder ? walk_list(c, f.doc->children, holder, &f) : c->rc;
	if (holder)
		buf_fini(&holder->text);
	xmlDocPtr doc = f.doc;
	if (!rc) {
		struct config_node *root = holder->pub.first_child;
		if (!root)
			rc = config__fail(c, -EINVAL, f.file, 0,
					  "no <document type=\"freeswitch/xml\"> element");
		else if (root->next)
			rc = config__fail(c, -EINVAL, root->next->file, root->next->line,
					  "a second top-level element <%s>", root->next->name);
		else if (strcmp(root->name, "document") != 0)
			rc = config__fail(c, -EINVAL, root->file, root->line,
					  "the root element is <%s>; expected <document "
					  "type=\"freeswitch/xml\">",
					  root->name);
		else {
			root->parent = NULL;
			*out = root;
		}
	}
	xmlFreeDoc(doc);
	return rc;
}
