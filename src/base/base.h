/*
 * base — the few types every irisx module speaks in.
 *
 *  - struct str: a slice (pointer + length) into a buffer someone else owns.
 *    Parsers hand these out instead of copying; print them with "%.*s".
 *  - struct buf: a growable, heap-owned byte buffer for printers.
 *  - struct net_addr: an IPv4 or IPv6 socket address, with parse, print and compare.
 *  - logging with a per-file LOG_MODULE and a level checked before formatting.
 *  - uuids (v4, from getrandom) and a monotonic millisecond clock.
 *
 * Nothing here allocates except struct buf, and nothing here touches a loop.
 */
#ifndef IRISX_BASE_H
#define IRISX_BASE_H

#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- slices ---------------------------------------------------------------- */

struct str {
	const char *p; /* not owned, not NUL-terminated */
	size_t len;
};

/* A slice of a string literal. */
#define STR(lit) ((struct str){(lit), sizeof(lit) - 1})
#define STR_NULL ((struct str){NULL, 0})

static inline struct str str_make(const char *p, size_t len)
{
	return (struct str){p, len};
}

/* A slice of a NUL-terminated string (may be NULL: gives the empty slice). */
struct str str_from_cstr(const char *s);

bool str_eq(struct str a, struct str b);
/* ASCII case-insensitive comparison, as SIP header names and tokens compare. */
bool str_ieq(struct str a, struct str b);
bool str_ieq_cstr(struct str a, const char *s);
bool str_starts_with_i(struct str s, const char *prefix);
/* Leading and trailing SP, HTAB, CR and LF removed. */
struct str str_trim(struct str s);
/* Index of the first `c` in `s`, or -1. */
ptrdiff_t str_find_char(struct str s, char c);
/* Decimal, no sign, no overflow: 0 or -EINVAL / -ERANGE. */
int str_to_u32(struct str s, uint32_t *out);
int str_to_u64(struct str s, uint64_t *out);
/* Copy into a caller's array, NUL-terminated; -ENOSPC when it does not fit. */
int str_copy_cstr(struct str s, char *dst, size_t dst_size);

/* ---- growable buffer ------------------------------------------------------- */

struct buf {
	char *p; /* owned; always NUL-terminated when len > 0 or after any append */
	size_t len;
	size_t cap;
	bool failed; /* an allocation failed; every later append is a no-op */
};

void buf_init(struct buf *b);
void buf_fini(struct buf *b);
void buf_reset(struct buf *b);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_append_str(struct buf *b, struct str s);
void buf_append_cstr(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Hands the bytes to the caller (free()), leaving b empty; NULL when failed. */
char *buf_steal(struct buf *b, size_t *len);

/* ---- network addresses ----------------------------------------------------- */

struct net_addr {
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} u;
};

enum { NET_ADDR_STRLEN = 64 }; /* "[v6%scope]:port" fits */

/* "1.2.3.4", "::1", "[::1]"; port given separately. 0 or -EINVAL. */
int net_addr_parse(struct net_addr *out, struct str host, uint16_t port);
/* "1.2.3.4:5060" or "[::1]:5060" into dst; returns dst. */
const char *net_addr_print(const struct net_addr *a, char *dst, size_t size);
/* Host only, without brackets or port. */
const char *net_addr_print_host(const struct net_addr *a, char *dst, size_t size);
uint16_t net_addr_port(const struct net_addr *a);
void net_addr_set_port(struct net_addr *a, uint16_t port);
int net_addr_family(const struct net_addr *a);
socklen_t net_addr_len(const struct net_addr *a);
/* Same family, address and port. */
bool net_addr_eq(const struct net_addr *a, const struct net_addr *b);
bool net_addr_is_loopback(const struct net_addr *a);

/* ---- logging --------------------------------------------------------------- */

