/*
 * fetch's downloads: a 2xx body, received in memory, goes to "<path>.part"
 * in libuv's thread pool (open, write, fsync, close), then is renamed to
 * path, so a reader never sees half a file and the loop never waits on the
 * disk. A cancel (or fetch_destroy) while a step runs is seen by the next
 * step, which removes what was written (.part, or path once renamed); a
 * failure removes it too, then the callback runs with -EIO.
 */
#define LOG_MODULE "fetch"
#include "fetch/fetch_int.h"
#include "base/base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

static void disk_write_next(struct fetch_op *op);
static void disk_cleanup(struct fetch_op *op);

/* The file-system step just finished: its result, and the request ready
 * for the next step. */
static ssize_t disk_result(uv_fs_t *req)
{
	ssize_t res = req->result;
	uv_fs_req_cleanup(req);
	return res;
}

static void disk_done(struct fetch_op *op, int error)
{
	struct fetch *f = op->f;
	fetch__op_unlink(op);
	fetch__op_finish(op, error);
	fetch__unref(f);
}

static void disk_fail(struct fetch_op *op, const char *step, ssize_t res)
{
	log_warn("download to %s: %s: %s", op->path, step, uv_strerror((int)res));
	if (!op->resp.error)
		op->resp.error = -EIO;
	disk_cleanup(op);
}

static void disk_renamed_cb(uv_fs_t *req)
{
	struct fetch_op *op = req->data;
	ssize_t res = disk_result(req);
	if (res < 0) {
		disk_fail(op, "rename", res);
		return;
	}
	op->renamed = true;
	if (op->cancelled)
		disk_cleanup(op);
	else
		disk_done(op, 0);
}

static void disk_closed_cb(uv_fs_t *req)
{
	struct fetch_op *op = req->data;
	ssize_t res = disk_result(req);
	op->fd = -1;
	if (res < 0) {
		disk_fail(op, "close", res);
		return;
	}
	if (op->cancelled) {
		disk_cleanup(op);
		return;
	}
	uv_fs_rename(op->f->loop, &op->fs, op->part, op->path, disk_renamed_cb);
}

static void disk_synced_cb(uv_fs_t *req)
{
	struct fetch_op *op = req->data;
	ssize_t res = disk_result(req);
	if (res < 0) {
		disk_fail(op, "fsync", res);
		return;
	}
	uv_fs_close(op->f->loop, &op->fs, op->fd, disk_closed_cb);
}

static void disk_wrote_cb(uv_fs_t *req)
{
	struct fetch_op *op = req->data;
	ssize_t res = disk_result(req);
	if (res < 0) {
		disk_fail(op, "write", res);
		return;
	}
	op->written += (size_t)res;
	if (op->cancelled)
		disk_cleanup(op);
	else
		disk_write_next(op);
}

static void disk_write_next(struct fetch_op *op)
{
	if (op->written == op->body_len) {
		/* Durable before the rename makes it visible. */
		uv_fs_fsync(op->f->loop, &op->fs, op->fd, disk_synced_cb);
		return;
	}
	size_t left = op->body_len - op->written;
	uv_buf_t b =
	    uv_buf_init(op->body + op->written, (unsigned)(left < 1u << 30 ? left : 1u << 30));
	uv_fs_write(op->f->loop, &op->fs, op->fd, &b, 1, (int64_t)op->written, disk_wrote_cb);
}

static void disk_opened_cb(uv_fs_t *req)
{
	struct fetch_op *op = req->data;
	ssize_t res = disk_result(req);
	if (res < 0) {
		log_warn("download to %s: open: %s", op->part, uv_strerror((int)res));
		if (op->cancelled) {
			struct fetch *f = op->f;
			fetch__op_free(op);
			fetch__unref(f);
			return;
		}
		disk_done(op, -EIO); /* nothing was created */
		return;
	}
	op->fd = (uv_file)res;
	if (op->cancelled)
		disk_cleanup(op);
	else
		disk_write_next(op);
}

static void disk_removed_cb(uv_fs_t *req)
{
	struct fetch_op *op = req->data;
	disk_result(req);
	if (op->cancelled) {
		struct fetch *f = op->f;
		fetch__op_free(op);
		fetch__unref(f);
		return;
	}
	disk_done(op, -EIO);
}

static void disk_cleanup_closed_cb(uv_fs_t *req)
{
	struct fetch_op *op = req->data;
	disk_result(req);
	op->fd = -1;
	disk_cleanup(op);
}

/* Closes and removes what a failed or cancelled download wrote; then the
 * callback runs (failed) or the op goes (cancelled). */
static void disk_cleanup(struct fetch_op *op)
{
	if (op->fd >= 0) {
		uv_fs_close(op->f->loop, &op->fs, op->fd, disk_cleanup_closed_cb);
		return;
	}
	uv_fs_unlink(op->f->loop, &op->fs, op->renamed ? op->path : op->part, disk_removed_cb);
}

void fetch__download_begin(struct fetch_op *op)
{
	op->state = FETCH_OP_DISK;
	op->f->refs++;
	op->fs.data = op;
	uv_fs_open(op->f->loop, &op->fs, op->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644,
		   disk_opened_cb);
}
