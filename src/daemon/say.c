/* say.c - the daemon's own messages and its clock, which every part of it
 * uses; in a file of their own so that none of those parts depends on main.c. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "threshd.h"

void say(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "threshd: %s\n", msg);
}

double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}
