/* dump.c - the model dump: a versioned text format for export and import.
 *
 * The format is documented in docs/dump-format.md. In short (version 3):
 *
 *   thresh-dump 3
 *   tokenizer 63
 *   key 00112233445566778899aabbccddeeff
 *   messages 12 40                      (the site's own comments)
 *   prior 1005 1274.7                   (the prior's, weighted: 3 decimals)
 *   preq 0 1.5 2 2.5 3 3.5 4 5          (the prior weights' log losses)
 *   ring 2 2                            (the site's newest decisions: next slot, count)
 *   r spam 0123456789abcdef 0.25 0.25 0.3 0.31 0.4 0.5 0.6 0.7
 *   r ham fedcba9876543210 -0.2 -0.2 -0.2 -0.1 -0.1 0 0.1 0.2
 *                                       (one per slot: label, digest's first
 *                                       8 bytes, x per weight)
 *   param robs 0.1                      (one line per parameter)
 *   tokens 3
 *   t 0123456789abcdef 12 3 20418 0 0   (id, spam, ham, last-seen day,
 *   t 89abcdef01234567 0 7 20418 4.5 0.1 prior spam, prior ham)
 *   i 456789abcdef0123 2 0 20418        (an identity token: the site's only)
 *   learned 2
 *   l 00112233445566778899aabbccddeeff spam  (digest under the site's keys)
 *   g 0123456789abcdef0123456789abcdef ham   (a digest of format 2)
 *   end
 *
 * Version 3 (this one's first builds) has seven losses and no ring: the
 * eighth is read as the seventh, the ring as empty. Version 2 (thresh 0.2)
 * has no i or g lines besides: its identity tokens are under the model key
 * and its digests of format 2, so an import re-keys its /24s and keeps its
 * digests as legacy ones (migrate.h). Version 1 (thresh 0.1) has no prior,
 * no preq and tokens of four fields besides; it is read as a model of the
 * site's own layer. An import reads and checks the whole file before it
 * stores anything. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "thresh/db.h"
#include "thresh/error.h"
#include "dump.h"
#include "errors.h"
#include "migrate.h"
#include "model.h"
#include "num.h"

#define DUMP_VERSION 4
#define DUMP_LINE_MAX 256

/* ---------- export ---------- */

struct export_ctx {
	FILE *f;
	int legacy; /* writing the digests of format 2 */
};

/* put_milli - v in 1/PRIOR_UNIT as a decimal: 4500 as "4.5", 0 as "0". */
static void put_milli(FILE *f, uint64_t v)
{
	char frac[8];
	int n = snprintf(frac, sizeof frac, "%03u", (unsigned)(v % PRIOR_UNIT));
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	fprintf(f, n ? "%" PRIu64 ".%s" : "%" PRIu64, v / PRIOR_UNIT, frac);
}

static int export_token(uint64_t id, const tok_counts *c, void *ctx)
{
	struct export_ctx *e = ctx;
	if ((c->flags & COUNTS_IDENTITY) && !c->pspam && !c->pham) {
		if (fprintf(e->f, "i %016" PRIx64 " %" PRIu32 " %" PRIu32 " %" PRIu32 "\n", id, c->spam,
		            c->ham, c->day) < 0)
			return THRESH_EIO;
		return 0;
	}
	fprintf(e->f, "t %016" PRIx64 " %" PRIu32 " %" PRIu32 " %" PRIu32 " ", id, c->spam, c->ham, c->day);
	put_milli(e->f, c->pspam);
	fputc(' ', e->f);
	put_milli(e->f, c->pham);
	if (fputc('\n', e->f) == EOF)
		return THRESH_EIO;
	return 0;
}

static int export_learned(const void *k, size_t kl, const void *v, size_t vl, void *ctx)
{
	struct export_ctx *e = ctx;
	const unsigned char *d = k;
	if (kl != HASH_DIGEST_BYTES || vl != 1)
		return THRESH_ECORRUPT;
	fputs(e->legacy ? "g " : "l ", e->f);
	for (size_t i = 0; i < kl; i++)
		fprintf(e->f, "%02x", d[i]);
	fprintf(e->f, " %s\n", *(const unsigned char *)v ? "spam" : "ham");
	return 0;
}

