/* Unit tests of the tokenizer (src/lib/tokenize.c): what token texts a
 * comment gives, that ids are the keyed hashes of those texts, and that
 * identity tokens are hashed under the identity key, shown only as
 * placeholders, and left out without that key. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "comment_int.h"
#include "hash.h"
#include "thresh/thresh.h"
#include "tokenize.h"

static const unsigned char key[HASH_MODEL_KEY_BYTES] = {
	0x74, 0x68, 0x72, 0x65, 0x73, 0x68, 0x2d, 0x74, 0x65, 0x73, 0x74, 0x2d, 0x6b, 0x65, 0x79, 0x21,
};

/* the identity key (site_keys.ident) */
static const unsigned char ikey[HASH_MODEL_KEY_BYTES] = {
	0x69, 0x64, 0x65, 0x6e, 0x74, 0x69, 0x74, 0x79, 0x2d, 0x74, 0x65, 0x73, 0x74, 0x2d, 0x6b, 0x21,
};

static tok_list T;

static void setup(void)
{
	cr_assert_eq(hash_init(), 0);
	tok_list_init(&T);
}

static void teardown(void)
{
	tok_list_free(&T);
}

TestSuite(tokenize, .init = setup, .fini = teardown);

/* ---------------------------------------------------------------- helpers */

/* has_token - 1 when the list holds a token with exactly this text. */
static int has_token(const tok_list *t, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < t->n; i++)
		if (t->len[i] == n && memcmp(t->text + t->off[i], s, n) == 0)
			return 1;
	return 0;
}

/* count_prefix - how many tokens start with prefix. */
static size_t count_prefix(const tok_list *t, const char *prefix)
{
	size_t n = strlen(prefix), k = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->len[i] >= n && memcmp(t->text + t->off[i], prefix, n) == 0)
			k++;
	return k;
}

/* dump - the list as "a | b | c", for failure messages. */
static const char *dump(const tok_list *t)
{
	static char buf[8192];
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < t->n && n + 8 < sizeof buf; i++) {
		int k = snprintf(buf + n, sizeof buf - n, "%s%.*s", i ? " | " : "", (int)t->len[i],
		                 t->text + t->off[i]);
		if (k < 0)
			break;
		n += (size_t)k;
	}
	return buf;
}

/* ident_index - the index of the identity token of text s (its id under
 * ikey, flagged, shown as its prefix and U+2026), or -1. */
static long ident_index(const tok_list *t, const char *s)
{
	uint64_t id = hash_token(ikey, s, strlen(s));
	const char *colon = strchr(s, ':');
	size_t p = colon ? (size_t)(colon - s) + 1 : 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->ids[i] == id && t->ident[i] && t->len[i] == p + 3 &&
		    !memcmp(t->text + t->off[i], s, p) && !memcmp(t->text + t->off[i] + p, "\u2026", 3))
			return (long)i;
	return -1;
}

/* model_id - 1 when the list holds the id of s under the model key. */
static int model_id(const tok_list *t, const char *s)
{
	uint64_t id = hash_token(key, s, strlen(s));
	for (size_t i = 0; i < t->n; i++)
		if (t->ids[i] == id)
			return 1;
	return 0;
}

#define HAS(s) cr_expect(has_token(&T, s), "missing [%s] in: %s", s, dump(&T))
#define HASNT(s) cr_expect(!has_token(&T, s), "unexpected [%s] in: %s", s, dump(&T))
/* IDENT - s is there as an identity token, and its text nowhere */
#define IDENT(s)                                                                            \
	do {                                                                                    \
		cr_expect(ident_index(&T, s) >= 0, "missing identity [%s] in: %s", s, dump(&T));    \
		cr_expect(!model_id(&T, s), "[%s] under the model key in: %s", s, dump(&T));        \
		HASNT(s);                                                                           \
	} while (0)

/* comment - a comment from field/value pairs, NULL-terminated. */
static thresh_comment *comment(const char *field, ...)
{
	thresh_comment *c;
	va_list ap;
	cr_assert_eq(thresh_comment_new(&c), 0);
	va_start(ap, field);
	for (const char *f = field; f; f = va_arg(ap, const char *)) {
		const char *v = va_arg(ap, const char *);
		int rc = thresh_comment_set(c, f, v, (size_t)-1);
		cr_assert_eq(rc, 0, "set %s: %s", f, thresh_strerror(rc));
	}
	va_end(ap);
	return c;
}

/* tok - tokenize a comment of these fields with features f into T. */
static int tok(uint32_t f, const char *field, ...)
{
	thresh_comment *c;
	va_list ap;
	cr_assert_eq(thresh_comment_new(&c), 0);
	va_start(ap, field);
	for (const char *fl = field; fl; fl = va_arg(ap, const char *)) {
		const char *v = va_arg(ap, const char *);
		int rc = thresh_comment_set(c, fl, v, (size_t)-1);
		cr_assert_eq(rc, 0, "set %s: %s", fl, thresh_strerror(rc));
	}
	va_end(ap);
	int rc = tok_comment(&T, c, f, key, ikey);
	thresh_comment_free(c);
	return rc;
}

/* content - tokenize content alone with the default feature set. */
static void content(const char *text)
{
	int rc = tok(TOK_F_DEFAULT, "content", text, NULL);
	cr_assert_eq(rc, 0, "tok_comment: %s", thresh_strerror(rc));
}

static void content_f(uint32_t f, const char *text)
{
	int rc = tok(f, "content", text, NULL);
	cr_assert_eq(rc, 0, "tok_comment: %s", thresh_strerror(rc));
}

