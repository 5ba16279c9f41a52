/* src/lib/event.c: events and undo records, encoded and decoded, those of
 * version 1 (thresh 0.2) read, and the malformed ones refused. */
#include <criterion/criterion.h>
#include <string.h>

#include "event.h"
#include "thresh/error.h"

static unsigned char ident[32];

static event sample(uint64_t *ids, unsigned char *gram, size_t n, int author)
{
	event e;
	memset(&e, 0, sizeof e);
	e.op = EV_UNLEARN;
	e.label = 1;
	e.has_author = author;
	e.has_digest = 1;
	for (int i = 0; i < 16; i++) {
		e.digest[i] = (unsigned char)(i * 7);
		e.legacy[i] = (unsigned char)(i * 11 + 1);
		e.author[i] = author ? (unsigned char)(200 - i) : 0;
	}
	e.day = 20418;
	e.tokenizer = 63;
	e.keyfp = 0x0123456789abcdefULL;
	for (size_t i = 0; i < n; i++) {
		ids[i] = 0x9e3779b97f4a7c15ULL * (i + 1);
		gram[i] = (unsigned char)(i % 3 == 0);
		ident[i] = (unsigned char)(i % 4 == 1);
	}
	e.n = n;
	e.ids = ids;
	e.gram = gram;
	e.ident = ident;
	return e;
}