enum log_level { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

/* Process-wide settings, set once at start-up before threads exist. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_set_color(bool on);
/* "err", "warning", "notice", "info", "debug" → level; -EINVAL otherwise. */
int log_level_parse(const char *name, enum log_level *out);

void log_write(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * One process-wide tap (the Event Socket's `log` command) sees every line
 * log_write writes, after the level check: the message without timestamp,
 * level or newline (`text` is not NUL-terminated). It runs inside log_write,
 * on whatever thread logs; a tap must not call log_write itself (such calls
 * are not passed to it again). cb NULL removes the tap.
 */
typedef void (*log_tap_cb)(void *arg, enum log_level level, const char *module, const char *text,
			   size_t len);
void log_set_tap(log_tap_cb cb, void *arg);

static inline bool log_enabled(enum log_level level)
{
	return level <= log_get_level();
}

/* Each .c defines LOG_MODULE before using these. */
#define log_err(...)	log_write(LOG_ERR, LOG_MODULE, __VA_ARGS__)
#define log_warn(...)	log_write(LOG_WARNING, LOG_MODULE, __VA_ARGS__)
#define log_notice(...) log_write(LOG_NOTICE, LOG_MODULE, __VA_ARGS__)
#define log_info(...)                                                                              \
	do {                                                                                       \
		if (log_enabled(LOG_INFO))                                                         \
			log_write(LOG_INFO, LOG_MODULE, __VA_ARGS__);                              \
	} while (0)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_enabled(LOG_DEBUG))                                                        \
			log_write(LOG_DEBUG, LOG_MODULE, __VA_ARGS__);                             \
	} while (0)

/* ---- arenas ---------------------------------------------------------------- */

/*
 * A bump allocator for memory that dies all at once (a call's strings and
 * state, freed at hangup). Blocks are chained; nothing is freed singly.
 */
struct arena_block;
struct arena {
	struct arena_block *head; /* owned */
	size_t block_size;	  /* 0 (a zeroed arena): 4096 */
	size_t total;		  /* bytes handed out, for callers that cap their size */
};

void arena_init(struct arena *a, size_t block_size /* 0: 4096 */);
void arena_fini(struct arena *a);
/* Zeroed, aligned for any type; NULL when out of memory. */
void *arena_alloc(struct arena *a, size_t size);
/* NUL-terminated copies; NULL when out of memory. */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, struct str s);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- hash maps --------------------------------------------------------------- */

/*
 * An intrusive hash map: the caller embeds a struct hmap_node in its object
 * and computes the hash; the map only chains nodes. Lookups walk the nodes of
 * one hash (hmap_first / hmap_next) and compare keys themselves. It grows by
 * doubling; nodes are never copied, so pointers to objects stay valid.
 */
struct hmap_node {
	struct hmap_node *next;
	uint64_t hash;
};

struct hmap {
	struct hmap_node **buckets; /* owned */
	size_t mask;
	size_t count;
};

void hmap_init(struct hmap *m);
void hmap_fini(struct hmap *m); /* frees the buckets, not the nodes */
/* -ENOMEM when the table could not grow (the node is still inserted). */
int hmap_insert(struct hmap *m, struct hmap_node *node, uint64_t hash);
void hmap_remove(struct hmap *m, struct hmap_node *node);
struct hmap_node *hmap_first(const struct hmap *m, uint64_t hash);
struct hmap_node *hmap_next(const struct hmap_node *node);

/* FNV-1a over bytes; the _i variant folds ASCII case. Not for hostile keys
 * where collisions matter: use the map's chains with small limits there. */
uint64_t hash_bytes(const void *p, size_t len, uint64_t seed);
uint64_t hash_str(struct str s);
uint64_t hash_str_i(struct str s);

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* ---- identifiers and time -------------------------------------------------- */

enum { UUID_STRLEN = 37 }; /* 36 characters and the NUL */

/* A random (v4) uuid, lower-case, NUL-terminated. */
void uuid_generate(char out[UUID_STRLEN]);
/* `n` random bytes as lower-case hex (2n characters + NUL), for tags and branches. */
void random_hex(char *out, size_t n);

/* Monotonic milliseconds since an arbitrary origin. */
uint64_t clock_now_ms(void);
/* Wall-clock microseconds since the epoch (for event and CDR timestamps). */
uint64_t clock_wall_us(void);

/* ---- files ------------------------------------------------------------------- */

/* Creates `path` and the directories above it that are missing (mode `mode`),
 * like mkdir -p; with `parents_only` the last component (a file name) is left
 * alone. 0, -ENAMETOOLONG or mkdir's -errno. Blocking: not for a loop. */
int fs_mkdir_p(const char *path, unsigned mode, bool parents_only);

/*
 * A secret kept in <state_dir>/<file> (the ESL password, the HTTP API
 * token, the TwiML signing key): read when the file holds one, otherwise
 * `bytes` random bytes as hex are written there (mode 0600) and the
 * creation logged with `what`. 0, or a negative errno with the path and
 * reason in err.
 */
int secret_load(const char *state_dir, const char *file, const char *what, size_t bytes,
		char *out, size_t out_size, char *err, size_t err_size);

#endif