/* ------------------------------------------------------------------ HTML */

Test(tokenize, html_entities_decoded)
{
	content("fish&nbsp;chips &#x46;&#82;&#69;&#69; it&#39;s rock&apos;n &quot;quoted&quot; "
	        "&lt;b&gt;bold&lt;/b&gt; caf&#233; AT&amp;T &#8220;smart&#8221;");
	HAS("fish");
	HAS("chips");
	HASNT("nbsp");
	HAS("free");
	HAS("it's");
	HAS("rock'n");
	HAS("quoted");
	HASNT("quot");
	HAS("bold");  /* a decoded "<b>" is text, not a tag: */
	HAS("b");
	HAS("café");
	HAS("at");
	HAS("t");
	HASNT("amp");
	HAS("smart");
}

Test(tokenize, html_entity_edge_cases)
{
	/* Out-of-range, NUL and surrogate references become U+FFFD, unknown
	 * names stay text, a bare '&' is punctuation. */
	content("a&#0;b c&#xD800;d e&#99999999999;f &bogus; & g&#;h &#x;");
	HAS("a");
	HAS("b");
	HAS("c");
	HAS("d");
	HAS("e");
	HAS("f");
	HAS("bogus");
	HAS("g");
	HAS("h");
}

Test(tokenize, html_tags_dropped_link_targets_kept)
{
	content("<p>Hello<br>world</p><div class=\"x\">Buy <a href=\"https://Spam.example.com/buy?now=1\" "
	        "title='x>y'>cheap</a></div><img src='http://img.example.net/x.png' alt=photo/>");
	HAS("hello");
	HAS("world");
	HASNT("helloworld");
	HAS("buy");
	HAS("cheap");
	HASNT("p");
	HASNT("br");
	HASNT("div");
	HASNT("href");
	HASNT("class");
	HASNT("title");
	HASNT("alt");
	HASNT("photo");
	HAS("url:spam.example.com/buy?now=1");
	HAS("url-host:spam.example.com");
	HAS("url-domain:example.com");
	HAS("url:img.example.net/x.png");
	HAS("url-host:img.example.net");
	HAS("links:2");
}

Test(tokenize, html_inline_tags_and_comments_join_words)
{
	content("v<b></b>iagra fr<!-- hidden -->ee c<span style=\"x\">a</span>sino");
	HAS("viagra");
	HAS("free");
	HAS("casino");
	HASNT("hidden");
	HASNT("style");
}

Test(tokenize, html_lookalikes_are_text)
{
	/* '<' not followed by a tag name, and a tag that never closes. */
	content("a < b and c > d, 3<4, <3 love <a href=\"x.com");
	HAS("a");
	HAS("b");
	HAS("and");
	HAS("c");
	HAS("d");
	HAS("love");
	HAS("href");
}

Test(tokenize, html_data_uri_dropped)
{
	content("<img src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUg\"> pic");
	HAS("pic");
	HASNT("ivborw0kggoaaaansuheug");
	HASNT("base64");
	HAS("links:0");
}

/* --------------------------------------------------------- normalization */

Test(tokenize, zero_width_characters_dropped)
{
	content("fr\u200Bee \uFEFFhello sp\u00ADam mon\u200Cey cl\u200Dick w\u2060in");
	HAS("free");
	HAS("hello");
	HAS("spam");
	HAS("money");
	HAS("click");
	HAS("win");
	HASNT("fr");
	HASNT("ee");
	HASNT("sp");
	HASNT("am");
}

Test(tokenize, nfkc)
{
	content("\uFF26\uFF32\uFF25\uFF25 \uFB01nance \u2460 \uFF48\uFF54\uFF54\uFF50://\uFF45\uFF58.\uFF43\uFF4F\uFF4D "
	        "\uFF76\uFF80\uFF76\uFF85");
	HAS("free");    /* fullwidth */
	HAS("finance"); /* the fi ligature */
	HAS("num:1");   /* circled one */
	HAS("url-host:ex.com");
	HAS("cjk:カタ"); /* halfwidth katakana */
	HASNT("ｆｒｅｅ");
}

Test(tokenize, case_folding)
{
	content("HeLLo Straße GROSS ΣΊΣΥΦΟΣ");
	HAS("hello");
	HAS("strasse");
	HAS("gross");
	HAS("σίσυφοσ");
	HASNT("HeLLo");
}

Test(tokenize, apostrophes)
{
	content("don't won\u2019t 'quoted' rock''n");
	HAS("don't");
	HAS("won't");
	HAS("quoted");
	HASNT("'quoted'");
	HAS("rock");
	HAS("n");
	HAS("punct:''");
}

/* ------------------------------------------------------------- scripts */

Test(tokenize, cjk_chinese_bigrams)
{
	content("我爱北京 好");
	HAS("cjk:我爱");
	HAS("cjk:爱北");
	HAS("cjk:北京");
	HAS("cjk:好");
	HASNT("cjk:我");
	HASNT("我爱北京");
	cr_expect_eq(count_prefix(&T, "cjk:"), 4, "%s", dump(&T));
}

Test(tokenize, cjk_japanese_bigrams_across_scripts)
{
	content("こんにちは世界。カタカナ");
	HAS("cjk:こん");
	HAS("cjk:ちは");
	HAS("cjk:は世");
	HAS("cjk:世界");
	HAS("cjk:カタ");
	HAS("cjk:カナ");
	HASNT("cjk:界。");
}

