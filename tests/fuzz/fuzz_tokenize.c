/* fuzz_tokenize - the tokenizer against any comment.
 *
 * Input: one control byte, then the comment's fields separated by NUL bytes,
 * in the order of the field table (content, author, email, url, ip,
 * user_agent, referrer, permalink, type, lang, honeypot, form_age); fields
 * past the last separator stay unset. The control byte's low 6 bits are the
 * tokenizer feature set (TOK_F_*: every combination is reachable, 0x3F is
 * all of them); bit 0x40 stores a value thresh_comment_set refused as
 * invalid UTF-8 straight into the record, to check that tok_comment does not
 * trust the record (it must refuse it with THRESH_EUTF8); bit 0x80
 * tokenizes without an identity key (the prior's training).
 *
 * Checked for every input:
 *   - thresh_comment_set returns 0 or a documented refusal, and a refused
 *     value leaves the field unset;
 *   - tok_comment returns 0, or THRESH_EUTF8 exactly when a bad value was
 *     stored raw, and then leaves the list empty;
 *   - every id is hash_token() of its text, except an identity token's,
 *     whose text is only a known prefix and U+2026 (no identity shown), and
 *     which is there only with an identity key; ids are distinct; texts lie
 *     back to back in first-seen order; each is valid UTF-8 of at most 320
 *     bytes; gram flags only on "cx:" tokens; links <= TOK_LINKS_MAX;
 *   - tokenizing again into a list reused across inputs gives the same list
 *     (tok_list_clear empties the de-duplication set exactly). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "comment_int.h"
#include "hash.h"
#include "thresh/thresh.h"
#include "tokenize.h"
#include "utf8.h"

#include "fuzz_util.h"

#define TOKEN_TEXT_MAX 320 /* TB_CAP in tokenize.c */

static const unsigned char key[HASH_MODEL_KEY_BYTES] = {
	0x66, 0x75, 0x7a, 0x7a, 0x2d, 0x74, 0x6f, 0x6b, 0x65, 0x6e, 0x69, 0x7a, 0x65, 0x2d, 0x6b, 0x21,
};

static const unsigned char ikey[HASH_MODEL_KEY_BYTES] = {
	0x66, 0x75, 0x7a, 0x7a, 0x2d, 0x69, 0x64, 0x65, 0x6e, 0x74, 0x69, 0x74, 0x79, 0x2d, 0x6b, 0x21,
};