/* export_ring - the ring of the site's decisions: "ring POS N", then its
 * first N slots in slot order (floats with 9 digits: exactly the stored
 * ones again). */
static int export_ring(store_txn *t, FILE *f)
{
	model_ring *r = malloc(sizeof *r);
	if (!r)
		return THRESH_ENOMEM;
	int rc = meta_ring_get(t, r);
	if (!rc) {
		fprintf(f, "ring %" PRIu32 " %" PRIu32 "\n", r->pos, r->n);
		for (uint32_t i = 0; i < r->n; i++) {
			fprintf(f, "r %s %016" PRIx64,
			        r->label[i] == RING_SPAM ? "spam" : r->label[i] == RING_HAM ? "ham" : "withdrawn",
			        r->fp[i]);
			for (int j = 0; j < PREQ_N; j++)
				fprintf(f, " %.9g", (double)r->x[i][j]);
			fputc('\n', f);
		}
	}
	free(r);
	return rc;
}

int dump_export_path(store *st, const char *path)
{
	char tmp[4096];
	store_txn *t = NULL;
	model_meta m;
	store_info info;
	struct export_ctx e;
	int rc;

	if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid()) >= (int)sizeof tmp)
		return THRESH_EINVAL;
	/* A new file only (a link planted under the temporary name is not
	 * followed), readable by its owner alone, whatever the umask: a dump
	 * holds the model key and learned digests. */
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || !(e.f = fdopen(fd, "w"))) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return err == EACCES ? THRESH_EACCES : err == ENOSPC ? THRESH_EFULL
		       : err == ENOENT ? THRESH_ENOENT : THRESH_EIO;
	}
	fchmod(fd, 0600);
	if ((rc = store_read_begin(st, &t)))
		goto fail;
	/* The stored parameters, not this process's overrides. */
	if ((rc = meta_load(t, &m)) || (rc = store_info_get(t, &info)))
		goto fail;
	fprintf(e.f, "thresh-dump %d\ntokenizer %" PRIu32 "\nkey ", DUMP_VERSION, m.tokenizer);
	for (size_t i = 0; i < sizeof m.key; i++)
		fprintf(e.f, "%02x", m.key[i]);
	fprintf(e.f, "\nmessages %" PRIu64 " %" PRIu64 "\nprior ", m.site.spam, m.site.ham);
	put_milli(e.f, m.prior.spam);
	fputc(' ', e.f);
	put_milli(e.f, m.prior.ham);
	fputs("\npreq", e.f);
	for (int i = 0; i < PREQ_N; i++)
		fprintf(e.f, " %.17g", m.preq[i]);
	fputc('\n', e.f);
	if ((rc = export_ring(t, e.f)))
		goto fail;
	for (size_t i = 0; thresh_db_param_name(i); i++)
		fprintf(e.f, "param %s %.17g\n", thresh_db_param_name(i), m.param[i]);
	fprintf(e.f, "tokens %" PRIu64 "\n", info.tokens);
	if ((rc = store_tokens_foreach(t, export_token, &e)))
		goto fail;
	fprintf(e.f, "learned %" PRIu64 "\n", info.learned + info.legacy);
	e.legacy = 0;
	if ((rc = store_rec_foreach(t, "learned", export_learned, &e)))
		goto fail;
	e.legacy = 1;
	if ((rc = store_rec_foreach(t, "legacy", export_learned, &e)))
		goto fail;
	fputs("end\n", e.f);
	store_read_end(t);
	t = NULL;
	hash_wipe(m.key, sizeof m.key);
	if (fflush(e.f) != 0 || fsync(fileno(e.f)) != 0) {
		rc = errno == ENOSPC ? THRESH_EFULL : THRESH_EIO;
		goto fail;
	}
	if (fclose(e.f) != 0) {
		e.f = NULL;
		rc = THRESH_EIO;
		goto fail;
	}
	e.f = NULL;
	if (rename(tmp, path) != 0) {
		rc = errno == EACCES ? THRESH_EACCES : THRESH_EIO;
		goto fail;
	}
	return 0;
