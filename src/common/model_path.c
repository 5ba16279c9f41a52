/* model_path.c - the default model of a program run from its build tree
 * (see model_path.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model_path.h"

const char *build_tree_model(char *buf, size_t size)
{
	char exe[PATH_MAX], probe[PATH_MAX];
	const char *env = getenv("THRESH_MODEL");
	if (env && *env)
		return NULL;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	/* BUILD/src/PROGRAM/NAME: three slashes back is BUILD */
	for (int up = 0; up < 3; up++) {
		char *slash = strrchr(exe, '/');
		if (!slash || slash == exe)
			return NULL;
		*slash = '\0';
	}
	if (snprintf(probe, sizeof probe, "%s/build.ninja", exe) >= (int)sizeof probe ||
	    access(probe, F_OK) != 0)
		return NULL;
	if (snprintf(buf, size, "%s/models/default.dump", exe) >= (int)size || access(buf, R_OK) != 0)
		return NULL;
	return buf;
}