Test(tokenize, cjk_mixed_with_latin_and_long_runs)
{
	/* A long run keeps every bigram, up to the last one. */
	char buf[3 * 3000 + 64];
	size_t n = 0;
	for (int i = 0; i < 2998; i++) {
		memcpy(buf + n, "一", 3);
		n += 3;
	}
	memcpy(buf + n, "二三 abc中文", strlen("二三 abc中文") + 1);
	content(buf);
	HAS("cjk:一一");
	HAS("cjk:一二");
	HAS("cjk:二三");
	HAS("abc");
	HAS("cjk:中文");
}

Test(tokenize, thai_run_not_dropped)
{
	content("สวัสดีครับ");
	HAS("cjk:สว");
	HAS("cjk:ับ");
	cr_expect_eq(count_prefix(&T, "cjk:"), 9, "%s", dump(&T));
}

Test(tokenize, hangul_is_spaced_words)
{
	content("안녕하세요 세계");
	HAS("안녕하세요");
	HAS("세계");
	cr_expect_eq(count_prefix(&T, "cjk:"), 0, "%s", dump(&T));
}

Test(tokenize, russian_words)
{
	content("Привет, МИР! Купить дёшево");
	HAS("привет");
	HAS("мир");
	HAS("купить");
	HAS("дёшево");
	HAS("pair:привет мир");
}

/* ----------------------------------------------------------- bad input */

/* Fill a field directly, bypassing thresh_comment_set's own checks. */
static int tok_raw(int field, const char *bytes, size_t len)
{
	struct thresh_comment c;
	memset(&c, 0, sizeof c);
	c.val[F_CONTENT] = (char *)"fine words";
	c.len[F_CONTENT] = strlen(c.val[F_CONTENT]);
	c.val[field] = (char *)bytes;
	c.len[field] = len;
	return tok_comment(&T, &c, TOK_F_DEFAULT, key, ikey);
}

