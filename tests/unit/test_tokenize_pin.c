/* src/lib/tokenize.c, its token ids pinned: a fixed multilingual corpus and,
 * for each comment, a digest of the tokens the tokenizer makes of it (ids,
 * texts, the gram flag, in order) under a fixed model key, with every
 * feature family on.
 *
 * A model stores nothing but these ids, so a tokenizer change that moves an
 * id silently turns a trained model into noise. Any such change must be a new
 * feature bit or tokenizer version, never an accident of refactoring: this
 * test fails on any difference and prints the comment's tokens.
 *
 * The digests were taken before tokenize.c was split into utf8.c, html.c,
 * url.c and the token rules, and again when identity tokens got a key of
 * their own and placeholder texts (the first table). The second table,
 * ids and gram flags alone, was taken before that: with the identity key
 * set to the model key the ids are still those, and with another identity
 * key only the identity tokens' ids move. To print the first table anew
 * (only for a deliberate, versioned tokenizer change):
 * THRESH_PIN_PRINT=1 ./test_tokenize_pin */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comment_int.h"
#include "hash.h"
#include "thresh/thresh.h"
#include "tokenize.h"

static const unsigned char key[HASH_MODEL_KEY_BYTES] = {
	0x70, 0x69, 0x6e, 0x6e, 0x65, 0x64, 0x2d, 0x74, 0x6f, 0x6b, 0x65, 0x6e, 0x2d, 0x69, 0x64, 0x73,
};
static const unsigned char ikey[HASH_MODEL_KEY_BYTES] = {
	0x70, 0x69, 0x6e, 0x6e, 0x65, 0x64, 0x2d, 0x69, 0x64, 0x65, 0x6e, 0x74, 0x69, 0x74, 0x79, 0x21,
};

/* Up to six field/value pairs; a NULL name, or the end, ends the list. */
struct pin_comment {
	const char *f[12];
};

