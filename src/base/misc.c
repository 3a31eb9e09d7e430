/*
 * Identifiers, clocks and directories.
 */
#include "base.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <time.h>

static void random_bytes(void *p, size_t n)
{
	unsigned char *out = p;
	while (n > 0) {
		ssize_t got = getrandom(out, n, 0);
		if (got <= 0)
			continue; /* EINTR; the kernel's pool never runs dry after boot */
		out += got;
		n -= (size_t)got;
	}
}

void uuid_generate(char out[UUID_STRLEN])
{
	unsigned char b[16];
	random_bytes(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	snprintf(out, UUID_STRLEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
}

void random_hex(char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[64];
	size_t done = 0;
	while (done < n) {
		size_t chunk = n - done < sizeof(b) ? n - done : sizeof(b);
		random_bytes(b, chunk);
		for (size_t i = 0; i < chunk; i++) {
			out[2 * (done + i)] = hex[b[i] >> 4];
			out[2 * (done + i) + 1] = hex[b[i] & 15];
		}
		done += chunk;
	}
	out[2 * n] = '\0';
}

uint64_t clock_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t clock_wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int fs_mkdir_p(const char *path, unsigned mode, bool parents_only)
{
	char tmp[4096];
	size_t len = strlen(path);
	if (len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (!parents_only && mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}
