/* fuzz_config - thresh.conf parsing (conf_load) against any file.
 *
 * Input: the bytes of a thresh.conf. They are written to a file and loaded.
 * Checked:
 *   - conf_load returns 0 or THRESH_ECONFIG, and then a message that starts
 *     with the file's name (FILE:LINE: ...);
 *   - a loaded configuration printed by conf_format (what `thresh config`
 *     shows) loads again, and printing that gives the same text: printing
 *     is a fixed point, so an admin can save what `thresh config` prints;
 *   - conf_get answers every key of the main section and of other sections,
 *     and a buffer too small gives THRESH_ETOOBIG. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "thresh/thresh.h"
#include "config.h"

#include "fuzz_util.h"

/* body - the text after the first line (which names the file read). */
static const char *body(const char *s)
{
	const char *nl = strchr(s, '\n');
	return nl ? nl + 1 : s;
}

static void check_get(const conf *c, const model_meta *m, const char *key)
{
	char small[2], big[1 << 16];
	int rc = conf_get(c, m, key, big, sizeof big);
	FUZZ_CHECK(rc == 0 || rc == THRESH_ETOOBIG, "conf_get %s: %s", key, thresh_errname(rc));
	if (rc == 0) {
		size_t n = strlen(big);
		rc = conf_get(c, m, key, small, sizeof small);
		FUZZ_CHECK(rc == (n < sizeof small ? 0 : THRESH_ETOOBIG), "conf_get %s small: %s", key,
		           thresh_errname(rc));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	conf *c = NULL, *c2 = NULL;
	const char *in = fuzz_write(0, "in.conf", data, size);
	err[0] = '\0';
	int rc = conf_load(in, &c, err, sizeof err);
	FUZZ_CHECK(rc == 0 || rc == THRESH_ECONFIG, "conf_load: %s", thresh_errname(rc));
	if (rc) {
		FUZZ_CHECK(!strncmp(err, in, strlen(in)) && err[strlen(in)] == ':',
		           "message does not name the file: %s", err);
		return 0;
	}

	char *text = conf_format(c, NULL);
	FUZZ_CHECK(text, "conf_format: out of memory");

	/* every key of the main section, as printed, and of the other sections */
	model_meta m;
	memset(&m, 0, sizeof m);
	for (int i = 0; i < P_COUNT; i++)
		m.param[i] = 0.5;
	for (int i = 0; thresh_db_param_name((size_t)i); i++)
		check_get(c, &m, thresh_db_param_name((size_t)i));
	for (const char *line = text; *line && *line != '[';) {
		const char *nl = strchr(line, '\n'), *eq = strstr(line, " = ");
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		if (*line != '#' && eq && (size_t)(eq - line) < n && eq - line < 64) {
			char key[64];
			memcpy(key, line, (size_t)(eq - line));
			key[eq - line] = '\0';
			check_get(c, &m, key);
		}
		line += n + (nl != NULL);
	}
	for (size_t i = 0; i + 1 < c->n_ext; i += 2)
		check_get(c, &m, c->ext[i]);

	const char *out = fuzz_write(1, "printed.conf", text, strlen(text));
	err[0] = '\0';
	rc = conf_load(out, &c2, err, sizeof err);
	FUZZ_CHECK(rc == 0, "the printed configuration does not load: %s: %s\n--- printed:\n%s",
	           thresh_errname(rc), err, text);
	char *text2 = conf_format(c2, NULL);
	FUZZ_CHECK(text2, "conf_format: out of memory");
	FUZZ_CHECK(!strcmp(body(text), body(text2)),
	           "printing is not a fixed point\n--- printed:\n%s\n--- printed again:\n%s", text, text2);
	free(text);
	free(text2);
	conf_unref(c2);
	conf_unref(c);
	return 0;
}