fail:
	hash_wipe(m.key, sizeof m.key);
	store_read_end(t);
	if (e.f)
		fclose(e.f);
	unlink(tmp);
	return rc;
}

/* ---------- import ---------- */

struct dump_token {
	uint64_t id;
	tok_counts c;
};

struct dump_learned {
	unsigned char d[HASH_DIGEST_BYTES];
	int label;
	int legacy; /* a digest of format 2 */
};

struct dump {
	uint32_t version;
	uint32_t tokenizer;
	unsigned char key[HASH_MODEL_KEY_BYTES];
	layer_totals site, prior;  /* the comments of each layer (token sums are recounted) */
	double preq[PREQ_N];
	double param[P_COUNT];
	unsigned char has_param[P_COUNT];
	struct dump_token *tok;
	size_t ntok;
	struct dump_learned *lrn;
	size_t nlrn;
	model_ring *ring;          /* version 4: the site's decisions; NULL: none */
	unsigned flags;
	const site_keys *keys; /* the importing site's, or NULL */
};

static int hex_decode(const char *s, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;
		for (int k = 0; k < 2; k++) {
			char c = s[2 * i + k];
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else
				return -1;
		}
		out[i] = (unsigned char)v;
	}
	return s[2 * n] == '\0' ? 0 : -1;
}

/* read_line - the next line without its newline into buf; 1 at end of file,
 * -1 when a line is too long or holds a NUL, -2 when the file ends inside a
 * line (a truncated dump). */
static int read_line(FILE *f, char *buf, size_t size)
{
	if (!fgets(buf, (int)size, f))
		return 1;
	size_t n = strlen(buf);
	if (n > 0 && buf[n - 1] != '\n' && n + 1 < size && feof(f))
		return -2;
	if (n == 0 || buf[n - 1] != '\n')
		return -1;
	buf[n - 1] = '\0';
	return 0;
}

/* parse_milli - a decimal with at most three decimals ("4.5") into
 * 1/PRIOR_UNIT units (4500), at most max; 0 or -1. */
static int parse_milli(const char *s, uint64_t max, uint64_t *out)
{
	char whole[32];
	const char *dot = strchr(s, '.');
	size_t n = dot ? (size_t)(dot - s) : strlen(s);
	uint64_t w, f = 0;
	if (n == 0 || n >= sizeof whole)
		return -1;
	memcpy(whole, s, n);
	whole[n] = '\0';
	if (parse_u64(whole, 0, max / PRIOR_UNIT, &w))
		return -1;
	if (dot) {
		size_t k = strlen(dot + 1);
		if (k == 0 || k > 3)
			return -1;
		for (size_t i = 0; i < 3; i++) {
			char c = i < k ? dot[1 + i] : '0';
			if (c < '0' || c > '9')
				return -1;
			f = f * 10 + (uint64_t)(c - '0');
		}
	}
	if (w * PRIOR_UNIT > max - f)
		return -1;
	*out = w * PRIOR_UNIT + f;
	return 0;
}

/* dump_fail - "line N: message" into the caller's optional buffer. */
static void dump_fail(char *errbuf, size_t errsize, size_t lineno, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	set_err(errbuf, errsize, "line %zu: %s", lineno, msg);
}

#define FAIL(...)                                                   \
	do {                                                            \
		dump_fail(errbuf, errsize, lineno, __VA_ARGS__);            \
		rc = THRESH_EFORMAT;                                        \
		goto out;                                                   \
	} while (0)