static const struct pin_comment corpus[] = {
	{{"content", "Check out my channel!!! http://bit.ly/3xYz subscribe plz :)"}},
	{{"content", "Great song, I've listened to it 1,000,000 times since 2012.",
	  "author", "Ann Smith", "email", "Ann.Smith+yt@Example.COM"}},
	{{"content", "<p>Cheap <b>pills</b> &amp; more at <a href=\"https://www.pharma-deals.example.co.uk/buy?id=7&amp;ref=x\">our shop</a></p>",
	  "url", "https://pharma-deals.example.co.uk", "ip", "203.0.113.77"}},
	{{"content", "Schöne Grüße aus München – das Lied ist großartig! Straße, Fußball, ÄÖÜ."}},
	{{"content", "C'est très beau, j’adore cette chanson ! À bientôt, Noël & Zoë."}},
	{{"content", "¡Qué canción tan bonita! Mañana la escucho otra vez, señor."}},
	{{"content", "Отличная песня, слушаю каждый день. Спасибо! ЁЖИК в тумане"}},
	{{"content", "أغنية رائعة جدا، شكرا لكم ❤️", "lang", "ar"}},
	{{"content", "שיר נהדר, תודה רבה! 👍"}},
	{{"content", "बहुत अच्छा गाना है, धन्यवाद! नमस्ते"}},
	{{"content", "เพลงนี้เพราะมากครับ ขอบคุณ"}},
	{{"content", "这首歌真好听，我每天都听。加微信：abc123 免费领取"}},
	{{"content", "この曲は本当に素晴らしいです！カタカナとひらがな、漢字。ｶﾀｶﾅ半角"}},
	{{"content", "정말 좋은 노래예요 감사합니다"}},
	{{"content", "Bài hát này thật tuyệt vời, cảm ơn bạn rất nhiều!"}},
	{{"content", "İSTANBUL'da ılık bir gün; Ὀδυσσεύς ΣΊΣΥΦΟΣ σοφός"}},
	{{"content", "🔥🔥🔥 👍🏽 🇩🇪🇺🇸 👨‍👩‍👧‍👦 ✌️ 😂😂"}},
	{{"content", "zero\xe2\x80\x8bwidth\xe2\x80\x8c join\xef\xbb\xbf here and ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ ﬁne"}},
	{{"content", "Call +1 (555) 123-4567 or 0800 123 456 now, only $9.99 / 49,95 € / ¥1000!!!"}},
	{{"content", "Mail me: winner@lottery-prize.example.net, or visit www.free-iphone.example.com/claim."}},
	{{"content", "FREE FREE FREE!!! CLICK HERE ===> http://xn--80ak6aa92e.example/?q=%D0%B0 <==="}},
	{{"content", "supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}},
	{{"content", "2:19 is the best part... ... ??? !!! ?!?! --- *** ~~~"}},
	{{"content", "I  love\tthis\r\nsong\n\nso   much"}},
	{{"content", "Visit https://youtube.com/watch?v=dQw4w9WgXcQ&t=42s and https://youtu.be/dQw4w9WgXcQ"},
	 },
	{{"content", "&lt;script&gt;alert(1)&lt;/script&gt; &#x1F600; &#128512; &nbsp;&copy;&unknown; &#0;"}},
	{{"content", "<img src=\"data:image/png;base64,AAAA\"><a href='javascript:void(0)'>x</a><!-- hidden -->visible<br/>text"}},
	{{"content", "Nice post!", "author", "★☆ Cheap Viagra ☆★", "email", "x@mail.example.ru",
	  "url", "http://cheap-meds.example.ru/", "ip", "2001:db8:85a3::8a2e:370:7334",
	  "user_agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"}},
	{{"content", "Thanks for the tutorial", "author", "李小龙", "referrer",
	  "https://blog.example.org/2026/11/post", "permalink", "https://blog.example.org/?p=12",
	  "type", "comment", "lang", "zh-CN"}},
	{{"content", "ok", "ip", "192.168.001.010", "type", "trackback"}},
	{{"content", "Ｔｈｅ ｑｕｉｃｋ ｂｒｏｗｎ ｆｏｘ — “smart quotes” and ‘single’ … ellipsis"}},
	{{"content", "Mixed русский and English and 日本語 in one 文 sentence with emoji 🎵🎶"}},
	{{"content", "ALL CAPS SHOUTING IS VERY SPAMMY AND ANNOYING"}},
	{{"content", "a"}},
	{{"content", ""}},
};

#define NCORPUS (sizeof corpus / sizeof corpus[0])

/* The pinned table: tokens made, distinct links, and the digest. */
struct pin {
	size_t n;
	unsigned links;
	uint64_t digest;
};

static const struct pin pinned[NCORPUS] = {
#include "tokenize_pin.inc"
};

static const struct pin pinned_ids[NCORPUS] = {
#include "tokenize_pin_ids.inc"
};

/* digest - FNV-1a over every token's id (little-endian), text length, text
 * and gram flag, in list order. */
static uint64_t digest(const tok_list *t)
{
	uint64_t h = 0xcbf29ce484222325ull;
#define MIX(byte) (h = (h ^ (unsigned char)(byte)) * 0x100000001b3ull)
	for (size_t i = 0; i < t->n; i++) {
		for (int b = 0; b < 8; b++)
			MIX(t->ids[i] >> (8 * b));
		for (int b = 0; b < 4; b++)
			MIX(t->len[i] >> (8 * b));
		for (uint32_t k = 0; k < t->len[i]; k++)
			MIX(t->text[t->off[i] + k]);
		MIX(t->gram[i]);
	}
#undef MIX
	return h;
}

/* digest_ids - the same over ids and gram flags alone. */
static uint64_t digest_ids(const tok_list *t)
{
	uint64_t h = 0xcbf29ce484222325ull;
#define MIX(byte) (h = (h ^ (unsigned char)(byte)) * 0x100000001b3ull)
	for (size_t i = 0; i < t->n; i++) {
		for (int b = 0; b < 8; b++)
			MIX(t->ids[i] >> (8 * b));
		MIX(t->gram[i]);
	}
#undef MIX
	return h;
}

static void tokens_with(size_t i, tok_list *t, const unsigned char *ident)
{
	thresh_comment *c;
	cr_assert_eq(thresh_comment_new(&c), 0);
	for (size_t k = 0; k + 1 < sizeof corpus[i].f / sizeof corpus[i].f[0] && corpus[i].f[k]; k += 2) {
		int rc = thresh_comment_set(c, corpus[i].f[k], corpus[i].f[k + 1], (size_t)-1);
		cr_assert_eq(rc, 0, "comment %zu: set %s: %s", i, corpus[i].f[k], thresh_strerror(rc));
	}
	int rc = tok_comment(t, c, TOK_F_DEFAULT, key, ident);
	cr_assert_eq(rc, 0, "comment %zu: %s", i, thresh_strerror(rc));
	thresh_comment_free(c);
}

static void tokens_of(size_t i, tok_list *t)
{
	tokens_with(i, t, ikey);
}

Test(tokenize_pin, ids_of_a_multilingual_corpus_unchanged)
{
	tok_list t;
	int print = getenv("THRESH_PIN_PRINT") != NULL;
	cr_assert_eq(hash_init(), 0);
	tok_list_init(&t);
	for (size_t i = 0; i < NCORPUS; i++) {
		tokens_of(i, &t);
		uint64_t d = digest(&t);
		if (print) {
			printf("\t{%zu, %u, 0x%016llxull},\n", t.n, t.links, (unsigned long long)d);
			continue;
		}
		if (t.n == pinned[i].n && t.links == pinned[i].links && d == pinned[i].digest)
			continue;
		fprintf(stderr, "comment %zu changed: %zu tokens (pinned %zu), %u links (pinned %u):\n",
		        i, t.n, pinned[i].n, t.links, pinned[i].links);
		for (size_t k = 0; k < t.n; k++)
			fprintf(stderr, "  %016llx %.*s\n", (unsigned long long)t.ids[k], (int)t.len[k],
			        t.text + t.off[k]);
		cr_expect_fail("comment %zu: the tokenizer's output changed", i);
	}
	tok_list_free(&t);
}

/* With the identity key equal to the model key, identity tokens have the
 * ids every token had before they got a key of their own: every id and its
 * place in the list is as it was. With another identity key, only identity
 * tokens move: the others keep their ids, in the same order. */
Test(tokenize_pin, only_identity_tokens_moved)
{
	tok_list a, b;
	size_t idents = 0;
	cr_assert_eq(hash_init(), 0);
	tok_list_init(&a);
	tok_list_init(&b);
	for (size_t i = 0; i < NCORPUS; i++) {
		tokens_with(i, &a, key);
		cr_expect(a.n == pinned_ids[i].n && a.links == pinned_ids[i].links &&
		              digest_ids(&a) == pinned_ids[i].digest,
		          "comment %zu: ids moved with the identity key set to the model key", i);
		tokens_with(i, &b, ikey);
		/* the tokens other than identity tokens, in order (under one key,
		 * an identity token whose text the content has too was one) */
		size_t ka = 0, kb = 0;
		for (;; ka++, kb++) {
			while (ka < a.n && a.ident[ka])
				ka++;
			while (kb < b.n && b.ident[kb]) {
				cr_expect_neq(b.ids[kb], hash_token(key, "", 0));
				kb++, idents++;
			}
			if (ka == a.n || kb == b.n)
				break;
			cr_expect_eq(a.ids[ka], b.ids[kb], "comment %zu token %zu", i, kb);
			cr_expect_eq(a.gram[ka], b.gram[kb]);
		}
		cr_expect(ka == a.n && kb == b.n, "comment %zu: %zu and %zu tokens", i, a.n, b.n);
	}
	cr_expect_eq(idents, 17, "the corpus has 17 identity tokens (%zu)", idents);
	tok_list_free(&a);
	tok_list_free(&b);
}

/* The table covers every comment, and no two comments give the same tokens
 * (a digest that ignored its input would pass the test above only if the
 * table were made of it). */
Test(tokenize_pin, table_is_whole_and_distinct)
{
	for (size_t i = 0; i < NCORPUS; i++) {
		cr_expect(pinned[i].digest != 0, "comment %zu has no pinned digest", i);
		for (size_t j = 0; j < i; j++)
			cr_expect(pinned[i].digest != pinned[j].digest, "comments %zu and %zu pin alike", j, i);
	}
}