/* is_placeholder - an identity token's text: a known prefix and U+2026. */
static int is_placeholder(const char *s, size_t n)
{
	static const char *const prefix[] = {"author:", "author-word:", "email-domain:", "url-host:",
	                                     "url-domain:", "ip24:", "ip48:", "email:"};
	for (size_t i = 0; i < sizeof prefix / sizeof prefix[0]; i++) {
		size_t k = strlen(prefix[i]);
		if (n == k + 3 && !memcmp(s, prefix[i], k) && !memcmp(s + k, "\xe2\x80\xa6", 3))
			return 1;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void check_list(const tok_list *t, int with_ident)
{
	size_t off = 0;
	FUZZ_CHECK(t->links <= TOK_LINKS_MAX, "links %u", t->links);
	for (size_t i = 0; i < t->n; i++) {
		const char *s = t->text + t->off[i];
		FUZZ_CHECK(t->off[i] == off, "token %zu at %u, expected %zu", i, t->off[i], off);
		FUZZ_CHECK(t->len[i] > 0 && t->len[i] <= TOKEN_TEXT_MAX, "token %zu: %u bytes", i, t->len[i]);
		off += t->len[i];
		FUZZ_CHECK(off <= t->text_len, "token %zu past the text", i);
		if (t->ident[i]) {
			FUZZ_CHECK(with_ident, "token %zu [%.*s]: an identity token without the key", i,
			           (int)t->len[i], s);
			FUZZ_CHECK(is_placeholder(s, t->len[i]), "token %zu [%.*s]: not a placeholder", i,
			           (int)t->len[i], s);
		} else {
			FUZZ_CHECK(t->ids[i] == hash_token(key, s, t->len[i]),
			           "token %zu [%.*s]: id is not its hash", i, (int)t->len[i], s);
		}
		FUZZ_CHECK(utf8_check((const unsigned char *)s, t->len[i], NULL), "token %zu [%.*s]: not UTF-8", i,
		           (int)t->len[i], s);
		FUZZ_CHECK(t->gram[i] == 0 || (t->gram[i] == 1 && t->len[i] > 3 && !memcmp(s, "cx:", 3)),
		           "token %zu [%.*s]: gram flag %u", i, (int)t->len[i], s, t->gram[i]);
	}
	FUZZ_CHECK(off == t->text_len, "text_len %zu, tokens hold %zu", t->text_len, off);
	if (t->n > 1) {
		uint64_t *ids = malloc(t->n * sizeof *ids);
		FUZZ_CHECK(ids, "out of memory");
		memcpy(ids, t->ids, t->n * sizeof *ids);
		qsort(ids, t->n, sizeof *ids, cmp_u64);
		for (size_t i = 1; i < t->n; i++)
			FUZZ_CHECK(ids[i] != ids[i - 1], "id %016llx twice", (unsigned long long)ids[i]);
		free(ids);
	}
}

static int same_list(const tok_list *a, const tok_list *b)
{
	if (a->n != b->n || a->text_len != b->text_len || a->links != b->links)
		return 0;
	return a->n == 0 ||
	       (!memcmp(a->ids, b->ids, a->n * sizeof *a->ids) &&
	        !memcmp(a->len, b->len, a->n * sizeof *a->len) &&
	        !memcmp(a->gram, b->gram, a->n) && !memcmp(a->ident, b->ident, a->n) &&
	        !memcmp(a->text, b->text, a->text_len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static tok_list reused; /* kept across inputs, as a check's list is */
	static int ready;
	if (!ready) {
		FUZZ_CHECK(hash_init() == 0, "hash_init");
		tok_list_init(&reused);
		ready = 1;
	}
	if (size < 1)
		return 0;
	uint32_t features = data[0] & 0x3Fu;
	int raw = data[0] & 0x40;
	const unsigned char *ident = data[0] & 0x80 ? NULL : ikey;
	data++;
	size--;

	thresh_comment *c;
	FUZZ_CHECK(thresh_comment_new(&c) == 0, "thresh_comment_new");
	int bad_raw = 0;
	size_t start = 0;
	for (int f = 0; f < F_COUNT && start <= size; f++) {
		const uint8_t *nul = memchr(data + start, 0, size - start);
		size_t end = nul ? (size_t)(nul - data) : size;
		const char *v = (const char *)data + start;
		size_t n = end - start;
		int rc = thresh_comment_set(c, comment_field_name((enum comment_field)f), v, n);
		FUZZ_CHECK(rc == 0 || rc == THRESH_EUTF8 || rc == THRESH_ETOOBIG ||
		           (rc == THRESH_EINVAL && f == F_FORM_AGE),
		           "set %s: %s", comment_field_name((enum comment_field)f), thresh_errname(rc));
		if (rc) {
			FUZZ_CHECK(c->val[f] == NULL, "a refused value was kept");
			if (raw && rc == THRESH_EUTF8) {
				/* what a caller writing the record by hand could leave there */
				c->val[f] = malloc(n + 1);
				FUZZ_CHECK(c->val[f], "out of memory");
				memcpy(c->val[f], v, n);
				c->val[f][n] = '\0';
				c->len[f] = c->cap[f] = n;
				bad_raw = 1;
			}
		} else {
			FUZZ_CHECK(c->len[f] == n && !memcmp(c->val[f], v, n) && c->val[f][n] == '\0',
			           "set %s: value not kept", comment_field_name((enum comment_field)f));
		}
		if (!nul)
			break;
		start = end + 1;
	}

	tok_list fresh;
	tok_list_init(&fresh);
	int rc = tok_comment(&fresh, c, features, key, ident);
	if (bad_raw) {
		FUZZ_CHECK(rc == THRESH_EUTF8, "invalid UTF-8 stored raw: %s", thresh_errname(rc));
		FUZZ_CHECK(fresh.n == 0 && fresh.text_len == 0, "a refused comment left %zu tokens", fresh.n);
	} else {
		FUZZ_CHECK(rc == 0, "tok_comment: %s", thresh_errname(rc));
	}
	check_list(&fresh, ident != NULL);

	int rc2 = tok_comment(&reused, c, features, key, ident);
	FUZZ_CHECK(rc2 == rc, "again: %s, first %s", thresh_errname(rc2), thresh_errname(rc));
	FUZZ_CHECK(same_list(&fresh, &reused), "a reused list gives %zu tokens, a fresh one %zu",
	           reused.n, fresh.n);

	tok_list_free(&fresh);
	thresh_comment_free(c);
	return 0;
}
