/* event.h - a training event: one learn or unlearn, as the cluster's log
 * carries it, and the undo record of one applied locally before the log
 * confirmed it.
 *
 * An event holds everything needed to replay a learn without the comment:
 * the operation and label, the comment's digest (and, while a database
 * keeps digests of format 2, its digest of that format too), the hashed
 * author (or none), the day, the tokenizer's feature set, a fingerprint of
 * the model key, and the token ids with their character-gram flags (the
 * prior's weighing scores with them) and identity flags (counts.h). Hashes
 * and counts only: no text, e-mail or IP, and nothing testable with the
 * model key alone: digests and identity tokens are keyed by the site's
 * secret.
 *
 * Encoding (docs/cluster-format.md), little-endian:
 *   "TE" 2(version) op label flags(bit 0: author, bit 1: digest, bit 2:
 *   legacy digest) day(u32) tokenizer(u32) keyfp(u64) [digest(16)]
 *   [legacy(16)] [author(16)] n(u32) ids(n * u64) grams(ceil(n/8))
 *   idents(ceil(n/8))
 * with a digest, a legacy digest or both. Version 1 (thresh 0.2) has no
 * identity flags, and its one digest is of format 2: it is read as an event
 * with that legacy digest alone (as is such an event of a database's outbox
 * when it moved to format 3: migrate.h).
 *
 * An undo record holds the exact pre-image of everything an event changed
 * in the site's layer: each token's site counts and day, the learned
 * digest's label, the author's record, the site's totals, the prior
 * weights' losses and the slot of the ring of decisions it took (model.h).
 * Reverting restores them bit for bit. */
#ifndef THRESH_EVENT_H
#define THRESH_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "model.h"

#define EVENT_VERSION 2
enum { EV_LEARN = 0, EV_UNLEARN = 1 };

typedef struct event {
	int op;                                /* EV_LEARN or EV_UNLEARN */
	int label;                             /* THRESH_HAM or THRESH_SPAM */
	int has_author;
	int has_digest;                        /* 0 only in an event made before format 3 */
	unsigned char digest[HASH_DIGEST_BYTES];
	int has_legacy;                        /* a digest of format 2 follows */
	unsigned char legacy[HASH_DIGEST_BYTES]; /* (hash_comment_digest_b2) */
	unsigned char author[HASH_ID_BYTES];
	uint32_t day;
	uint32_t tokenizer;
	uint64_t keyfp;
	size_t n;
	const uint64_t *ids;                   /* n token ids */
	const unsigned char *gram;             /* n flags: 1 a character n-gram */
	const unsigned char *ident;            /* n flags: 1 an identity token */
} event;

/* A decoded event owns its arrays. */
typedef struct event_buf {
	event ev;
	uint64_t *ids;
	unsigned char *gram;
	unsigned char *ident;
} event_buf;

/* event_keyfp - the fingerprint of a model key events carry: the first 8
 * bytes of its BLAKE2b under a fixed label. Cannot fail. */
uint64_t event_keyfp(const unsigned char key[HASH_MODEL_KEY_BYTES]);

/* event_encode - e as bytes into a new buffer *out (free it), *len bytes.
 * Returns 0, THRESH_EINVAL (too many tokens) or THRESH_ENOMEM. */
int event_encode(const event *e, unsigned char **out, size_t *len);

/* event_decode - bytes into b (event_buf_free it). Returns 0,
 * THRESH_EFORMAT (malformed, or another version) or THRESH_ENOMEM. */
int event_decode(const void *buf, size_t len, event_buf *b);
void event_buf_free(event_buf *b);

/* A token's site counts before an event changed them. */
typedef struct undo_tok {
	uint64_t id;
	uint32_t spam, ham, day;
} undo_tok;

typedef struct undo {
	int learned;                           /* the digest's label before: -1 none, 0, 1 */
	int legacy;                            /* the legacy digest's label before */
	int has_author;                        /* the event had an author: ... */
	int author_had;                        /* ... with a record before, */
	unsigned char author_rec[16];          /* ... this one (author_rec of moderate.h) */
	layer_totals site;                     /* the site's totals before */
	double preq[PREQ_N];                   /* the losses before */
	int ring_had;                          /* the event took a slot of the ring: */
	uint32_t ring_pos, ring_n;             /* ... this one, when it held that many, */
	unsigned char ring_label;              /* ... and this entry before */
	uint64_t ring_fp;
	float ring_x[PREQ_N];
	int ring_wd;                           /* the event withdrew a decision: */
	uint32_t ring_wd_pos;                  /* ... this slot's, */
	unsigned char ring_wd_label;           /* ... of this label */
	size_t n, cap;
	undo_tok *tok;                         /* pre-images, in the order first changed */
} undo;

/* undo_reset - empty u for a new event, keeping its memory. */
void undo_reset(undo *u);
void undo_free(undo *u);
/* undo_add_tok - append a pre-image. Returns 0 or THRESH_ENOMEM. */
int undo_add_tok(undo *u, uint64_t id, uint32_t spam, uint32_t ham, uint32_t day);

/* undo_encode / undo_decode - as the events (undo_decode fills u, which
 * owns its tokens). An undo record of version 1 (thresh 0.2) has no legacy
 * label: decoded with legacy -1. Return 0, THRESH_EFORMAT or THRESH_ENOMEM. */
int undo_encode(const undo *u, unsigned char **out, size_t *len);
int undo_decode(const void *buf, size_t len, undo *u);

#endif