/* dump_parse - read a whole dump into d; nothing is stored. */
static int dump_parse(FILE *f, struct dump *d, char *errbuf, size_t errsize)
{
	char line[DUMP_LINE_MAX], w1[32], w2[64], w3[64], w4[64], w5[64];
	size_t lineno = 0, cap = 0, lcap = 0;
	uint64_t ntok = 0, nlrn = 0, a, b;
	uint32_t nring = 0;
	int rc = 0, r, state = 0; /* 0 header, 1 tokens, 2 learned, 3 end, 4 ring */

	memset(d, 0, sizeof *d);
	unsigned seen = 0; /* bits: version, tokenizer, key, messages */
	while ((r = read_line(f, line, sizeof line)) == 0) {
		lineno++;
		char extra;
		if (state == 3)
			FAIL("text after \"end\"");
		if (state == 1 && d->ntok < ntok) {
			char idhex[32];
			uint64_t sp, hm, dy, psp = 0, phm = 0;
			int ident = d->version >= 3 && line[0] == 'i';
			if (ident) {
				if (sscanf(line, "i %31s %63s %63s %31s%c", idhex, w2, w3, w1, &extra) != 4)
					FAIL("expected \"i ID SPAM HAM DAY\"");
			} else if (d->version == 1) {
				if (sscanf(line, "t %31s %63s %63s %31s%c", idhex, w2, w3, w1, &extra) != 4)
					FAIL("expected \"t ID SPAM HAM DAY\"");
			} else if (sscanf(line, "t %31s %63s %63s %31s %63s %63s%c", idhex, w2, w3, w1, w4, w5,
			                  &extra) != 6) {
				FAIL(d->version >= 3 ? "expected \"t ID SPAM HAM DAY PRIOR-SPAM PRIOR-HAM\" or "
				                       "\"i ID SPAM HAM DAY\""
				                     : "expected \"t ID SPAM HAM DAY PRIOR-SPAM PRIOR-HAM\"");
			}
			unsigned char idb[8];
			if (strlen(idhex) != 16 || hex_decode(idhex, idb, 8))
				FAIL("token id must be 16 lower-case hex digits");
			if (parse_u64(w2, 0, UINT32_MAX, &sp) || parse_u64(w3, 0, UINT32_MAX, &hm) ||
			    parse_u64(w1, 0, UINT32_MAX, &dy))
				FAIL("token counts must be decimal numbers below 2^32");
			if (d->version > 1 && !ident &&
			    (parse_milli(w4, UINT32_MAX, &psp) || parse_milli(w5, UINT32_MAX, &phm)))
				FAIL("prior counts must be decimals of at most 3 places, below 2^32/1000");
			if (sp == 0 && hm == 0 && psp == 0 && phm == 0)
				FAIL("a token with no counts");
			uint64_t id = 0;
			for (int i = 0; i < 8; i++)
				id = (id << 8) | idb[i];
			if (d->ntok == cap) {
				cap = cap ? cap * 2 : 1024;
				void *p = realloc(d->tok, cap * sizeof *d->tok);
				if (!p) {
					rc = THRESH_ENOMEM;
					goto out;
				}
				d->tok = p;
			}
			d->tok[d->ntok].id = id;
			d->tok[d->ntok].c.spam = (uint32_t)sp;
			d->tok[d->ntok].c.ham = (uint32_t)hm;
			d->tok[d->ntok].c.day = (uint32_t)dy;
			d->tok[d->ntok].c.pspam = (uint32_t)psp;
			d->tok[d->ntok].c.pham = (uint32_t)phm;
			d->tok[d->ntok].c.flags = ident ? COUNTS_IDENTITY : 0;
			d->ntok++;
			continue;
		}
		if (state == 2 && d->nlrn < nlrn) {
			char dhex[64];
			int legacy = d->version >= 3 && line[0] == 'g';
			if (sscanf(line, legacy ? "g %63s %31s%c" : "l %63s %31s%c", dhex, w1, &extra) != 2)
				FAIL(d->version >= 3 ? "expected \"l DIGEST spam|ham\" or \"g DIGEST spam|ham\""
				                     : "expected \"l DIGEST spam|ham\"");
			/* grown as lines arrive: the declared count is not trusted to
			 * size an allocation */
			if (d->nlrn == lcap) {
				lcap = lcap ? lcap * 2 : 256;
				void *p = realloc(d->lrn, lcap * sizeof *d->lrn);
				if (!p) {
					rc = THRESH_ENOMEM;
					goto out;
				}
				d->lrn = p;
			}
			struct dump_learned *l = &d->lrn[d->nlrn];
			if (strlen(dhex) != 2 * HASH_DIGEST_BYTES || hex_decode(dhex, l->d, HASH_DIGEST_BYTES))
				FAIL("digest must be 32 lower-case hex digits");
			if (!strcmp(w1, "spam"))
				l->label = 1;
			else if (!strcmp(w1, "ham"))
				l->label = 0;
			else
				FAIL("label must be spam or ham");
			/* a digest of an older dump is of format 2 */
			l->legacy = legacy || d->version < 3;
			d->nlrn++;
			continue;
		}
		if (state == 4 && d->ring->n < nring) {
			char *p = line, *end, fph[20];
			uint32_t i = d->ring->n;
			unsigned char fpb[8];
			int used;
			if (sscanf(p, "r %15s %17s%n", w1, fph, &used) != 2 ||
			    (strcmp(w1, "spam") && strcmp(w1, "ham") && strcmp(w1, "withdrawn")) ||
			    strlen(fph) != 16 || hex_decode(fph, fpb, 8))
				FAIL("expected \"r spam|ham|withdrawn FINGERPRINT\" and %d numbers", PREQ_N);
			d->ring->label[i] = !strcmp(w1, "spam") ? RING_SPAM : !strcmp(w1, "ham") ? RING_HAM
			                                                                        : RING_WITHDRAWN;
			for (int b = 0; b < 8; b++)
				d->ring->fp[i] = d->ring->fp[i] << 8 | fpb[b];
			p += used;
			for (int j = 0; j < PREQ_N; j++) {
				float v = strtof(p, &end);
				if (end == p || *p != ' ' || !isfinite(v))
					FAIL("expected \"r spam|ham|withdrawn FINGERPRINT\" and %d numbers", PREQ_N);
				d->ring->x[i][j] = v;
				p = end;
			}
			if (*p)
				FAIL("expected \"r spam|ham|withdrawn FINGERPRINT\" and %d numbers", PREQ_N);
			if (++d->ring->n == nring)
				state = 0;
			continue;
		}
		if (sscanf(line, "%31s", w1) != 1)
			FAIL("empty line");
		if (lineno == 1) {
			if (sscanf(line, "thresh-dump %63s%c", w2, &extra) != 1 || parse_u64(w2, 0, 1000, &a))
				FAIL("not a thresh dump (expected \"thresh-dump VERSION\")");
			if (a < 1 || a > DUMP_VERSION) {
				set_err(errbuf, errsize, "line 1: dump format %" PRIu64 " (this build reads 1 to %d)",
				        a, DUMP_VERSION);
				rc = THRESH_EVERSION;
				goto out;
			}
			d->version = (uint32_t)a;
			seen |= 1;
		} else if (state == 0 && !strcmp(w1, "tokenizer")) {
			if (sscanf(line, "tokenizer %63s%c", w2, &extra) != 1 || parse_u64(w2, 0, UINT32_MAX, &a))
				FAIL("expected \"tokenizer NUMBER\"");
			d->tokenizer = (uint32_t)a;
			seen |= 2;
		} else if (state == 0 && !strcmp(w1, "key")) {
			if (sscanf(line, "key %63s%c", w2, &extra) != 1 ||
			    strlen(w2) != 2 * HASH_MODEL_KEY_BYTES || hex_decode(w2, d->key, HASH_MODEL_KEY_BYTES))
				FAIL("expected \"key\" and 32 lower-case hex digits");
			seen |= 4;
		} else if (state == 0 && !strcmp(w1, "messages")) {
			if (sscanf(line, "messages %63s %63s%c", w2, w3, &extra) != 2 ||
			    parse_u64(w2, 0, UINT64_MAX, &a) || parse_u64(w3, 0, UINT64_MAX, &b))
				FAIL("expected \"messages SPAM HAM\"");
			d->site.spam = a;
			d->site.ham = b;
			seen |= 8;
		} else if (state == 0 && d->version > 1 && !strcmp(w1, "prior")) {
			if (sscanf(line, "prior %63s %63s%c", w2, w3, &extra) != 2 ||
			    parse_milli(w2, UINT64_MAX, &a) || parse_milli(w3, UINT64_MAX, &b))
				FAIL("expected \"prior SPAM HAM\" (decimals of at most 3 places)");
			d->prior.spam = a;
			d->prior.ham = b;
		} else if (state == 0 && d->version > 1 && !strcmp(w1, "preq")) {
			char *p = line + 4, *end;
			int nl = d->version > 3 ? PREQ_N : PREQ_N - 1;
			for (int i = 0; i < nl; i++) {
				d->preq[i] = strtod(p, &end);
				if (end == p || *p != ' ' || !(d->preq[i] >= 0) || d->preq[i] > 1e300)
					FAIL("expected \"preq\" and %d losses (numbers >= 0)", nl);
				p = end;
			}
			if (*p)
				FAIL("expected \"preq\" and %d losses (numbers >= 0)", nl);
			if (nl < PREQ_N)
				d->preq[PREQ_N - 1] = d->preq[PREQ_N - 2];
		} else if (state == 0 && d->version > 3 && !strcmp(w1, "ring")) {
			if (d->ring)
				FAIL("a second \"ring\"");
			if (sscanf(line, "ring %63s %63s%c", w2, w3, &extra) != 2 ||
			    parse_u64(w2, 0, MODEL_RING - 1, &a) || parse_u64(w3, 0, MODEL_RING, &b) ||
			    (b < MODEL_RING && a != b))
				FAIL("expected \"ring NEXT COUNT\" (COUNT at most %d, NEXT = COUNT below it)",
				     MODEL_RING);
			if (!(d->ring = calloc(1, sizeof *d->ring))) {
				rc = THRESH_ENOMEM;
				goto out;
			}
			d->ring->pos = (uint32_t)a;
			nring = (uint32_t)b;
			state = nring ? 4 : 0;
		} else if (state == 0 && !strcmp(w1, "param")) {
			int i;
			char *end;
			if (sscanf(line, "param %63s %63s%c", w2, w3, &extra) != 2)
				FAIL("expected \"param NAME VALUE\"");
			if ((i = param_index(w2)) < 0)
				FAIL("unknown parameter \"%s\"", w2);
			double v = strtod(w3, &end);
			if (*end || !param_valid(i, v))
				FAIL("parameter %s: value out of range", w2);
			d->param[i] = v;
			d->has_param[i] = 1;
		} else if (state == 0 && !strcmp(w1, "tokens")) {
			if (seen != 15)
				FAIL("\"tokens\" before the header (tokenizer, key, messages) is complete");
			if (sscanf(line, "tokens %63s%c", w2, &extra) != 1 || parse_u64(w2, 0, 1ull << 32, &ntok))
				FAIL("expected \"tokens COUNT\"");
			state = 1;
		} else if (state == 1 && !strcmp(w1, "learned")) {
			if (sscanf(line, "learned %63s%c", w2, &extra) != 1 || parse_u64(w2, 0, 1ull << 32, &nlrn))
				FAIL("expected \"learned COUNT\"");
			state = 2;
		} else if (state == 2 && !strcmp(w1, "end")) {
			if (strcmp(line, "end"))
				FAIL("expected \"end\"");
			state = 3;
		} else if (state == 1 && d->ntok == ntok) {
			FAIL("expected \"learned COUNT\" after %" PRIu64 " tokens", ntok);
		} else {
			FAIL("unexpected \"%s\"", w1);
		}
	}
	lineno++;
	if (r == -2)
		FAIL("the dump ends inside a line: truncated?");
	if (r < 0)
		FAIL("line too long or not a text line");
	lineno--;
	if (ferror(f)) {
		rc = THRESH_EIO;
		goto out;
	}
	if (state != 3) {
		lineno++;
		FAIL("the dump ends early (no \"end\" line): truncated?");
	}
	if (d->ring && d->ring->n < nring) {
		lineno++;
		FAIL("the ring ends early");
	}
out:
	return rc;
}

