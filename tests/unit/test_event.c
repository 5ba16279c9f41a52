/* src/lib/event.c: events and undo records, encoded and decoded, and the
 * malformed ones refused. */
#include <criterion/criterion.h>
#include <string.h>

#include "event.h"
#include "thresh/error.h"

static event sample(uint64_t *ids, unsigned char *gram, size_t n, int author)
{
	event e;
	memset(&e, 0, sizeof e);
	e.op = EV_UNLEARN;
	e.label = 1;
	e.has_author = author;
	for (int i = 0; i < 16; i++) {
		e.digest[i] = (unsigned char)(i * 7);
		e.author[i] = author ? (unsigned char)(200 - i) : 0;
	}
	e.day = 20418;
	e.tokenizer = 63;
	e.keyfp = 0x0123456789abcdefULL;
	for (size_t i = 0; i < n; i++) {
		ids[i] = 0x9e3779b97f4a7c15ULL * (i + 1);
		gram[i] = (unsigned char)(i % 3 == 0);
	}
	e.n = n;
	e.ids = ids;
	e.gram = gram;
	return e;
}

Test(event, round_trip)
{
	uint64_t ids[19];
	unsigned char gram[19];
	for (int author = 0; author < 2; author++) {
		for (size_t n = 0; n <= 19; n += 9) {
			event e = sample(ids, gram, n, author);
			unsigned char *buf;
			size_t len;
			event_buf b;
			cr_assert_eq(event_encode(&e, &buf, &len), 0);
			cr_assert_eq(event_decode(buf, len, &b), 0);
			cr_expect_eq(b.ev.op, e.op);
			cr_expect_eq(b.ev.label, e.label);
			cr_expect_eq(b.ev.has_author, author);
			cr_expect_eq(memcmp(b.ev.digest, e.digest, 16), 0);
			if (author)
				cr_expect_eq(memcmp(b.ev.author, e.author, 16), 0);
			cr_expect_eq(b.ev.day, e.day);
			cr_expect_eq(b.ev.tokenizer, e.tokenizer);
			cr_expect_eq(b.ev.keyfp, e.keyfp);
			cr_assert_eq(b.ev.n, n);
			for (size_t i = 0; i < n; i++) {
				cr_expect_eq(b.ev.ids[i], ids[i]);
				cr_expect_eq(b.ev.gram[i], gram[i]);
			}
			/* every shorter prefix and a byte more are refused */
			for (size_t cut = 0; cut < len; cut++) {
				event_buf x;
				cr_expect_eq(event_decode(buf, cut, &x), THRESH_EFORMAT, "cut at %zu", cut);
			}
			event_buf_free(&b);
			free(buf);
		}
	}
}

Test(event, refuses_other_versions_and_ops)
{
	uint64_t ids[2];
	unsigned char gram[2];
	event e = sample(ids, gram, 2, 0);
	unsigned char *buf;
	size_t len;
	event_buf b;
	cr_assert_eq(event_encode(&e, &buf, &len), 0);
	buf[2] = EVENT_VERSION + 1;
	cr_expect_eq(event_decode(buf, len, &b), THRESH_EFORMAT);
	buf[2] = EVENT_VERSION;
	buf[3] = 7; /* op */
	cr_expect_eq(event_decode(buf, len, &b), THRESH_EFORMAT);
	buf[3] = EV_LEARN;
	buf[4] = 2; /* label */
	cr_expect_eq(event_decode(buf, len, &b), THRESH_EFORMAT);
	free(buf);
}

