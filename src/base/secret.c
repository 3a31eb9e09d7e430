/*
 * Secrets irisx generates when none is configured (the Event Socket's
 * password, the HTTP API's token): one line in a file of the state directory,
 * created mode 0600, read back at every later start. irisx never listens
 * with a well-known default.
 */
#define LOG_MODULE "secret"
#include "base/base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int secret_load(const char *state_dir, const char *file, const char *what, size_t bytes,
		char *out, size_t out_size, char *err, size_t err_size)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", state_dir ? state_dir : ".", file);
	FILE *f = fopen(path, "r");
	if (f) {
		char line[512] = "";
		bool ok = fgets(line, sizeof(line), f) != NULL;
		fclose(f);
		line[strcspn(line, "\r\n")] = '\0';
		if (ok && line[0]) {
			snprintf(out, out_size, "%s", line);
			log_info("%s read from %s", what, path);
			return 0;
		}
	} else if (errno != ENOENT) {
		int e = errno;
		snprintf(err, err_size, "%s: %s", path, strerror(e));
		return -e;
	}
	char secret[129]; /* up to 512 random bits as hex */
	if (bytes == 0 || bytes * 2 + 1 > sizeof(secret) || bytes * 2 + 1 > out_size)
		return -EINVAL;
	random_hex(secret, bytes);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		int e = errno;
		snprintf(err, err_size, "%s: %s", path, strerror(e));
		return -e;
	}
	fchmod(fd, 0600);
	char line[sizeof(secret) + 1];
	int n = snprintf(line, sizeof(line), "%s\n", secret);
	bool ok = write(fd, line, (size_t)n) == n;
	close(fd);
	if (!ok) {
		snprintf(err, err_size, "%s: cannot write", path);
		return -EIO;
	}
	snprintf(out, out_size, "%s", secret);
	log_notice("no %s configured: generated one in %s", what, path);
	return 0;
}