Test(tokenize, invalid_utf8_rejected_and_list_cleared)
{
	static const struct {
		const char *what, *s;
	} bad[] = {
		{"overlong '/'", "ab\xC0\xAF" "cd"},
		{"overlong 3-byte", "\xE0\x80\xAF"},
		{"lone continuation", "x\x80y"},
		{"surrogate", "\xED\xA0\x80"},
		{"truncated 3-byte", "free \xE2\x82"},
		{"truncated 4-byte", "\xF0\x9F\x8E"},
		{"past U+10FFFF", "\xF4\x90\x80\x80"},
		{"0xFF", "\xFF"},
		{"0xC1", "\xC1\xBF"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		for (int field = F_CONTENT; field <= F_LANG; field += F_LANG) {
			cr_assert_eq(tok_raw(F_CONTENT, "good words here", 15), 0);
			cr_assert_gt(T.n, 0);
			int rc = tok_raw(field, bad[i].s, strlen(bad[i].s));
			cr_expect_eq(rc, THRESH_EUTF8, "%s in field %d: %d", bad[i].what, field, rc);
			cr_expect_eq(T.n, 0, "%s: list not cleared", bad[i].what);
			cr_expect_eq(T.text_len, 0);
		}
	}
}

Test(tokenize, nul_byte_is_a_separator)
{
	/* thresh_comment_set refuses NUL; a record filled directly survives it. */
	cr_assert_eq(tok_raw(F_CONTENT, "free\0money", 10), 0);
	HAS("free");
	HAS("money");
}

Test(tokenize, bad_arguments)
{
	thresh_comment *c = comment("content", "hi", NULL);
	cr_expect_eq(tok_comment(NULL, c, TOK_F_DEFAULT, key, ikey), THRESH_EINVAL);
	cr_expect_eq(tok_comment(&T, NULL, TOK_F_DEFAULT, key, ikey), THRESH_EINVAL);
	cr_expect_eq(tok_comment(&T, c, TOK_F_DEFAULT, NULL, ikey), THRESH_EINVAL);
	thresh_comment_free(c);
	tok_list_clear(NULL);
	tok_list_free(NULL);
}

Test(tokenize, oversized_content)
{
	/* THRESH_CONTENT_MAX bytes of distinct words. */
	char *s = malloc(THRESH_CONTENT_MAX + 1);
	size_t n = 0;
	int w = 0;
	while (n + 12 < THRESH_CONTENT_MAX)
		n += (size_t)sprintf(s + n, "w%dx ", w++);
	while (n < THRESH_CONTENT_MAX)
		s[n++] = 'z';
	s[n] = '\0';
	thresh_comment *c = comment("content", s, NULL);
	cr_assert_eq(tok_comment(&T, c, TOK_F_WORDS, key, ikey), 0);
	cr_expect(has_token(&T, "w0x"));
	char last[32];
	snprintf(last, sizeof last, "w%dx", w - 1);
	cr_expect(has_token(&T, last), "missing %s", last);
	cr_expect_eq(T.n, (size_t)w + 1, "%zu tokens for %d words", T.n, w);
	thresh_comment_free(c);

	/* One 64 KiB word, and 64 KiB of markup debris. */
	memset(s, 'a', THRESH_CONTENT_MAX);
	c = comment("content", s, NULL);
	cr_assert_eq(tok_comment(&T, c, TOK_F_DEFAULT, key, ikey), 0);
	HAS("long:alpha:256");
	HAS("shape:len:500+");
	thresh_comment_free(c);
	for (size_t i = 0; i < THRESH_CONTENT_MAX; i++)
		s[i] = "<a &#x<!--'\"=>"[i % 2 ? 0 : (i / 2) % 14];
	c = comment("content", s, NULL);
	cr_expect_eq(tok_comment(&T, c, TOK_F_DEFAULT | TOK_F_CHARGRAMS, key, ikey), 0);
	thresh_comment_free(c);
	free(s);
}

/* --------------------------------------------------------- ids and list */

Test(tokenize, duplicates_give_one_id)
{
	content("spam spam SPAM Spam ｓｐａｍ spam!");
	cr_expect_eq(count_prefix(&T, "spam"), 1, "%s", dump(&T));
	for (size_t i = 0; i < T.n; i++)
		for (size_t j = i + 1; j < T.n; j++)
			cr_expect_neq(T.ids[i], T.ids[j], "ids %zu and %zu equal", i, j);
}

/* A long comment is read in several batches (tokenize.c, TOK_BATCH): a
 * token repeated in a later batch is still dropped, the first of each kept
 * in order, and every id is its text's, whether texts are kept or not. */
Test(tokenize, long_comments_are_merged_across_batches)
{
	static const char *const words[] = {"alpha", "beta", "gamma", "delta", "eta",
	                                    "theta", "iota", "kappa", "lambda", "mu",
	                                    "a-much-longer-word-than-most", "ünïcödé", "日本語"};
	enum { NWORDS = sizeof words / sizeof words[0] };
	char text[20000];
	size_t len = 0;
	unsigned r = 1;
	for (int i = 0; i < 1500; i++) {
		r = r * 1103515245u + 12345u;
		const char *w = words[(r >> 16) % NWORDS];
		len += (size_t)snprintf(text + len, sizeof text - len, "%s%s", w, i % 7 ? " " : ". ");
	}
	content(text);
	cr_assert_gt(T.n, 300, "more distinct tokens than one batch");
	for (size_t i = 0; i < T.n; i++) {
		cr_assert_eq(T.ids[i], hash_token(key, T.text + T.off[i], T.len[i]), "token %zu", i);
		for (size_t j = i + 1; j < T.n; j++) {
			cr_assert_neq(T.ids[i], T.ids[j], "ids %zu and %zu equal", i, j);
			cr_assert(T.len[i] != T.len[j] ||
			          memcmp(T.text + T.off[i], T.text + T.off[j], T.len[i]),
			          "texts %zu and %zu equal", i, j);
		}
	}
	/* the first of each in reading order: the first word comes first */
	cr_expect(T.len[0] > 0 && !memcmp(T.text + T.off[0], text, T.len[0]));

	tok_list U;
	tok_list_init(&U);
	U.notext = 1;
	thresh_comment *c = comment("content", text, NULL);
	cr_assert_eq(tok_comment(&U, c, TOK_F_DEFAULT, key, NULL), 0);
	cr_assert_eq(U.n, T.n);
	for (size_t i = 0; i < T.n; i++) {
		cr_expect_eq(U.ids[i], T.ids[i], "token %zu", i);
		cr_expect_eq(U.gram[i], T.gram[i], "token %zu", i);
	}
	tok_list_free(&U);
	thresh_comment_free(c);
}

Test(tokenize, ids_are_keyed_hashes_of_texts)
{
	content("Free money at http://example.com now!!");
	cr_assert_gt(T.n, 5);
	for (size_t i = 0; i < T.n; i++)
		cr_expect_eq(T.ids[i], hash_token(key, T.text + T.off[i], T.len[i]), "token %zu", i);
	/* Another key, other ids for the same texts. */
	unsigned char other[HASH_MODEL_KEY_BYTES] = {0};
	thresh_comment *c = comment("content", "free", NULL);
	cr_assert_eq(tok_comment(&T, c, TOK_F_WORDS, other, ikey), 0);
	cr_assert_eq(T.n, 1);
	cr_expect_eq(T.ids[0], hash_token(other, "free", 4));
	cr_expect_neq(T.ids[0], hash_token(key, "free", 4));
	thresh_comment_free(c);
}

Test(tokenize, texts_are_back_to_back_in_first_seen_order)
{
	content_f(TOK_F_WORDS, "alpha beta alpha gamma");
	cr_assert_eq(T.n, 3, "%s", dump(&T));
	cr_expect_eq(T.text_len, strlen("alphabetagamma"));
	cr_expect_eq(memcmp(T.text, "alphabetagamma", T.text_len), 0);
	cr_expect_eq(T.off[1], 5);
	cr_expect_eq(T.len[2], 5);
}

Test(tokenize, list_reused_across_comments)
{
	/* A large comment grows the set; the next one must still see its own
	 * tokens, also those the first one had, and none of the rest. */
	char big[20000];
	size_t n = 0;
	for (int i = 0; i < 1500; i++)
		n += (size_t)sprintf(big + n, "t%d ", i);
	content(big);
	cr_assert_gt(T.n, 1500);
	content("t7 t1499 fresh t7");
	HAS("t7");
	HAS("t1499");
	HAS("fresh");
	HASNT("t8");
	cr_expect_eq(count_prefix(&T, "t"), 2, "%s", dump(&T));
	/* And a small list after a small list. */
	content("one two");
	content("two three");
	HAS("two");
	HAS("three");
	HASNT("one");
}

/* ---------------------------------------------------------- word shapes */

Test(tokenize, number_shapes)
{
	content("12345 tkts21st 2024 12345678901234567890123 ٣٤٥");
	HAS("num:5");
	HASNT("12345");
	HAS("tkts21st");
	HAS("num:4");
	HAS("num:20+");
	HAS("num:3"); /* Arabic-Indic digits are digits */
	cr_expect_eq(count_prefix(&T, "phone:"), 0, "%s", dump(&T));
}

Test(tokenize, phone_numbers)
{
	content("call 555-123-4567 now");
	HAS("phone:10");
	HAS("num:3");
	HAS("num:4");
	content("ring (555) 123 4567 or +447700900123 or 07700 900123");
	HAS("phone:10");
	HAS("phone:12");
	HAS("phone:11");
	content("version 1-2-3 and 12-34 and 2024-05");
	cr_expect_eq(count_prefix(&T, "phone:"), 0, "%s", dump(&T));
	content("1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6"); /* 16 digits: too many */
	cr_expect_eq(count_prefix(&T, "phone:"), 0, "%s", dump(&T));
}

Test(tokenize, long_words)
{
	content("abcdefghijabcdefghijabcdefghijabcdefghij "   /* 40 bytes: a word */
	        "abcdefghijabcdefghijabcdefghijabcdefghijk "  /* 41 */
	        "a1cdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd"); /* 64 */
	HAS("abcdefghijabcdefghijabcdefghijabcdefghij");
	HAS("long:alpha:40");
	HAS("long:alnum:64");
	cr_expect_eq(count_prefix(&T, "abcdefghijabcdefghijabcdefghijabcdefghijk"), 0);
}

Test(tokenize, punctuation_runs)
{
	content("wow!!!!! what?! hi! ok... $$$ :-)");
	HAS("punct:!!!+");
	HAS("punct:?!");
	HAS("punct:...");
	HAS("punct:$$$");
	HAS("punct::-)");
	HASNT("punct:!");
	cr_expect_eq(count_prefix(&T, "punct:"), 5, "%s", dump(&T));
}

Test(tokenize, emoji)
{
	content("win 🎁 now 😀😀 👍🏽 🇫🇷 ❤️ ok");
	HAS("emoji:🎁");
	HAS("emoji:😀");
	HAS("emoji:👍");
	HAS("emoji:🇫🇷");
	HAS("emoji:❤");
	HAS("has:emoji");
	HAS("pair:win now");
	cr_expect_eq(count_prefix(&T, "emoji:"), 5, "%s", dump(&T));
	content("no pictures here ©");
	HASNT("has:emoji");
}

/* --------------------------------------------------------- URLs, e-mail */

Test(tokenize, urls_with_scheme)
{
	content("Visit HTTPS://Example.co.uk/Path/page?x=1. or (see http://example.com/a_(b)).");
	HAS("url:example.co.uk/path/page?x=1");
	HAS("url-host:example.co.uk");
	HAS("url-domain:example.co.uk");
	HAS("path");
	HAS("page");
	HAS("url:example.com/a_(b)");
	HAS("url-domain:example.com");
	HASNT("https");
	HASNT("http");
}

Test(tokenize, urls_bare_and_www)
{
	content("go to murdev.com, bit.ly/xyz or www.foo.bar. and shop.example.co.uk!");
	HAS("url:murdev.com");
	HAS("url-host:murdev.com");
	HAS("url-domain:murdev.com");
	HAS("url:bit.ly/xyz");
	HAS("url-host:bit.ly");
	HAS("xyz");
	HAS("url:www.foo.bar");
	HAS("url-domain:foo.bar");
	HAS("url-host:shop.example.co.uk");
	HAS("url-domain:example.co.uk");
	HASNT("murdev");
	HAS("links:3+");
}

Test(tokenize, not_urls)
{
	content("e.g. node.js 3.14 i.e. file.txt v1.2.3 the end.It was");
	cr_expect_eq(count_prefix(&T, "url"), 0, "%s", dump(&T));
	HAS("node");
	HAS("js");
	HAS("links:0");
}

Test(tokenize, url_hosts_and_domains)
{
	content("http://user:pw@a.b.example.com:8080/x http://192.168.0.1/admin "
	        "https://example.com/ www.Example.COM.");
	HAS("url-host:a.b.example.com");
	HAS("url-domain:example.com");
	HAS("url-host:192.168.0.1");
	HAS("url-domain:192.168.0.1");
	HAS("url:example.com");   /* a lone trailing slash is dropped */
	HAS("url:www.example.com");
	HAS("url-host:www.example.com");
}

Test(tokenize, youtube_watch)
{
	content("check https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=10 and youtube.com/watchlist");
	HAS("url-path:watch");
	HAS("url:www.youtube.com/watch?v=dqw4w9wgxcq&t=10");
	HAS("url-domain:youtube.com");
	HAS("watch");
	content("see https://example.com/watch-this");
	HASNT("url-path:watch");
}

Test(tokenize, email_in_content)
{
	content("mail John.Doe+x@Mail.Example.com. or bad@nowhere");
	IDENT("email:john.doe+x@mail.example.com");
	HAS("email-domain:mail.example.com"); /* the text's: under the model key */
	HASNT("url-host:mail.example.com");
	HAS("bad");
	HAS("nowhere");
	HAS("links:0");
}

Test(tokenize, urls_off_gives_plain_words)
{
	content_f(TOK_F_WORDS | TOK_F_META, "at http://spam.com/buy and me@x.com");
	cr_expect_eq(count_prefix(&T, "url"), 0, "%s", dump(&T));
	cr_expect_eq(count_prefix(&T, "email"), 0, "%s", dump(&T));
	HAS("spam");
	HAS("buy");
	HAS("links:1"); /* links are metadata: still counted */
}

Test(tokenize, link_counts)
{
	content("nothing here");
	HAS("links:0");
	content("http://a.com and again http://a.com");
	HAS("links:1");
	content("<a href=\"http://a.com\">a.com</a>");
	HAS("links:1");
	content("a.com b.com");
	HAS("links:2");
	content("a.com b.com c.com d.com");
	HAS("links:3+");
}

/* ------------------------------------------------------------ families */

Test(tokenize, word_pairs)
{
	content("Free money now");
	HAS("pair:free money");
	HAS("pair:money now");
	HASNT("pair:free now");
	content("call 555 1234567 now");
	HAS("pair:call num:3");
	content("click http://x.com now");
	HASNT("pair:click now");
	content_f(TOK_F_WORDS, "free money");
	cr_expect_eq(count_prefix(&T, "pair:"), 0, "%s", dump(&T));
}

Test(tokenize, character_grams)
{
	/* " free a 42 ": 8 four-grams, all flagged */
	content_f(TOK_F_WORDS | TOK_F_CHARGRAMS, "Free  a\t42");
	HAS("free");
	HAS("cx: fre");
	HAS("cx:free");
	HAS("cx:ree ");
	HAS("cx:ee a");
	HAS("cx:e a ");
	HAS("cx: a 4");
	HAS("cx:a 42");
	HAS("cx: 42 ");
	HASNT("cx:  a ");
	cr_expect_eq(count_prefix(&T, "cx:"), 8, "%s", dump(&T));
	size_t grams = 0;
	for (size_t i = 0; i < T.n; i++)
		grams += T.gram[i];
	cr_expect_eq(grams, 8, "exactly the cx: tokens are flagged");
	/* punctuation and obfuscation across a space are kept */
	content_f(TOK_F_WORDS | TOK_F_CHARGRAMS, "fr ee!!");
	HAS("cx:r ee");
	HAS("cx:ee!!");
	HAS("cx:e!! ");
	content_f(TOK_F_WORDS | TOK_F_CHARGRAMS, "ab"); /* shorter than a gram with its spaces */
	HAS("cx: ab ");
	content_f(TOK_F_WORDS, "Free");
	cr_expect_eq(count_prefix(&T, "cx:"), 0, "%s", dump(&T));
}

Test(tokenize, links_are_counted)
{
	content("see http://a.example/x and https://b.example and http://a.example/x again");
	cr_expect_eq(T.links, 2);
	content("<a href=\"http://c.example\">c</a> www.d.example http://e.example http://f.example");
	cr_expect_eq(T.links, 4);
	HAS("links:3+");
	content("no links here");
	cr_expect_eq(T.links, 0);
}

Test(tokenize, shape_caps_counted_before_folding)
{
	content("BUY CHEAP PILLS NOW ok");
	HAS("shape:caps:3+");
	content("OK go MP3");
	HAS("shape:caps:0");
	content("FREE stuff");
	HAS("shape:caps:1");
	content("\uFF26\uFF32\uFF25\uFF25 and F\u200BREE");
	HAS("shape:caps:2");
	content_f(TOK_F_WORDS, "BUY NOW");
	cr_expect_eq(count_prefix(&T, "shape:"), 0);
}

Test(tokenize, shape_length_buckets)
{
	static const struct {
		size_t len;
		const char *tok;
	} b[] = {{0, "shape:len:0-19"},     {19, "shape:len:0-19"},     {20, "shape:len:20-49"},
	         {99, "shape:len:50-99"},   {100, "shape:len:100-199"}, {499, "shape:len:200-499"},
	         {500, "shape:len:500+"}};
	char s[600];
	for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) {
		memset(s, 'x', b[i].len);
		s[b[i].len] = '\0';
		content(s);
		cr_expect(has_token(&T, b[i].tok), "length %zu: %s", b[i].len, dump(&T));
		cr_expect_eq(count_prefix(&T, "shape:len:"), 1);
	}
}

