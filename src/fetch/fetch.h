/*
 * fetch — HTTP requests from the loop (libcurl's multi interface driven by
 * libuv: CURLMOPT_SOCKETFUNCTION → one uv_poll per socket,
 * CURLMOPT_TIMERFUNCTION → one uv_timer). Nothing ever blocks the loop: a
 * request starts at once and its callback runs later from the loop, with
 * the whole response in memory (bounded by max_body) or, for a download,
 * in a file written off the loop (libuv's thread pool).
 *
 * Used by the call status callbacks (control) and by TwiML call flows
 * (twiml: documents, actions, <Play> audio).
 *
 * Threading: a fetch and its requests belong to one loop and are touched
 * from it only.
 */
#ifndef IRISX_FETCH_H
#define IRISX_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct uv_loop_s;
struct fetch;
struct fetch_op;

enum { FETCH_HEADERS_MAX = 8 };

struct fetch_request {
	const char *url;    /* http:// or https:// only (other schemes: -EPROTONOSUPPORT) */
	const char *method; /* "GET" or "POST" (NULL: GET, or POST when body is set) */
	const char *body;   /* POST body, or NULL; copied */
	size_t body_len;
	const char *content_type; /* of the body (NULL: application/x-www-form-urlencoded) */
	/* Extra request headers, "Name: value", copied; NULL-terminated or all
	 * FETCH_HEADERS_MAX used. */
	const char *headers[FETCH_HEADERS_MAX];
	uint32_t timeout_ms;	    /* whole request, connection included (0: 10000) */
	size_t max_body;	    /* response bytes kept; more fails with -EFBIG (0: 1 MiB) */
	bool follow_redirects;	    /* 3xx followed (at most 5), http/https only */
	const char *download_path;  /* the body goes to this file (written to
				     * "<path>.part" in the thread pool, then renamed):
				     * response.body is then NULL. Only a 2xx body is
				     * written: any other status, an error or a cancel
				     * leaves no file (nor .part). Copied. */
};

struct fetch_response {
	int error;	      /* 0, or a negative errno: -ETIMEDOUT, -ECONNREFUSED,
			       * -EHOSTUNREACH, -EFBIG (max_body), -EPROTO (bad
			       * response), -EIO (download file), -ENOMEM */
	const char *error_text; /* libcurl's words for error, or NULL */
	long status;	      /* HTTP status; 0 when none was received */
	const char *content_type; /* the response's, or NULL; lives until cb returns */
	const char *body;	  /* NUL-terminated; NULL for a download; lives until cb returns */
	size_t body_len;
	const char *effective_url; /* after redirects; lives until cb returns */
	uint64_t elapsed_us;	   /* start to completion */
};

/* Runs once per started request, from the loop, unless it was cancelled. It
 * may start requests, cancel others, or fetch_destroy the fetch. */
typedef void (*fetch_done_cb)(void *arg, const struct fetch_response *r);

/* One per loop. 0, -ENOMEM. */
int fetch_create(struct fetch **out, struct uv_loop_s *loop);
/*
 * Cancels what is in flight (their callbacks do not run). Handles close
 * asynchronously: the loop must run once more before it may be closed.
 */
void fetch_destroy(struct fetch *f);

/*
 * Starts a request: 0 and *op (may be NULL when the caller never cancels),
 * valid until the callback has returned or fetch_cancel; or a negative
 * errno at once (-EINVAL, -EPROTONOSUPPORT for a non-HTTP URL, -ENOMEM):
 * the callback then never runs. Everything in `req` is copied.
 */
int fetch_start(struct fetch *f, const struct fetch_request *req, fetch_done_cb cb, void *arg,
		struct fetch_op **op);
/* The callback will not run; a download's partial file is removed. NULL, or
 * the op whose callback is running: nothing. */
void fetch_cancel(struct fetch_op *op);

/* Requests in flight (metrics, tests). */
size_t fetch_in_flight(const struct fetch *f);

#endif