static void dump_free(struct dump *d)
{
	free(d->tok);
	free(d->lrn);
	free(d->ring);
	hash_wipe(d->key, sizeof d->key);
}

/* add_sat - a + b, saturating instead of wrapping around. */
static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

/* mul_sat - a * b, saturating. */
static uint64_t mul_sat(uint64_t a, uint64_t b)
{
	return a && b > UINT64_MAX / a ? UINT64_MAX : a * b;
}

/* seed - the counts of a token of the dump as a new database's prior: both
 * of the dump's layers become prior (whole comments to 1/PRIOR_UNIT). */
static tok_counts seed(const tok_counts *in)
{
	tok_counts c;
	memset(&c, 0, sizeof c);
	uint64_t s = (uint64_t)in->spam * PRIOR_UNIT + in->pspam;
	uint64_t h = (uint64_t)in->ham * PRIOR_UNIT + in->pham;
	c.pspam = s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
	c.pham = h > UINT32_MAX ? UINT32_MAX : (uint32_t)h;
	return c;
}

/* put_learned - the dump's digests into their tables. */
static int put_learned(store_txn *t, const struct dump *d)
{
	int rc = 0;
	for (size_t i = 0; i < d->nlrn && !rc; i++) {
		unsigned char v = (unsigned char)d->lrn[i].label;
		rc = d->lrn[i].legacy ? store_rec_put(t, "legacy", d->lrn[i].d, HASH_DIGEST_BYTES, &v, 1)
		                      : store_learned_put(t, d->lrn[i].d, d->lrn[i].label);
	}
	return rc;
}