Test(tokenize, words_always_on)
{
	content_f(0, "Free http://x.com money 42!!");
	HAS("free");
	HAS("money");
	HAS("num:2");
	HAS("punct:!!");
	cr_expect_eq(count_prefix(&T, "url"), 0, "%s", dump(&T));
	cr_expect_eq(count_prefix(&T, "pair:"), 0);
	cr_expect_eq(count_prefix(&T, "shape:"), 0);
	cr_expect_eq(count_prefix(&T, "links:"), 0);
}

/* ------------------------------------------------------------ metadata */

Test(tokenize, metadata_tokens)
{
	int rc = tok(TOK_F_DEFAULT, "content", "hello", "author", "  John \t SMITH ",
	             "email", "Bob@Mail.Example.COM", "url", "HTTPS://www.Example.co.uk:8080/blog",
	             "ip", "203.0.113.77", "user_agent", "python-requests/2.31.0",
	             "referrer", "https://user@Ref.Example.org:443/p?q=1", "type", "Comment",
	             "lang", "en, fr_CA", "permalink", "https://blog.example/post", NULL);
	cr_assert_eq(rc, 0);
	IDENT("author:john smith");
	IDENT("author-word:john");
	IDENT("author-word:smith");
	IDENT("email-domain:mail.example.com");
	IDENT("url-host:www.example.co.uk");
	IDENT("url-domain:example.co.uk");
	HAS("has:author-url");
	IDENT("ip24:203.0.113");
	HAS("ua:python-requests");
	HAS("ref-host:ref.example.org");
	HAS("type:comment");
	HAS("lang:en");
	HAS("lang:fr_ca");
	HAS("links:0");
	HASNT("url-host:blog.example");
}

