/*
 * The start-up repair of recordings cut short: a RIFF/WAVE file (Microsoft's
 * RIFF layout: "RIFF" <size> "WAVE", then chunks of <id> <le32 size> <data>
 * padded to even sizes) whose process died before its header was last
 * rewritten declares less data (or none) than the file holds. The fix sets
 * the data chunk's size to what lies between its start and the end of the
 * file, in whole sample frames, and the RIFF size to the file's length - 8.
 * A file whose data chunk is followed by well-formed chunks up to the end
 * (a clean close that appended one) is left alone.
 */
#define LOG_MODULE "record"
#include "media/media.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static bool read_at(int fd, void *buf, size_t n, off_t off)
{
	return pread(fd, buf, n, off) == (ssize_t)n;
}

/* Whether well-formed chunks run from off exactly to the end. */
static bool chunks_to_end(int fd, uint64_t off, uint64_t end)
{
	uint8_t h[8];
	while (off + 8 <= end) {
		if (!read_at(fd, h, 8, (off_t)off))
			return false;
		for (int i = 0; i < 4; i++)
			if (h[i] < 0x20 || h[i] > 0x7e)
				return false;
		off += 8 + (uint64_t)le32(h + 4) + (le32(h + 4) & 1);
	}
	return off == end;
}

static int repair_fd(int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return -errno;
	uint64_t size = (uint64_t)st.st_size;
	uint8_t h[12];
	if (size < 12 || !read_at(fd, h, 12, 0) || memcmp(h, "RIFF", 4) != 0 ||
	    memcmp(h + 8, "WAVE", 4) != 0)
		return -EBADMSG;
	if (size > UINT32_MAX)
		size = UINT32_MAX; /* beyond RIFF's reach: the sizes saturate */
	uint64_t off = 12;
	uint32_t block_align = 0;
	for (;;) {
		uint8_t c[8];
		if (off + 8 > size || !read_at(fd, c, 8, (off_t)off))
			return -EBADMSG;
		uint32_t len = le32(c + 4);
		if (memcmp(c, "fmt ", 4) == 0) {
			uint8_t fmt[16];
			if (len < 16 || !read_at(fd, fmt, 16, (off_t)(off + 8)))
				return -EBADMSG;
			block_align = (uint32_t)fmt[12] | (uint32_t)fmt[13] << 8;
		} else if (memcmp(c, "data", 4) == 0) {
			if (block_align == 0)
				return -EBADMSG;
			uint64_t start = off + 8;
			uint64_t have = (size - start) / block_align * block_align;
			bool data_ok =
			    len == have ||
			    (len < have && chunks_to_end(fd, start + len + (len & 1), size));
			bool riff_ok = le32(h + 4) == size - 8;
			if (data_ok && riff_ok)
				return 0;
			uint8_t v[4];
			if (!data_ok) {
				put_le32(v, (uint32_t)have);
				if (pwrite(fd, v, 4, (off_t)(off + 4)) != 4)
					return -errno;
			}
			put_le32(v, (uint32_t)(size - 8));
			if (pwrite(fd, v, 4, 4) != 4)
				return -errno;
			return 1;
		}
		off += 8 + (uint64_t)len + (len & 1);
	}
}

int media_wav_repair(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = repair_fd(fd);
	if (rc == 1 && fsync(fd) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

static bool is_wav(const char *name)
{
	size_t n = strlen(name);
	return n > 4 && strcasecmp(name + n - 4, ".wav") == 0;
}

static int repair_tree(const char *dir, unsigned *fixed, int depth)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		struct stat st;
		if (lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < 16) {
			repair_tree(path, fixed, depth + 1);
		} else if (S_ISREG(st.st_mode) && is_wav(e->d_name)) {
			int rc = media_wav_repair(path);
			if (rc == 1) {
				log_notice("recording %s was cut short: header repaired", path);
				if (fixed)
					(*fixed)++;
			} else if (rc < 0) {
				log_warn("recording %s: cannot check it: %s", path,
					 rc == -EBADMSG ? "not a WAV file" : strerror(-rc));
			}
		}
	}
	closedir(d);
	return 0;
}

int media_wav_repair_dir(const char *dir, unsigned *fixed)
{
	if (fixed)
		*fixed = 0;
	return repair_tree(dir, fixed, 0);
}