Test(event, undo_round_trip)
{
	undo u = {0}, v;
	undo_reset(&u);
	u.learned = 0;
	u.has_author = 1;
	u.author_had = 1;
	memset(u.author_rec, 0x5a, sizeof u.author_rec);
	u.site = (layer_totals){1, 2, 3, 4};
	for (int i = 0; i < PREQ_N; i++)
		u.preq[i] = 0.1 * i + 1e-17;
	u.ring_had = 1;
	u.ring_pos = 17;
	u.ring_n = 256;
	u.ring_label = 1;
	u.ring_fp = 0x0123456789abcdefull;
	for (int i = 0; i < PREQ_N; i++)
		u.ring_x[i] = (float)(0.3 - 0.1 * i);
	u.ring_wd = 1;
	u.ring_wd_pos = 200;
	u.ring_wd_label = 0;
	for (uint32_t i = 0; i < 300; i++)
		cr_assert_eq(undo_add_tok(&u, 1000 + i, i, 2 * i, 20000 + i), 0);
	unsigned char *buf;
	size_t len;
	cr_assert_eq(undo_encode(&u, &buf, &len), 0);
	cr_assert_eq(undo_decode(buf, len, &v), 0);
	cr_expect(v.ring_had && v.ring_pos == 17 && v.ring_n == 256 && v.ring_label == 1 &&
	          v.ring_fp == u.ring_fp);
	cr_expect(v.ring_wd && v.ring_wd_pos == 200 && v.ring_wd_label == 0);
	cr_expect_eq(memcmp(v.ring_x, u.ring_x, sizeof u.ring_x), 0, "the ring's slot bit for bit");
	cr_expect_eq(v.learned, 0);
	cr_expect(v.has_author && v.author_had);
	cr_expect_eq(memcmp(v.author_rec, u.author_rec, 16), 0);
	cr_expect_eq(memcmp(&v.site, &u.site, sizeof u.site), 0);
	cr_expect_eq(memcmp(v.preq, u.preq, sizeof u.preq), 0, "losses kept bit for bit");
	cr_assert_eq(v.n, 300);
	for (size_t i = 0; i < 300; i++)
		cr_expect(v.tok[i].id == u.tok[i].id && v.tok[i].spam == u.tok[i].spam &&
		          v.tok[i].ham == u.tok[i].ham && v.tok[i].day == u.tok[i].day);
	undo_free(&v);
	cr_expect_eq(undo_decode(buf, len - 1, &v), THRESH_EFORMAT);
	undo_free(&v);
	undo_free(&u);
	free(buf);
}

Test(event, key_fingerprint_depends_on_the_key)
{
	unsigned char k1[HASH_MODEL_KEY_BYTES] = {1}, k2[HASH_MODEL_KEY_BYTES] = {2};
	cr_assert_eq(hash_init(), 0);
	cr_expect_eq(event_keyfp(k1), event_keyfp(k1));
	cr_expect_neq(event_keyfp(k1), event_keyfp(k2));
}

/* An undo record of thresh 0.2 (version 1: seven losses, no ring) left in
 * an outbox reads: the eighth loss as the seventh, no slot to give back. */
Test(event, undo_of_version_1_reads)
{
	undo u = {0}, v;
	undo_reset(&u);
	u.learned = 1;
	for (int i = 0; i < PREQ_N; i++)
		u.preq[i] = 1.5 * i;
	cr_assert_eq(undo_add_tok(&u, 42, 1, 2, 3), 0);
	unsigned char *buf;
	size_t len;
	cr_assert_eq(undo_encode(&u, &buf, &len), 0);
	/* version 2 without a ring is version 1 plus the eighth loss */
	size_t at = 5 + 32 + 8 * (PREQ_N - 1);
	memmove(buf + at, buf + at + 8, len - at - 8);
	len -= 8;
	buf[2] = 1;
	cr_assert_eq(undo_decode(buf, len, &v), 0);
	cr_expect(!v.ring_had && v.learned == 1 && v.n == 1 && v.tok[0].id == 42);
	for (int i = 0; i < PREQ_N - 1; i++)
		cr_expect_eq(v.preq[i], 1.5 * i);
	cr_expect_eq(v.preq[PREQ_N - 1], v.preq[PREQ_N - 2]);
	undo_free(&v);
	buf[4] |= 4; /* a ring flag in a version that had none */
	cr_expect_eq(undo_decode(buf, len, &v), THRESH_EFORMAT);
	undo_free(&v);
	buf[2] = 3;
	cr_expect_eq(undo_decode(buf, len, &v), THRESH_EFORMAT, "a version to come");
	undo_free(&v);
	undo_free(&u);
	free(buf);
}