Test(tokenize, metadata_ipv6)
{
	cr_assert_eq(tok(TOK_F_DEFAULT, "ip", "2001:DB8:00AB:1:2:3:4:5", NULL), 0);
	IDENT("ip48:2001:db8:ab");
	cr_assert_eq(tok(TOK_F_DEFAULT, "ip", "2001:db8::1", NULL), 0);
	IDENT("ip48:2001:db8:0");
	cr_assert_eq(tok(TOK_F_DEFAULT, "ip", "[fe80::1%eth0]", NULL), 0);
	IDENT("ip48:fe80:0:0");
	cr_assert_eq(tok(TOK_F_DEFAULT, "ip", "::ffff:198.51.100.9", NULL), 0);
	IDENT("ip24:198.51.100");
	cr_assert_eq(tok(TOK_F_DEFAULT, "ip", "not an ip", NULL), 0);
	HAS("ip:invalid");
	cr_assert_eq(tok(TOK_F_DEFAULT, "ip", "300.1.2.3", NULL), 0);
	HAS("ip:invalid");
}

Test(tokenize, metadata_odd_values)
{
	cr_assert_eq(tok(TOK_F_DEFAULT, "email", "nobody", "user_agent", "", "author", "   ",
	                 "url", "", "type", "", NULL), 0);
	HAS("has:bad-email");
	HAS("ua:empty");
	cr_expect_eq(count_prefix(&T, "author"), 0, "%s", dump(&T));
	HASNT("has:author-url");
	cr_expect_eq(count_prefix(&T, "type:"), 0);
	cr_assert_eq(tok(TOK_F_DEFAULT, "author", "山田太郎 O\u2019Brien", "user_agent",
	                 "Mozilla/5.0 (X11; Linux)", NULL), 0);
	IDENT("author:山田太郎 o'brien");
	IDENT("author-word:山田太郎");
	IDENT("author-word:o'brien");
	HAS("ua:mozilla");
}

