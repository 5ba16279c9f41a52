/* fuzz_util.h - what the fuzz targets share: a check that crashes loudly,
 * and one temporary folder per process, removed at exit.
 *
 * The targets are compiled two ways: with libFuzzer (clang -fsanitize=fuzzer,
 * see tests/fuzz/meson.build and run.sh), and with replay.c's main(), which
 * feeds every file of a corpus to LLVMFuzzerTestOneInput (the fuzz-replay-*
 * tests of the normal build). FUZZ_CHECK aborts in both, so a broken
 * invariant is a crash libFuzzer saves and a replay test that fails. */
#ifndef THRESH_FUZZ_UTIL_H
#define THRESH_FUZZ_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                    \
	do {                                                                         \
		if (!(cond)) {                                                           \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                        \
			fputc('\n', stderr);                                                 \
			abort();                                                             \
		}                                                                        \
	} while (0)

static char fuzz_dir_path[PATH_MAX];

static inline void fuzz_rmtree(const char *path)
{
	DIR *d = opendir(path);
	if (d) {
		struct dirent *e;
		char p[PATH_MAX];
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			if (snprintf(p, sizeof p, "%s/%s", path, e->d_name) >= (int)sizeof p)
				continue;
			struct stat st;
			if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
				fuzz_rmtree(p);
			else
				unlink(p);
		}
		closedir(d);
	}
	rmdir(path);
}

static inline void fuzz_cleanup(void)
{
	if (fuzz_dir_path[0])
		fuzz_rmtree(fuzz_dir_path);
}

/* fuzz_sweep - remove the folders of earlier runs whose process is gone (a
 * crash, which is what fuzzing is for, skips the cleanup at exit). They are
 * named thresh-fuzz-PID-XXXXXX. */
static inline void fuzz_sweep(const char *base)
{
	DIR *d = opendir(base);
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d))) {
		char p[PATH_MAX], *end;
		if (strncmp(e->d_name, "thresh-fuzz-", 12))
			continue;
		long pid = strtol(e->d_name + 12, &end, 10);
		if (pid <= 0 || *end != '-')
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue; /* alive (or not ours to judge) */
		if (snprintf(p, sizeof p, "%s/%s", base, e->d_name) < (int)sizeof p)
			fuzz_rmtree(p);
	}
	closedir(d);
}

/* fuzz_dir - this process's temporary folder: under $TMPDIR, else /dev/shm
 * (a file system in memory: the targets write a file per input), else /tmp.
 * Made on the first call, removed at exit. Aborts when it cannot be made. */
static inline const char *fuzz_dir(void)
{
	if (fuzz_dir_path[0])
		return fuzz_dir_path;
	const char *base = getenv("TMPDIR");
	struct stat st;
	if (!base || !*base)
		base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0
		       ? "/dev/shm" : "/tmp";
	fuzz_sweep(base);
	FUZZ_CHECK(snprintf(fuzz_dir_path, sizeof fuzz_dir_path, "%s/thresh-fuzz-%ld-XXXXXX", base,
	                    (long)getpid()) < (int)sizeof fuzz_dir_path, "TMPDIR too long");
	FUZZ_CHECK(mkdtemp(fuzz_dir_path), "mkdtemp %s: %s", fuzz_dir_path, strerror(errno));
	atexit(fuzz_cleanup);
	return fuzz_dir_path;
}

/* fuzz_write - data[0..size) into the file name inside fuzz_dir(); returns
 * its path in a static buffer (one per name slot: 0 or 1). */
static inline const char *fuzz_write(int slot, const char *name, const void *data, size_t size)
{
	static char path[2][PATH_MAX];
	FUZZ_CHECK(snprintf(path[slot], sizeof path[slot], "%s/%s", fuzz_dir(), name) < (int)sizeof path[slot],
	           "path too long");
	FILE *f = fopen(path[slot], "wb");
	FUZZ_CHECK(f, "fopen %s: %s", path[slot], strerror(errno));
	FUZZ_CHECK(size == 0 || fwrite(data, 1, size, f) == size, "write %s", path[slot]);
	FUZZ_CHECK(fclose(f) == 0, "close %s", path[slot]);
	return path[slot];
}

/* fuzz_path - the path of name inside fuzz_dir(), into buf[PATH_MAX]. */
static inline const char *fuzz_path(char buf[PATH_MAX], const char *name)
{
	FUZZ_CHECK(snprintf(buf, PATH_MAX, "%s/%s", fuzz_dir(), name) < PATH_MAX, "path too long");
	return buf;
}

#endif
