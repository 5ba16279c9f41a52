#!/usr/bin/env bash
# json-vs-jansson.sh - the measurement behind src/common/README's choice of
# JSON reader: ours (src/common/json.c) against Debian's libjansson on the
# body threshd's /v1/check gets most, a comment of ten members.
#   tests/bench/json-vs-jansson.sh      (installs libjansson-dev if missing)
set -euo pipefail
cd "$(dirname "$0")/../.."
dpkg-query -W -f='${Status}' libjansson-dev 2>/dev/null | grep -q "install ok installed" ||
  ./scripts/deps.sh libjansson-dev
work=$(mktemp -d "${TMPDIR:-/tmp}/thresh-jsonbench-XXXXXX")
trap 'rm -rf "$work"' EXIT
# Each reader in a file of its own: jansson's enum json_type and ours share
# names.
cat >"$work/ours.c" <<'C'
#include "json.h"
static int cb(const struct json_member *m, void *ctx, char *w, size_t ws)
{ (void)w; (void)ws; *(size_t *)ctx += m->str_len; return 0; }
size_t ours(const char *doc, size_t len)
{ size_t acc = 0, pos; char why[128]; json_object_parse(doc, len, cb, &acc, why, sizeof why, &pos); return acc; }
C
cat >"$work/main.c" <<'C'
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
size_t ours(const char *, size_t);
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(void)
{
	const char *doc = "{\"content\":\"Check out my new channel, it has great music videos \\u00e9 and more! "
	                  "http://example.com/x\",\"author\":\"Ann Smith\",\"email\":\"ann@example.com\","
	                  "\"ip\":\"203.0.113.7\",\"user_agent\":\"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36\","
	                  "\"referrer\":\"https://blog.example.org/post\",\"permalink\":\"https://blog.example.org/?p=1\","
	                  "\"type\":\"comment\",\"form_age\":12.5,\"explain\":true}";
	size_t len = strlen(doc), acc = 0;
	int n = 1000000;
	double t0 = now();
	for (int i = 0; i < n; i++)
		acc += ours(doc, len);
	double t1 = now();
	for (int i = 0; i < n; i++) {
		json_error_t e;
		json_t *j = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &e);
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v) if (json_is_string(v)) acc += json_string_length(v);
		json_decref(j);
	}
	double t2 = now();
	printf("%zu-byte object, %d parses each: ours %.0f ns, jansson %.0f ns (%.1fx) [%zu]\n", len, n,
	       (t1 - t0) / n * 1e9, (t2 - t1) / n * 1e9, (t2 - t1) / (t1 - t0), acc);
	json_error_t e;
	const char *big = "{\"form_age\":123456789012345678901234}";
	printf("jansson on %s: %s\n", big, json_loadb(big, strlen(big), 0, &e) ? "read" : e.text);
	return 0;
}
C
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Isrc/common "$work/main.c" "$work/ours.c" src/common/json.c \
  src/common/utf8.c src/common/sbuf.c src/common/num.c -ljansson -lm -o "$work/bench"
"$work/bench"