/* merge_token - add c to the stored counts of id (an identity token stays
 * one). */
static int merge_token(store_txn *t, uint64_t id, const tok_counts *c)
{
	tok_counts s;
	int rc = store_tokens_get(t, &id, 1, &s);
	if (rc)
		return rc;
	store_counts_add(&s, c->spam, c->ham, c->day);
	store_prior_add(&s, c->pspam, c->pham);
	if (!counts_empty(&s))
		s.flags |= c->flags;
	return store_token_put(t, id, &s);
}

/* finish - a dump of format 1 or 2 keyed identity tokens by the model key:
 * its /24s re-keyed by the site's identity key (dropped from a seed, as the
 * prior never holds one, or without a key), the token sums recounted. */
static int finish(store_txn *t, const struct dump *d, model_meta *m)
{
	int rc;
	if (d->version < 3 && d->ntok) {
		const unsigned char *to = d->keys && !(d->flags & DUMP_SEED) ? d->keys->ident : NULL;
		if ((rc = migrate_ip24(t, d->key, to, NULL, NULL, NULL)))
			return rc;
	}
	return meta_recount(t, m);
}

/* dump_pins - the pins after a replacing import: a parameter the dump
 * sets is pinned when it differs from its default (as a database of thresh
 * 0.2 is read); the others keep theirs. */