Test(tokenize, metadata_off)
{
	cr_assert_eq(tok(TOK_F_WORDS | TOK_F_URLS, "content", "hi", "author", "John",
	                 "email", "a@b.com", "ip", "1.2.3.4", "url", "http://x.com", NULL), 0);
	HAS("hi");
	cr_expect_eq(T.n, 1, "%s", dump(&T));
}

/* Identity tokens: under the identity key, placeholders for texts, left
 * out without the key; the text's own links and e-mail domains stay under
 * the model key, and the same text from both gives two tokens. */
Test(tokenize, identity_tokens_are_keyed_apart)
{
	cr_assert_eq(tok(TOK_F_DEFAULT, "content", "see www.ann.example or mail ann@mail.example",
	                 "author", "Ann", "email", "ann@mail.example", "url", "https://www.ann.example/",
	                 "ip", "192.0.2.44", NULL), 0);
	/* the url field's host, and the text's link's */
	cr_expect(ident_index(&T, "url-host:www.ann.example") >= 0, "%s", dump(&T));
	HAS("url-host:www.ann.example");
	cr_expect(ident_index(&T, "email-domain:mail.example") >= 0, "%s", dump(&T));
	HAS("email-domain:mail.example");
	IDENT("email:ann@mail.example");
	IDENT("author:ann");
	IDENT("ip24:192.0.2");
	size_t idents = 0;
	for (size_t i = 0; i < T.n; i++) {
		idents += T.ident[i];
		char text[64];
		snprintf(text, sizeof text, "%.*s", (int)T.len[i], T.text + T.off[i]);
		cr_expect(!T.ident[i] || (!strstr(text, "ann") && !strstr(text, "192")),
		          "an identity shown: %s", text);
	}
	/* author:, author-word:, email-domain:, url-host:, url-domain:, ip24:, email: */
	cr_expect_eq(idents, 7, "%s", dump(&T));
	size_t with = T.n;

	/* without the identity key (the prior's training) they are left out */
	thresh_comment *c = comment("content", "see www.ann.example or mail ann@mail.example",
	                            "author", "Ann", "email", "ann@mail.example", "url",
	                            "https://www.ann.example/", "ip", "192.0.2.44", NULL);
	cr_assert_eq(tok_comment(&T, c, TOK_F_DEFAULT, key, NULL), 0);
	cr_expect_eq(T.n, with - idents, "%s", dump(&T));
	for (size_t i = 0; i < T.n; i++)
		cr_expect(!T.ident[i]);
	HAS("url-host:www.ann.example");
	HAS("has:author-url");
	cr_expect_eq(count_prefix(&T, "author"), 0, "%s", dump(&T));
	cr_expect_eq(count_prefix(&T, "ip24"), 0, "%s", dump(&T));
	cr_expect_eq(count_prefix(&T, "email:"), 0, "%s", dump(&T));

	/* ids only (a learn): the same ids and flags */
	tok_list U;
	tok_list_init(&U);
	U.notext = 1;
	cr_assert_eq(tok_comment(&U, c, TOK_F_DEFAULT, key, ikey), 0);
	cr_assert_eq(tok_comment(&T, c, TOK_F_DEFAULT, key, ikey), 0);
	cr_assert_eq(U.n, T.n);
	for (size_t i = 0; i < T.n; i++) {
		cr_expect_eq(U.ids[i], T.ids[i]);
		cr_expect_eq(U.ident[i], T.ident[i]);
	}
	tok_list_free(&U);
	thresh_comment_free(c);
}

Test(tokenize, ip24_text_is_the_tokenizers)
{
	char t[TOK_IP24_MAX + 1];
	size_t n = tok_ip24_text(t, 203, 0, 113);
	t[n] = '\0';
	cr_expect_str_eq(t, "ip24:203.0.113");
	n = tok_ip24_text(t, 255, 255, 255);
	cr_expect_eq(n, (size_t)TOK_IP24_MAX);
	for (unsigned a = 0; a < 256; a += 51)
		for (unsigned c = 0; c < 256; c += 17) {
			char ip[32];
			snprintf(ip, sizeof ip, "%u.%u.%u.9", a, (a * 7 + c) % 256, c);
			cr_assert_eq(tok(TOK_F_DEFAULT, "ip", ip, NULL), 0);
			n = tok_ip24_text(t, a, (a * 7 + c) % 256, c);
			t[n] = '\0';
			IDENT(t);
		}
}