Test(event, round_trip)
{
	uint64_t ids[19];
	unsigned char gram[19];
	/* digests: 1 its own, 2 a legacy one, 3 both */
	for (int author = 0, digests = 1; author < 2; digests = digests % 3 + 1, author += digests == 1) {
		for (size_t n = 0; n <= 19; n += 9) {
			event e = sample(ids, gram, n, author);
			e.has_digest = digests & 1;
			e.has_legacy = (digests >> 1) & 1;
			unsigned char *buf;
			size_t len;
			event_buf b;
			cr_assert_eq(event_encode(&e, &buf, &len), 0);
			cr_assert_eq(event_decode(buf, len, &b), 0);
			cr_expect_eq(b.ev.op, e.op);
			cr_expect_eq(b.ev.label, e.label);
			cr_expect_eq(b.ev.has_author, author);
			cr_expect_eq(b.ev.has_digest, e.has_digest);
			cr_expect_eq(b.ev.has_legacy, e.has_legacy);
			if (e.has_digest)
				cr_expect_eq(memcmp(b.ev.digest, e.digest, 16), 0);
			if (e.has_legacy)
				cr_expect_eq(memcmp(b.ev.legacy, e.legacy, 16), 0);
			if (author)
				cr_expect_eq(memcmp(b.ev.author, e.author, 16), 0);
			cr_expect_eq(b.ev.day, e.day);
			cr_expect_eq(b.ev.tokenizer, e.tokenizer);
			cr_expect_eq(b.ev.keyfp, e.keyfp);
			cr_assert_eq(b.ev.n, n);
			for (size_t i = 0; i < n; i++) {
				cr_expect_eq(b.ev.ids[i], ids[i]);
				cr_expect_eq(b.ev.gram[i], gram[i]);
				cr_expect_eq(b.ev.ident[i], ident[i]);
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
	buf[4] = 1;
	buf[5] = 8 | 2; /* an unknown flag */
	cr_expect_eq(event_decode(buf, len, &b), THRESH_EFORMAT);
	buf[5] = 0; /* neither digest */
	cr_expect_eq(event_decode(buf, len - 16, &b), THRESH_EFORMAT);
	free(buf);
	e.has_digest = 0;
	cr_expect_eq(event_encode(&e, &buf, &len), THRESH_EINVAL, "an event needs a digest");
}

/* v1 - an event as thresh 0.2 wrote it (version 1: one digest, of format
 * 2; gram flags only), into buf; its length. */
static size_t v1(unsigned char *buf, const event *e)
{
	size_t k = 0;
	buf[k++] = 'T', buf[k++] = 'E', buf[k++] = 1;
	buf[k++] = (unsigned char)e->op, buf[k++] = (unsigned char)e->label;
	buf[k++] = (unsigned char)e->has_author;
	for (int i = 0; i < 4; i++)
		buf[k++] = (unsigned char)(e->day >> (8 * i));
	for (int i = 0; i < 4; i++)
		buf[k++] = (unsigned char)(e->tokenizer >> (8 * i));
	for (int i = 0; i < 8; i++)
		buf[k++] = (unsigned char)(e->keyfp >> (8 * i));
	memcpy(buf + k, e->legacy, 16), k += 16;
	if (e->has_author)
		memcpy(buf + k, e->author, 16), k += 16;
	for (int i = 0; i < 4; i++)
		buf[k++] = (unsigned char)(e->n >> (8 * i));
	for (size_t t = 0; t < e->n; t++)
		for (int i = 0; i < 8; i++)
			buf[k++] = (unsigned char)(e->ids[t] >> (8 * i));
	memset(buf + k, 0, (e->n + 7) / 8);
	for (size_t t = 0; t < e->n; t++)
		buf[k + t / 8] |= (unsigned char)(e->gram[t] << (t % 8));
	return k + (e->n + 7) / 8;
}

/* An event of thresh 0.2 in the log: its digest is one of format 2, so it
 * is read as a legacy digest alone, with no identity flags. */
Test(event, version_1_is_read_with_a_legacy_digest)
{
	uint64_t ids[11];
	unsigned char gram[11], buf[512];
	for (int author = 0; author < 2; author++) {
		event e = sample(ids, gram, 11, author);
		size_t len = v1(buf, &e);
		event_buf b;
		cr_assert_eq(event_decode(buf, len, &b), 0);
		cr_expect(!b.ev.has_digest && b.ev.has_legacy);
		cr_expect_eq(memcmp(b.ev.legacy, e.legacy, 16), 0);
		cr_expect_eq(b.ev.has_author, author);
		cr_expect_eq(b.ev.day, e.day);
		cr_assert_eq(b.ev.n, 11);
		for (size_t i = 0; i < 11; i++)
			cr_expect(b.ev.ids[i] == ids[i] && b.ev.gram[i] == gram[i] && !b.ev.ident[i]);
		/* written again (an outbox migrated), it keeps the legacy digest alone */
		unsigned char *out;
		size_t olen;
		event_buf c;
		cr_assert_eq(event_encode(&b.ev, &out, &olen), 0);
		cr_assert_eq(event_decode(out, olen, &c), 0);
		cr_expect(!c.ev.has_digest && c.ev.has_legacy && !memcmp(c.ev.legacy, e.legacy, 16));
		event_buf_free(&c);
		free(out);
		for (size_t cut = 0; cut < len; cut++)
			cr_expect_eq(event_decode(buf, cut, &c), THRESH_EFORMAT, "cut at %zu", cut);
		buf[5] |= 2; /* version 1 knew the author flag alone */
		cr_expect_eq(event_decode(buf, len, &c), THRESH_EFORMAT);
		event_buf_free(&b);
	}
}

Test(event, undo_round_trip)
{
	undo u = {0}, v;
	undo_reset(&u);
	cr_expect_eq(u.legacy, -1);
	u.learned = 0;
	u.legacy = 1;
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
	cr_expect_eq(v.legacy, 1);
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
	/* version 2: no ring, seven losses; version 1 (thresh 0.2): no legacy
	 * label besides; the rest as it was */
	u.ring_had = u.ring_wd = 0;
	free(buf);
	cr_assert_eq(undo_encode(&u, &buf, &len), 0);
	size_t at = 6 + 16 + 32 + 8 * (PREQ_N - 1); /* the eighth loss */
	memmove(buf + at, buf + at + 8, len - at - 8);
	len -= 8;
	buf[2] = 2;
	cr_assert_eq(undo_decode(buf, len, &v), 0);
	cr_expect(v.learned == 0 && v.legacy == 1 && v.n == 300 && v.has_author && !v.ring_had);
	cr_expect_eq(memcmp(v.preq, u.preq, sizeof u.preq - 8), 0);
	cr_expect_eq(v.preq[PREQ_N - 1], u.preq[PREQ_N - 2]);
	undo_free(&v);
	unsigned char *old = malloc(len - 1);
	old[0] = 'T', old[1] = 'U', old[2] = 1, old[3] = buf[3];
	memcpy(old + 4, buf + 5, len - 5);
	cr_assert_eq(undo_decode(old, len - 1, &v), 0);
	cr_expect(v.learned == 0 && v.legacy == -1 && v.n == 300 && v.has_author);
	cr_expect_eq(memcmp(v.preq, u.preq, sizeof u.preq - 8), 0);
	undo_free(&v);
	free(old);
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

/* An undo record of an earlier version (2: seven losses, no ring; 1,
 * thresh 0.2: no legacy label besides) left in an outbox reads: the eighth
 * loss as the seventh, no slot to give back. */
Test(event, undo_of_versions_1_and_2_reads)
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
	/* version 3 without a ring is version 2 plus the eighth loss */
	size_t at = 6 + 32 + 8 * (PREQ_N - 1);
	memmove(buf + at, buf + at + 8, len - at - 8);
	len -= 8;
	buf[2] = 2;
	cr_assert_eq(undo_decode(buf, len, &v), 0);
	cr_expect(!v.ring_had && v.learned == 1 && v.n == 1 && v.tok[0].id == 42);
	for (int i = 0; i < PREQ_N - 1; i++)
		cr_expect_eq(v.preq[i], 1.5 * i);
	cr_expect_eq(v.preq[PREQ_N - 1], v.preq[PREQ_N - 2]);
	undo_free(&v);
	buf[5] |= 4; /* a ring flag in a version that had none */
	cr_expect_eq(undo_decode(buf, len, &v), THRESH_EFORMAT);
	undo_free(&v);
	buf[5] &= (unsigned char)~4;
	/* version 1: no legacy label */
	memmove(buf + 4, buf + 5, len - 5);
	len -= 1;
	buf[2] = 1;
	cr_assert_eq(undo_decode(buf, len, &v), 0);
	cr_expect(!v.ring_had && v.learned == 1 && v.legacy == -1 && v.n == 1 && v.tok[0].id == 42);
	cr_expect_eq(v.preq[PREQ_N - 1], v.preq[PREQ_N - 2]);
	undo_free(&v);
	buf[2] = 4;
	cr_expect_eq(undo_decode(buf, len, &v), THRESH_EFORMAT, "a version to come");
	undo_free(&v);
	undo_free(&u);
	free(buf);
}