static unsigned dump_pins(const struct dump *d, unsigned pinned)
{
	double param[P_COUNT];
	for (int i = 0; i < P_COUNT; i++)
		param[i] = d->version > 1 && d->has_param[i] ? d->param[i] : param_default(i);
	unsigned set = meta_pins_infer(param);
	for (int i = 0; i < P_COUNT; i++)
		if (d->version > 1 && d->has_param[i])
			pinned = (pinned & ~(1u << i)) | (set & (1u << i));
	return pinned;
}

/* ring_put - the site's decisions of a replaced model, as the dump has
 * them (a dump before version 4 has none: an empty ring), and their fits. */
static int ring_put(store_txn *t, model_meta *m, const struct dump *d)
{
	model_ring *r = calloc(1, sizeof *r);
	if (!r)
		return THRESH_ENOMEM;
	if (d->ring)
		*r = *d->ring;
	model_fits_make(r, m, &m->fits);
	int rc = meta_ring_put(t, r);
	free(r);
	return rc ? rc : meta_put_fits(t, m);
}

static int import_fn(store_txn *t, void *ctx)
{
	struct dump *d = ctx;
	model_meta m;
	int rc;
	if ((rc = meta_load(t, &m)))
		return rc;
	int same = hash_equal(m.key, d->key, sizeof m.key) && m.tokenizer == d->tokenizer;
	unsigned pinned = m.pinned;
	hash_wipe(m.key, sizeof m.key);
	if (d->flags & THRESH_IMPORT_MERGE) {
		if (!same)
			return THRESH_EFORMAT;
		m.site.spam = add_sat(m.site.spam, d->site.spam);
		m.site.ham = add_sat(m.site.ham, d->site.ham);
		m.prior.spam = add_sat(m.prior.spam, d->prior.spam);
		m.prior.ham = add_sat(m.prior.ham, d->prior.ham);
		for (size_t i = 0; i < d->ntok; i++)
			if ((rc = merge_token(t, d->tok[i].id, &d->tok[i].c)))
				return rc;
		if ((rc = put_learned(t, d)))
			return rc;
		return finish(t, d, &m);
	}
	if ((rc = store_tokens_clear(t)) ||
	    (rc = store_meta_put(t, "key", d->key, sizeof d->key)) ||
	    (rc = store_meta_put(t, "tokenizer", &d->tokenizer, sizeof d->tokenizer)))
		return rc;
	/* A dump of format 1 scored on another scale: its parameters do not
	 * apply to this classifier, and the database keeps its own. */
	for (int i = 0; i < P_COUNT && d->version > 1; i++)
		if (d->has_param[i] && (rc = store_meta_put(t, param_meta_key(i), &d->param[i], sizeof(double))))
			return rc;
	if ((rc = meta_put_pins(t, dump_pins(d, pinned))))
		return rc;
	memset(&m, 0, sizeof m);
	if (d->flags & DUMP_SEED) {
		/* A new database: the whole dump is its prior; the site has learned
		 * nothing yet, so no digests and no losses, and the prior never
		 * holds identity tokens. */
		m.prior.spam = add_sat(mul_sat(d->site.spam, PRIOR_UNIT), d->prior.spam);
		m.prior.ham = add_sat(mul_sat(d->site.ham, PRIOR_UNIT), d->prior.ham);
		for (size_t i = 0; i < d->ntok; i++) {
			if (d->tok[i].c.flags & COUNTS_IDENTITY)
				continue;
			tok_counts c = seed(&d->tok[i].c);
			if ((rc = store_token_put(t, d->tok[i].id, &c)))
				return rc;
		}
		return finish(t, d, &m);
	}
	m.site.spam = d->site.spam;
	m.site.ham = d->site.ham;
	m.prior.spam = d->prior.spam;
	m.prior.ham = d->prior.ham;
	memcpy(m.preq, d->preq, sizeof m.preq);
	if ((rc = ring_put(t, &m, d)))
		return rc;
	for (size_t i = 0; i < d->ntok; i++)
		if ((rc = store_token_put(t, d->tok[i].id, &d->tok[i].c)))
			return rc;
	if ((rc = put_learned(t, d)))
		return rc;
	return finish(t, d, &m);
}

int dump_import_path(store *st, const char *path, unsigned flags, const site_keys *keys,
                     char *errbuf, size_t errbuf_size)
{
	struct dump d;
	FILE *f = fopen(path, "r");
	int rc;
	if (!f) {
		set_err(errbuf, errbuf_size, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? THRESH_ENOENT : errno == EACCES ? THRESH_EACCES : THRESH_EIO;
	}
	rc = dump_parse(f, &d, errbuf, errbuf_size);
	fclose(f);
	if (!rc) {
		d.flags = flags;
		d.keys = keys;
		rc = store_write(st, import_fn, &d);
		if (rc == THRESH_EFORMAT)
			set_err(errbuf, errbuf_size, "%s: a merge needs a dump of the same model (key and tokenizer)", path);
	}
	dump_free(&d);
	return rc;
}
