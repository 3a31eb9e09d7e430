/*
 * Replay driver for fuzz targets in builds without libFuzzer: feeds every file
 * of the given directories (or the files given) to LLVMFuzzerTestOneInput, so
 * the seed corpus and every crash ever found stay regression tests.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return -1;
	}
	uint8_t *data = malloc(1 << 20);
	size_t n = data ? fread(data, 1, 1 << 20, f) : 0;
	fclose(f);
	if (!data)
		return -1;
	/* An exact-size copy so that ASan sees reads past the end. */
	uint8_t *exact = malloc(n ? n : 1);
	if (exact) {
		memcpy(exact, data, n);
		LLVMFuzzerTestOneInput(exact, n);
	}
	free(exact);
	free(data);
	return 0;
}

int main(int argc, char **argv)
{
	int count = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			count += replay_file(argv[i]) == 0;
			continue;
		}
		DIR *d = opendir(argv[i]);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			count += replay_file(path) == 0;
		}
		if (d)
			closedir(d);
	}
	printf("replayed %d inputs\n", count);
	return 0;
}