/* ----------------------------------------------------------- robustness */

/* Random text from a palette of troublesome pieces, valid UTF-8 always. */
Test(tokenize, random_text_never_fails)
{
	static const char *const piece[] = {
		"<", ">", "&", "&#", "x", ";", "<a href=\"", "\"", "'", "<!--", "-->", "http://",
		"www.", ".", ".com", "@", "/", "?v=", " ", "\n", "5", "-", "(", ")", "+", "!",
		"é", "\u200B", "\uFEFF", "中", "ก", "ー", "😀", "🏽", "🇫", "\u0301", "ﬁ", "Ａ",
		"ß", "'", "\u2019", "_", "%", ":", "[", "]", "\xF4\x8F\xBF\xBF", "\uFDFA",
	};
	unsigned long long r = 88172645463325252ULL;
	char *s = malloc(8192 + 64);
	for (int iter = 0; iter < 300; iter++) {
		size_t n = 0, want = (size_t)(iter * 27 % 8192);
		while (n < want) {
			r ^= r << 13, r ^= r >> 7, r ^= r << 17;
			const char *p = piece[r % (sizeof piece / sizeof piece[0])];
			size_t k = strlen(p);
			memcpy(s + n, p, k);
			n += k;
		}
		s[n] = '\0';
		size_t half = n / 2;
		while (((unsigned char)s[half] & 0xC0) == 0x80)
			half++;
		thresh_comment *c = comment("content", s, "author", s + half, NULL);
		int rc = tok_comment(&T, c, 0xFF, key, ikey);
		cr_assert_eq(rc, 0, "iteration %d: %s", iter, thresh_strerror(rc));
		for (size_t i = 0; i < T.n; i++) {
			cr_assert_leq(T.off[i] + T.len[i], T.text_len);
			if (T.ident[i]) /* its text a placeholder: "author:…" */
				cr_assert(T.len[i] >= 4 && !memcmp(T.text + T.off[i] + T.len[i] - 4, ":\u2026", 4));
			else
				cr_assert_eq(T.ids[i], hash_token(key, T.text + T.off[i], T.len[i]));
		}
		thresh_comment_free(c);
	}
	free(s);
}

/* ------------------------------------------------ comments in other scripts */

static int contains(const char *hay, size_t n, const void *needle, size_t k)
{
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return 1;
	return 0;
}

/* every_letter_kept - each letter of text (case-folded) appears in a token
 * other than a character gram: no script is silently dropped. */
static void every_letter_kept(const char *text)
{
	utf8proc_uint8_t *folded = NULL;
	utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)text, -1, &folded,
	                                  UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE |
	                                      UTF8PROC_COMPAT | UTF8PROC_CASEFOLD);
	cr_assert_geq(n, 0);
	content_f(TOK_F_DEFAULT & ~TOK_F_CHARGRAMS, text);
	for (utf8proc_ssize_t i = 0; i < n;) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate(folded + i, n - i, &cp);
		cr_assert_gt(k, 0);
		utf8proc_category_t cat = utf8proc_category(cp);
		if (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) {
			int found = 0;
			for (size_t t = 0; t < T.n && !found; t++)
				found = contains(T.text + T.off[t], T.len[t], folded + i, (size_t)k);
			cr_expect(found, "U+%04X of \"%s\" is in no token: %s", (unsigned)cp, text, dump(&T));
		}
		i += k;
	}
	free(folded);
}

Test(tokenize, vietnamese_words_with_diacritics)
{
	content("Bài hát này hay quá! Cảm ơn bạn");
	HAS("bài");
	HAS("hát");
	HAS("này");
	HAS("quá");
	HAS("cảm");
	HAS("ơn");
	HAS("pair:cảm ơn");
	/* decomposed input (NFD, as some keyboards send it) gives the same tokens */
	content("Ba\xcc\x80i ha\xcc\x81t");
	HAS("bài");
	HAS("hát");
	cr_expect_eq(count_prefix(&T, "cjk:"), 0, "Vietnamese is spaced: %s", dump(&T));
}

Test(tokenize, comments_in_five_scripts_keep_every_letter)
{
	static const char *const comments[] = {
		"这首歌真好听，我每天都听。点击这里免费领取红包：www.example.cn",   /* Chinese */
		"この曲は本当に最高です！チャンネル登録お願いします",              /* Japanese */
		"เพลงนี้เพราะมากครับ สมัครสมาชิกช่องของฉันด้วย",                  /* Thai */
		"Bài hát này hay quá! Đăng ký kênh của tôi nhé",                     /* Vietnamese */
		"Отличная песня! Подпишитесь на мой канал, КУПИТЬ дёшево",           /* Russian */
	};
	for (size_t i = 0; i < sizeof comments / sizeof comments[0]; i++)
		every_letter_kept(comments[i]);
	/* and a long unspaced run is covered to its end (bogofilter drops such runs) */
	char buf[3 * 400 + 1];
	for (int i = 0; i < 400; i++)
		memcpy(buf + 3 * i, i % 2 ? "好" : "听", 3);
	buf[3 * 400] = '\0';
	content(buf);
	HAS("cjk:听好");
	HAS("cjk:好听");
}
