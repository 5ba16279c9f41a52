#!/usr/bin/env python3
"""newsite.py - a new site's first week: the default model on a video it never saw.

Run it through newsite.sh (which installs bogofilter and builds thresh), or
directly:

    python3 tests/bench/newsite.py --thresh BUILD/src/cli/thresh [options]

The YouTube Spam Collection has five videos. For each video V:

  model      the default model built the way the build builds it
             (models/build-model.sh THRESH OUT CORPORA..., with the corpora of
             models/meson.build), except that the YouTube corpus is replaced by
             a TSV made from the other four videos' CSV files;
  V          V's comments, deduplicated (a repeated text keeps its earliest
             copy, a text seen under both labels is dropped), in DATE order;
  k = 0      a site database created from that model (`thresh init` with
             THRESH_MODEL) scores all of V (`thresh check --tsv`);
  k > 0      a fresh site database from the model learns V's first k comments
             (`thresh train --tsv`) and scores the rest; beside it "site
             alone": an empty database (`init --empty`) learns the same k and
             scores the same rest; "default alone" is the k = 0 scores of the
             same rest (a reference: what learning the k comments changed);
  bogofilter the same splits: a wordlist trained on the same corpora, copied
             per k and given the k comments (-s -b / -n -b), and a fresh
             wordlist given only the k comments; scored with -b -TT; ham at
             or below 0.45, unsure (= held) above, spam (= rejected) from 0.99.

Plus cross-corpus: a model of SMS alone scoring every YouTube comment, and a
model of YouTube alone scoring every SMS message, for both filters.

The report is Markdown on standard output (JSON with --json), also written to
OUT/newsite.md and OUT/newsite.json; progress goes to standard error.
Python 3 standard library only.
"""

import argparse
import csv
import hashlib
import json
import os
import re
import shlex
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
from compare import (BOGO_HAM_CUTOFF, BOGO_SPAM_CUTOFF, BenchError,  # noqa: E402
                     Bogofilter, loadavg, machine, parse_check_tsv, parse_tables, roc_auc, run,
                     source_revision, write_list)
from compare import write_tsv as compare_write_tsv  # noqa: E402

MODELS = ROOT / "models"
YOUTUBE_TSV = MODELS / "youtube" / "youtube-spam-collection.tsv"
SMS_TSV = MODELS / "sms" / "sms-spam-collection.tsv"
RECIPE = MODELS / "build-model.sh"
DEFAULT_KS = (0, 25, 50, 100)

VERDICT_NAMES = ("accept", "hold", "reject")
VERDICTS = {name: i for i, name in enumerate(VERDICT_NAMES)}

# The configurations, in table order. "default alone" at k > 0 is the k = 0
# scores restricted to the same test comments (nothing is run for it).
DEFAULT_SITE = "default+site"
SITE_ALONE = "site alone"
DEFAULT_ALONE = "default alone"
CROSS_SMS = "SMS model"
CROSS_YT = "YouTube model"

UNDATED_NOTE = {
    "last": "placed last, in file order",
    "neighbour": "given the DATE of the nearest dated row before them in the file, else after",
    "drop": "dropped, so none is left",
}

METRICS = ("auc", "ham_rejected", "ham_held", "spam_accepted", "spam_held")
WORSE_IS_LOWER = {"auc"}


def log(msg):
    print(f"[newsite] {msg}", file=sys.stderr, flush=True)


def rel(p):
    """p relative to the project when it is inside it."""
    p = Path(p).resolve()
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)


def sha1(b):
    return hashlib.sha1(b).hexdigest()


# ---------------------------------------------------------------- the data

class Video:
    """One video of the YouTube Spam Collection."""

    def __init__(self, path):
        self.path = Path(path)
        m = re.fullmatch(r"Youtube(\d+)-(.+)\.csv", self.path.name)
        self.number = int(m.group(1)) if m else 0
        self.name = m.group(2) if m else self.path.stem
        self.lines = []          # every row converted: b"label\ttext", file order
        self.rows = []           # (label 1/0, text bytes, timestamp or None, file index)
        self.items = []          # deduplicated, in time order: (label, text, ts, file index)
        self.bad = 0
        self.duplicates = 0
        self.conflicts = 0
        self.undated = 0         # of the kept comments, without a usable DATE in the CSV
        self.dated_by_neighbour = 0
        self.dropped_seen = 0

    @property
    def n_spam(self):
        return sum(1 for it in self.items if it[0] == 1)


def convert_text(content):
    """A CSV comment as the shipped TSV has it: tabs and line breaks turned
    into spaces (each character to one space)."""
    return content.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def parse_date(s):
    """Seconds since the epoch of an ISO 8601 DATE (naive taken as UTC), or
    None when it is missing or unparseable."""
    s = (s or "").strip()
    if not s:
        return None
    try:
        d = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    return d.timestamp()


def read_video(path):
    """Read a video's CSV (COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS; 1 = spam)."""
    v = Video(path)
    with open(path, newline="", encoding="utf-8-sig") as f:
        for i, row in enumerate(csv.DictReader(f)):
            cls = (row.get("CLASS") or "").strip()
            text = convert_text(row.get("CONTENT") or "")
            if cls not in ("0", "1") or not text:
                v.bad += 1
                continue
            lab = 1 if cls == "1" else 0
            tb = text.encode("utf-8")
            v.lines.append((b"spam\t" if lab else b"ham\t") + tb)
            v.rows.append((lab, tb, parse_date(row.get("DATE")), i))
    return v


def order_video(v, undated):
    """Sort v.rows by DATE (stable) and deduplicate: the earliest copy of a
    repeated text is kept, a text seen under both labels is dropped.
    undated: 'last' (rows without a usable DATE go last, in file order),
    'neighbour' (they take the DATE of the nearest dated row before them in
    the file, else after), or 'drop'."""
    rows = list(v.rows)
    no_date = {r[3] for r in rows if r[2] is None}
    if undated == "neighbour":
        dates = [r[2] for r in rows]
        filled = []
        for i, r in enumerate(rows):
            if r[2] is not None:
                filled.append(r)
                continue
            ts = next((dates[j] for j in range(i - 1, -1, -1) if dates[j] is not None), None)
            if ts is None:
                ts = next((dates[j] for j in range(i + 1, len(rows)) if dates[j] is not None),
                          None)
            if ts is not None:
                v.dated_by_neighbour += 1
            filled.append((r[0], r[1], ts, r[3]))
        rows = filled
    elif undated == "drop":
        rows = [r for r in rows if r[2] is not None]
    rows.sort(key=lambda r: (r[2] is None, r[2] or 0.0))
    first, labels_seen = {}, {}
    kept = []
    for r in rows:
        labels_seen.setdefault(r[1], set()).add(r[0])
        if r[1] in first:
            v.duplicates += 1
            continue
        first[r[1]] = len(kept)
        kept.append(r)
    conflict = {t for t, ls in labels_seen.items() if len(ls) > 1}
    v.conflicts = len(conflict)
    v.items = [r for r in kept if r[1] not in conflict]
    v.undated = sum(1 for r in v.items if r[3] in no_date)


def read_tsv_lines(path):
    """LABEL<TAB>TEXT lines the way `thresh train --tsv` reads them: LF or
    CRLF, a BOM before the first line dropped, empty lines skipped. Returns
    (label 1/0, text bytes) pairs and the number of lines it would refuse."""
    data = Path(path).read_bytes()
    out, bad = [], 0
    for i, line in enumerate(data.split(b"\n")):
        if line.endswith(b"\r"):
            line = line[:-1]
        if i == 0 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        if not line:
            continue
        label, tab, text = line.partition(b"\t")
        if not tab or label not in (b"spam", b"ham") or not text:
            bad += 1
            continue
        out.append((1 if label == b"spam" else 0, text))
    return out, bad


def learned_set(pairs):
    """What thresh ends up having learned from these (label, text) pairs: one
    entry per text, under the label it was learned last (learning a text
    again under the same label counts once, under the other label moves it).
    In the order of first appearance."""
    last = {}
    for lab, text in pairs:
        last[text] = lab
    return [(lab, text) for text, lab in last.items()]


def dedupe(pairs):
    """As `thresh eval` and compare.py: a repeated text keeps its first copy,
    a text under both labels is dropped."""
    first, conflict = {}, set()
    for lab, text in pairs:
        if text in first:
            if first[text] != lab:
                conflict.add(text)
            continue
        first[text] = lab
    return [(lab, t) for t, lab in first.items() if t not in conflict]


def write_tsv(path, pairs):
    """(label, text) pairs as a labelled TSV, the way compare.py writes its folds."""
    compare_write_tsv(path, pairs, range(len(pairs)))


# What a comment of each corpus counts as in the model (the recipe's weight),
# by resolved path; a corpus not listed counts 1.
RECIPE_WEIGHTS = {}


def recipe_corpora_from_meson():
    """The corpora of the default model and their weights: models/meson.build's
    `recipe = [['PATH', 'WEIGHT'], ...]`, else the YouTube and the SMS TSV."""
    try:
        text = (MODELS / "meson.build").read_text()
    except OSError:
        return [YOUTUBE_TSV, SMS_TSV], "the built-in default (no models/meson.build)"
    m = re.search(r"^\s*recipe\s*=\s*\[(.*?)^\]", text, re.M | re.S)
    if not m:
        return [YOUTUBE_TSV, SMS_TSV], "the built-in default (no recipe in models/meson.build)"
    paths = []
    for name, weight in re.findall(r"\[\s*'([^']*)'\s*,\s*'([^']*)'\s*\]", m.group(1)):
        p = (MODELS / name).resolve()
        RECIPE_WEIGHTS[p] = weight
        paths.append(p)
    return paths, "models/meson.build"


# ---------------------------------------------------------------- the filters

class Thresh:
    """The thresh command, always with --db, in an environment where neither
    THRESH_DB nor XDG_DATA_HOME can send a write anywhere but the scratch
    folder."""

    def __init__(self, binary, work, sets, conf_lines, recipe):
        self.bin = str(binary)
        self.work = work
        self.sets = sets                  # [(name, value)]
        self.conf = conf_lines            # ["key = value"]
        self.recipe = Path(recipe)
        self.guard_db = work / "guard-THRESH_DB"
        self.guard_xdg = work / "guard-XDG_DATA_HOME"
        env = dict(os.environ)
        for k in ("THRESH_MODEL", "THRESH_NOW"):
            env.pop(k, None)
        env["THRESH_DB"] = str(self.guard_db)
        env["XDG_DATA_HOME"] = str(self.guard_xdg)
        env["TMPDIR"] = str(work)
        self.env = env
        self.seconds = 0.0
        self.site_params = None          # `thresh get` of the first site database

    def _run(self, args, env=None, ok=(0,)):
        t0 = time.perf_counter()
        try:
            return run([self.bin] + [str(a) for a in args], env=env or self.env, ok=ok)
        finally:
            self.seconds += time.perf_counter() - t0

    def version(self):
        return self._run(["--version"]).decode().strip()

    def build_model(self, out, corpora):
        """THE ONE PLACE that builds "the default model from these corpora":
        the build's own recipe, models/build-model.sh THRESH OUT CORPUS:WEIGHT...
        (see models/meson.build); corpora are (path, weight) pairs. When the
        recipe changes (other arguments, ...), change this function."""
        t0 = time.perf_counter()
        try:
            run(["sh", self.recipe, self.bin, out] +
                [f"{c}:{w}" for c, w in corpora], env=self.env)
        finally:
            self.seconds += time.perf_counter() - t0

    def new_db(self, db, model=None):
        """A fresh database: from the model dump (as a site does, `thresh
        init` with THRESH_MODEL), or empty; then --conf and --set."""
        if model is None:
            self._run(["--db", db, "init", "--empty"])
        else:
            self._run(["--db", db, "init"], env=dict(self.env, THRESH_MODEL=str(model)))
        self.apply(db)

    def apply(self, db):
        if self.conf:
            (Path(db) / "thresh.conf").write_text("".join(c + "\n" for c in self.conf))
        # Cutoffs must stay ordered (hold <= reject <= blatant), so a value may
        # only fit after another: retry what failed until nothing changes.
        pending = list(self.sets)
        while pending:
            failed = []
            for name, value in pending:
                try:
                    self._run(["--db", db, "set", name, value])
                except BenchError as e:
                    failed.append((name, value, e))
            if len(failed) == len(pending):
                name, value, e = failed[0]
                raise BenchError(f"--set {name}={value}: refused by thresh: {e}")
            pending = [(n, v) for n, v, _ in failed]

    def params(self, db):
        out = self._run(["--db", db, "get"]).decode()
        got = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 2:
                try:
                    got[parts[0]] = float(parts[1])
                except ValueError:
                    pass
        return got

    def train(self, db, tsv):
        self._run(["--db", db, "train", "--tsv", tsv])

    def check(self, db, tsv, expect):
        return parse_check_tsv(self._run(["--db", db, "check", "--tsv", tsv]), expect)

    def validate(self):
        """Fail early, with a clear message, on a --set or --conf this build
        does not know."""
        probe = self.work / "probe-db"
        self._run(["--db", probe, "init", "--empty"])
        known = self.params(probe)
        for name, value in self.sets:
            if name not in known:
                raise BenchError(f"--set {name}={value}: this thresh ({self.bin}) has no "
                                 f"parameter {name!r}; it has: {', '.join(sorted(known))}")
        if self.conf:
            (probe / "thresh.conf").write_text("".join(c + "\n" for c in self.conf))
            try:
                self._run(["--db", probe, "config"])
            except BenchError as e:
                raise BenchError(f"--conf: thresh refuses the configuration: {e}")
        self.apply(probe)
        return self.params(probe)

    def check_guards(self):
        for g in (self.guard_db, self.guard_xdg):
            if g.exists():
                raise BenchError(f"thresh wrote to {g}: a command ran without --db")


class Bogo:
    """bogofilter as compare.py drives it: one file per message (an empty
    header, then the text), -C (no configuration file), a fresh -d wordlist,
    -s -b / -n -b to register, -b -TT to score."""

    def __init__(self, binary, work):
        self.b = Bogofilter(binary)
        self.msgdir = work / "msgs"
        self.msgdir.mkdir()
        self.lists = work / "lists"
        self.lists.mkdir()
        self.nlist = 0
        self.seconds = 0.0

    def version(self):
        return self.b.version()

    def msg(self, text):
        p = self.msgdir / sha1(text)
        if not p.exists():
            p.write_bytes(b"\n" + text + b"\n")
        return str(p)

    def _list(self, names):
        self.nlist += 1
        p = self.lists / f"{self.nlist:05d}.lst"
        write_list(p, names)
        return p

    def register(self, wl, pairs):
        t0 = time.perf_counter()
        spam = [self.msg(t) for lab, t in pairs if lab == 1]
        ham = [self.msg(t) for lab, t in pairs if lab == 0]
        for flag, names in (("-s", spam), ("-n", ham)):
            if names:
                run([self.b.bin, "-C", "-d", wl, flag, "-b"], stdin_path=self._list(names))
        self.seconds += time.perf_counter() - t0

    def score(self, wl, texts):
        t0 = time.perf_counter()
        names = [self.msg(t) for t in texts]
        if not Path(wl, "wordlist.db").exists():
            # Nothing registered yet: bogofilter's answer for an unknown word.
            self.seconds += time.perf_counter() - t0
            return [0.5] * len(texts), [1] * len(texts)
        s = self.b.score(wl, self._list(names), names)
        self.seconds += time.perf_counter() - t0
        return s, [Bogofilter.verdict(x) for x in s]


# ---------------------------------------------------------------- metrics

class Scored:
    """The scores of one (filter, config, video, k)."""

    def __init__(self, filt, config, video, k, labels, scores, verdicts, texts, pos,
                 learned=(0, 0), cutoffs=None):
        self.filter, self.config, self.video, self.k = filt, config, video, k
        self.labels, self.scores, self.verdicts = labels, scores, verdicts
        self.texts, self.pos = texts, pos
        self.learned = learned                 # (spam, ham) of the first k
        self.cutoffs = cutoffs                 # thresh: (hold, reject) in force

    def restrict(self, config, k, learned):
        keep = [i for i, p in enumerate(self.pos) if p >= k]
        return Scored(self.filter, config, self.video, k,
                      [self.labels[i] for i in keep], [self.scores[i] for i in keep],
                      [self.verdicts[i] for i in keep], [self.texts[i] for i in keep],
                      [self.pos[i] for i in keep], learned, self.cutoffs)


def metrics(s):
    """Counts and percentages of one Scored, or of a pool of them."""
    labels, scores, verdicts = s.labels, s.scores, s.verdicts
    n = len(labels)
    n_spam = sum(labels)
    n_ham = n - n_spam

    def count(lab, v):
        return sum(1 for x, y in zip(verdicts, labels) if x == v and y == lab)

    def pct(lab, v):
        tot = n_spam if lab else n_ham
        return 100.0 * count(lab, v) / tot if tot else None

    auc = roc_auc(scores, labels) if n_spam and n_ham else None
    m = {"n": n, "n_spam": n_spam, "n_ham": n_ham, "auc": auc,
         "ham_rejected": pct(0, 2), "ham_held": pct(0, 1), "ham_accepted": pct(0, 0),
         "spam_accepted": pct(1, 0), "spam_held": pct(1, 1), "spam_rejected": pct(1, 2),
         "ham_rejected_n": count(0, 2), "ham_held_n": count(0, 1),
         "spam_accepted_n": count(1, 0), "spam_held_n": count(1, 1)}
    if s.cutoffs is not None:
        # A verdict above what the score alone gives came from another rule
        # (with check --tsv: too_many_links, or a word list of --conf).
        m["ham_held_by_rule_n"] = sum(
            1 for sc, v, lab, cut in zip(scores, verdicts, labels, s.cutoffs)
            if lab == 0 and v == 1 and sc < cut[0])
        m["spam_held_by_rule_n"] = sum(
            1 for sc, v, lab, cut in zip(scores, verdicts, labels, s.cutoffs)
            if lab == 1 and v == 1 and sc < cut[0])
        m["rejected_by_rule_n"] = sum(
            1 for sc, v, cut in zip(scores, verdicts, s.cutoffs) if v == 2 and sc < cut[1])
    return m


def pool(items, video):
    """Pool several Scored of one (filter, config, k) into one."""
    first = items[0]
    cut = None
    if first.cutoffs is not None:
        cut = []
        for s in items:
            cut += s.cutoffs
    out = Scored(first.filter, first.config, video, first.k,
                 [x for s in items for x in s.labels], [x for s in items for x in s.scores],
                 [x for s in items for x in s.verdicts], [x for s in items for x in s.texts],
                 [x for s in items for x in s.pos],
                 (sum(s.learned[0] for s in items), sum(s.learned[1] for s in items)), None)
    out.cutoffs = cut
    return out


def with_cutoffs(s, hold, reject):
    s.cutoffs = [(hold, reject)] * len(s.labels)
    return s


# ---------------------------------------------------------------- the run

def run_video(v, others, th, bogo, ks, work, recipe_corpora, youtube_idx):
    """Every configuration of one video; returns a list of Scored."""
    vw = work / f"v{v.number}-{v.name}"
    vw.mkdir()
    out = []
    labels = [it[0] for it in v.items]
    texts = [it[1] for it in v.items]
    pos = list(range(len(v.items)))
    n = len(v.items)

    # The corpora of the default model, the YouTube one made of the other four videos.
    yt = vw / "youtube-without.tsv"
    with open(yt, "wb") as f:
        for o in others:
            for line in o.lines:
                f.write(line + b"\n")
    corpora = list(recipe_corpora)
    if youtube_idx is not None:
        corpora[youtube_idx] = yt
    weights = [RECIPE_WEIGHTS.get(Path(p).resolve(), "1") for p in recipe_corpora]
    dump = vw / "model.dump"
    log(f"{v.name}: building the default model without {v.name}")
    th.build_model(dump, list(zip(corpora, weights)))

    def thresh_site(tag, model, k):
        db = vw / f"{tag}-k{k}"
        th.new_db(db, model)
        if k:
            tr = vw / f"train-k{k}.tsv"
            write_tsv(tr, [(it[0], it[1]) for it in v.items[:k]])
            th.train(db, tr)
        te = vw / f"test-k{k}.tsv"
        write_tsv(te, [(it[0], it[1]) for it in v.items[k:]])
        sc, vd = th.check(db, te, n - k)
        p = th.params(db)
        if model and th.site_params is None:
            th.site_params = p
        shutil.rmtree(db)
        learned = (sum(labels[:k]), k - sum(labels[:k]))
        s = Scored("thresh", DEFAULT_SITE if model else SITE_ALONE, v.name, k, labels[k:], sc,
                   vd, texts[k:], pos[k:], learned)
        return with_cutoffs(s, p.get("hold_cutoff", float("nan")),
                            p.get("reject_cutoff", float("nan")))

    # thresh
    log(f"{v.name}: thresh, k = {', '.join(str(k) for k in ks)}")
    base = thresh_site("site", dump, 0)
    for k in ks:
        learned = (sum(labels[:k]), k - sum(labels[:k]))
        if k == 0:
            out.append(base)
            continue
        out.append(thresh_site("site", dump, k))
        out.append(thresh_site("alone", None, k))
        out.append(base.restrict(DEFAULT_ALONE, k, learned))

    # bogofilter
    if bogo:
        log(f"{v.name}: bogofilter, k = {', '.join(str(k) for k in ks)}")
        model_pairs = []
        for c in corpora:
            pairs, _ = read_tsv_lines(c)
            model_pairs += pairs
        model_wl = vw / "bogo-model"
        bogo.register(model_wl, learned_set(model_pairs))
        sc, vd = bogo.score(model_wl, texts)
        bbase = Scored("bogofilter", DEFAULT_SITE, v.name, 0, labels, sc, vd, texts, pos)
        for k in ks:
            learned = (sum(labels[:k]), k - sum(labels[:k]))
            first = [(it[0], it[1]) for it in v.items[:k]]
            if k == 0:
                out.append(bbase)
                continue
            wl = vw / f"bogo-site-k{k}"
            shutil.copytree(model_wl, wl)
            bogo.register(wl, first)
            sc, vd = bogo.score(wl, texts[k:])
            out.append(Scored("bogofilter", DEFAULT_SITE, v.name, k, labels[k:], sc, vd,
                              texts[k:], pos[k:], learned))
            shutil.rmtree(wl)
            wl = vw / f"bogo-alone-k{k}"
            bogo.register(wl, first)
            sc, vd = bogo.score(wl, texts[k:])
            out.append(Scored("bogofilter", SITE_ALONE, v.name, k, labels[k:], sc, vd,
                              texts[k:], pos[k:], learned))
            shutil.rmtree(wl, ignore_errors=True)
    shutil.rmtree(vw)
    return out


def run_cross(th, bogo, work):
    """SMS alone scoring every YouTube comment, YouTube alone scoring every
    SMS message (both deduplicated as `thresh eval` does)."""
    cw = work / "cross"
    cw.mkdir()
    out = []
    yt_pairs, _ = read_tsv_lines(YOUTUBE_TSV)
    sms_pairs, _ = read_tsv_lines(SMS_TSV)
    sets = {"YouTube": dedupe(yt_pairs), "SMS": dedupe(sms_pairs)}
    for config, model_corpus, model_pairs, target in (
            (CROSS_SMS, SMS_TSV, sms_pairs, "YouTube"),
            (CROSS_YT, YOUTUBE_TSV, yt_pairs, "SMS")):
        items = sets[target]
        labels = [lab for lab, _ in items]
        texts = [t for _, t in items]
        pos = list(range(len(items)))
        log(f"cross-corpus: {config} scoring {target} ({len(items)})")
        dump = cw / f"{config.split()[0]}.dump"
        th.build_model(dump, [(model_corpus, "1")])
        db = cw / f"{config.split()[0]}-db"
        th.new_db(db, dump)
        tsv = cw / f"{target}.tsv"
        write_tsv(tsv, items)
        sc, vd = th.check(db, tsv, len(items))
        p = th.params(db)
        out.append(with_cutoffs(Scored("thresh", config, target, 0, labels, sc, vd, texts, pos),
                                p.get("hold_cutoff"), p.get("reject_cutoff")))
        if bogo:
            wl = cw / f"{config.split()[0]}-wl"
            bogo.register(wl, learned_set(model_pairs))
            sc, vd = bogo.score(wl, texts)
            out.append(Scored("bogofilter", config, target, 0, labels, sc, vd, texts, pos))
    shutil.rmtree(cw)
    return out


# ---------------------------------------------------------------- report

def fpct(x):
    return "–" if x is None else f"{x:.2f}"


def fauc(x):
    return "–" if x is None else f"{x:.4f}"


def fmt_metric(name, x):
    return fauc(x) if name == "auc" else fpct(x)


CONFIG_ROWS = [("thresh", DEFAULT_SITE), ("thresh", SITE_ALONE), ("thresh", DEFAULT_ALONE),
               ("bogofilter", DEFAULT_SITE), ("bogofilter", SITE_ALONE)]


def config_label(filt, config, k):
    if config == DEFAULT_SITE and k == 0:
        return "default (no site comments)"
    if config == DEFAULT_ALONE:
        return "default alone (reference)"
    return config


def summarize(results, videos, ks, cross):
    """Metrics per row, pooled rows and worst videos: the JSON summary."""
    by = {}
    for s in results:
        by[(s.filter, s.config, s.video, s.k)] = s
    rows = []
    pooled = {}
    worst = {}
    names = [v.name for v in videos]
    pool_name = "all five" if len(names) == 5 else f"all {len(names)}"
    for k in ks:
        for filt, config in CONFIG_ROWS:
            if config == DEFAULT_ALONE and filt != "thresh":
                continue
            if k == 0 and config != DEFAULT_SITE:
                continue
            got = [by[(filt, config, n, k)] for n in names if (filt, config, n, k) in by]
            if not got:
                continue
            per = {}
            for s in got:
                m = metrics(s)
                m.update({"filter": filt, "config": config, "video": s.video, "k": k,
                          "learned_spam": s.learned[0], "learned_ham": s.learned[1]})
                rows.append(m)
                per[s.video] = m
            p = metrics(pool(got, pool_name))
            p.update({"filter": filt, "config": config, "video": pool_name, "k": k,
                      "learned_spam": sum(s.learned[0] for s in got),
                      "learned_ham": sum(s.learned[1] for s in got)})
            pooled[(filt, config, k)] = p
            w = {}
            for name in METRICS:
                vals = [(m[name], vid) for vid, m in per.items() if m[name] is not None]
                if not vals:
                    w[name] = None
                    continue
                if name in WORSE_IS_LOWER:
                    val, vid = min(vals, key=lambda x: x[0])
                else:
                    val, vid = max(vals, key=lambda x: x[0])
                w[name] = {"value": val, "video": vid}
            worst[(filt, config, k)] = w
    cross_rows = []
    for s in cross:
        m = metrics(s)
        m.update({"filter": s.filter, "config": s.config, "video": s.video, "k": 0})
        cross_rows.append(m)
    return rows, pooled, worst, cross_rows, pool_name


def targets(rows, pooled, worst, ks):
    """The targets of the new-site work, for thresh default+site."""
    out = []

    def add(what, value, ok, fmt):
        out.append({"target": what, "value": value, "met": bool(ok) if value is not None
                    else False, "fmt": fmt})

    def pv(k, name):
        p = pooled.get(("thresh", DEFAULT_SITE, k))
        return p[name] if p else None

    def wv(k, name):
        w = worst.get(("thresh", DEFAULT_SITE, k))
        return w[name] if w and w[name] else None

    if 0 in ks:
        w = wv(0, "ham_rejected")
        add(f"k=0: ham rejected <= 1% on every video (worst: {w['video'] if w else '–'})",
            w["value"] if w else None, w and w["value"] <= 1.0, "pct")
        x = pv(0, "ham_rejected")
        add("k=0: ham rejected <= 0.5% over all", x, x is not None and x <= 0.5, "pct")
        x = pv(0, "ham_held")
        add("k=0: ham held <= 12% over all", x, x is not None and x <= 12.0, "pct")
        x = pv(0, "spam_accepted")
        add("k=0: spam accepted <= 3% over all", x, x is not None and x <= 3.0, "pct")
        x = pv(0, "auc")
        add("k=0: ROC AUC >= 0.99 over all (pooled)", x, x is not None and x >= 0.99, "auc")
        # the issue's own table took the mean of the five videos' AUCs
        per = [r["auc"] for r in rows if r["k"] == 0 and r["filter"] == "thresh"
               and r["config"] == DEFAULT_SITE and r["auc"] is not None]
        x = sum(per) / len(per) if per else None
        add("k=0: ROC AUC >= 0.99 over all (mean of the videos')", x,
            x is not None and x >= 0.99, "auc")
    if 50 in ks:
        w = wv(50, "ham_rejected")
        add(f"k=50: ham rejected <= 0.5% on every video (worst: {w['video'] if w else '–'})",
            w["value"] if w else None, w and w["value"] <= 0.5, "pct")
        x = pv(50, "ham_held")
        add("k=50: ham held <= 8% over all", x, x is not None and x <= 8.0, "pct")
        idx = {(r["filter"], r["config"], r["video"]): r for r in rows if r["k"] == 50}
        for (f, c, vid), r in idx.items():
            if (f, c) != ("thresh", DEFAULT_SITE):
                continue
            da = idx.get(("thresh", DEFAULT_ALONE, vid), {}).get("auc")
            sa = idx.get(("thresh", SITE_ALONE, vid), {}).get("auc")
            ref = max(x for x in (da, sa) if x is not None) if (da, sa) != (None, None) else None
            add(f"k=50, {vid}: AUC >= max(default alone {fauc(da)}, 50 comments alone "
                f"{fauc(sa)})", r["auc"],
                r["auc"] is not None and ref is not None and r["auc"] >= ref, "auc")
    return out


def report_md(args, meta, videos, rows, pooled, worst, cross_rows, pool_name, tgts, ks,
              check_note):
    out = []
    w = out.append
    w("## newsite: a new site's first week")
    w("")
    for line in meta["header"]:
        w(f"- {line}")
    w("")
    w("### The videos")
    w("")
    w("Each video's comments, deduplicated (the earliest copy of a repeated text kept, texts "
      "under both labels dropped) and put in DATE order. *Seen elsewhere*: how many of them "
      "occur verbatim (same text, any label) in the other four videos, so in the model that "
      "scores them; *in the model's corpora*: in any corpus of that model (SMS too).")
    w("")
    w(f"*Undated*: kept comments without a usable DATE ({UNDATED_NOTE[args.undated]}).")
    w("")
    w("| video | rows | kept | spam / ham | repeats dropped | conflicts dropped | undated "
      "| first / last date | seen elsewhere (other label) | in the model's corpora |")
    w("|---|---:|---:|---|---:|---:|---:|---|---:|---:|")
    for v in videos:
        d = meta["videos"][v.name]
        w(f"| {v.name} | {d['rows']} | {d['kept']} | {d['spam']} / {d['ham']} "
          f"| {d['duplicates']} | {d['conflicts']} | {d['undated']} "
          f"| {d['first_date'] or '–'} / {d['last_date'] or '–'} "
          f"| {d['seen_elsewhere']} ({d['seen_elsewhere_other_label']}) "
          f"| {d['in_model_corpora']} |")
    w("")
    idx = {(r["filter"], r["config"], r["video"], r["k"]): r for r in rows}
    hdr = ("| video | filter | configuration | n | spam | learned (spam / ham) | ROC AUC "
           "| ham rejected % | ham held % | spam accepted % | spam held % |")
    sep = "|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|"
    for k in ks:
        if k == 0:
            w("### k = 0: the default model alone, every comment of the video")
        else:
            w(f"### k = {k}: the site's first {k} comments learned, the rest scored")
        w("")
        w(hdr)
        w(sep)
        present = [(f, c) for f, c in CONFIG_ROWS if (f, c, k) in pooled]
        for v in videos:
            for f, c in present:
                r = idx.get((f, c, v.name, k))
                if not r:
                    continue
                lr = "–" if k == 0 or c == DEFAULT_ALONE else \
                    f"{r['learned_spam']} / {r['learned_ham']}"
                w(f"| {v.name} | {f} | {config_label(f, c, k)} | {r['n']} | {r['n_spam']} | {lr} "
                  f"| {fauc(r['auc'])} | {fpct(r['ham_rejected'])} | {fpct(r['ham_held'])} "
                  f"| {fpct(r['spam_accepted'])} | {fpct(r['spam_held'])} |")
        for f, c in present:
            p = pooled[(f, c, k)]
            lr = "–" if k == 0 or c == DEFAULT_ALONE else f"{p['learned_spam']} / {p['learned_ham']}"
            w(f"| **{pool_name}** | {f} | {config_label(f, c, k)} | {p['n']} | {p['n_spam']} | {lr} "
              f"| {fauc(p['auc'])} | {fpct(p['ham_rejected'])} | {fpct(p['ham_held'])} "
              f"| {fpct(p['spam_accepted'])} | {fpct(p['spam_held'])} |")
        for f, c in present:
            wr = worst[(f, c, k)]
            cells = []
            for name in METRICS:
                x = wr[name]
                cells.append("–" if not x else f"{fmt_metric(name, x['value'])} ({x['video']})")
            w(f"| worst video | {f} | {config_label(f, c, k)} | – | – | – | " +
              " | ".join(cells) + " |")
        w("")
        held = pooled.get(("thresh", DEFAULT_SITE, k))
        if held and held.get("ham_held_n"):
            w(f"thresh default+site, {pool_name}: {held['ham_held_by_rule_n']} of the "
              f"{held['ham_held_n']} ham held were held by a rule, not by their score "
              f"(score under hold_cutoff: {check_note}).")
            w("")
    if cross_rows:
        w("### Cross-corpus: a model of one corpus on the other")
        w("")
        w("Each corpus whole (deduplicated), scored by a model built with the same recipe "
          "from the other corpus alone.")
        w("")
        w("| model | scores | filter | n | spam | ROC AUC | ham rejected % | ham held % "
          "| spam accepted % | spam held % |")
        w("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for r in cross_rows:
            w(f"| {r['config']} | {r['video']} | {r['filter']} | {r['n']} | {r['n_spam']} "
              f"| {fauc(r['auc'])} | {fpct(r['ham_rejected'])} | {fpct(r['ham_held'])} "
              f"| {fpct(r['spam_accepted'])} | {fpct(r['spam_held'])} |")
        w("")
    w("### Targets (thresh, default+site)")
    w("")
    if tgts:
        w("| target | measured | met |")
        w("|---|---:|---|")
        for t in tgts:
            val = "–" if t["value"] is None else (
                fauc(t["value"]) if t["fmt"] == "auc" else fpct(t["value"]) + "%")
            w(f"| {t['target']} | {val} | {'yes' if t['met'] else 'no'} |")
    else:
        w("No target applies to these values of k (the targets are set for k = 0 and k = 50).")
    w("")
    w(f"Run time: {meta['seconds']:.1f} s (thresh commands {meta['thresh_seconds']:.1f} s, "
      f"bogofilter {meta['bogo_seconds']:.1f} s).")
    w("")
    return "\n".join(out)


def self_check(text, videos, ks, bogo, pool_name):
    """The report parses and has the rows it should."""
    tables = parse_tables(text)
    by_k = {}
    for header, rows in tables:
        if "configuration" in header:
            by_k[len(by_k)] = (header, rows)
    assert len(by_k) == len(ks), f"{len(by_k)} k tables for {len(ks)} values of k"
    for i, k in enumerate(ks):
        header, rows = by_k[i]
        seen = set()
        for r in rows:
            row = dict(zip(header, r))
            seen.add((row["video"].strip("*"), row["filter"], row["configuration"]))
            if row["video"] != "worst video":
                assert int(row["n"]) > 0, row
                if row["ROC AUC"] != "–":
                    assert 0.0 <= float(row["ROC AUC"]) <= 1.0, row
                for key in header:
                    if key.endswith("%") and row[key] != "–":
                        assert 0.0 <= float(row[key]) <= 100.0, (key, row)
        want_cfg = [("thresh", DEFAULT_SITE)]
        if k:
            want_cfg += [("thresh", SITE_ALONE), ("thresh", DEFAULT_ALONE)]
        if bogo:
            want_cfg += [("bogofilter", DEFAULT_SITE)] + ([("bogofilter", SITE_ALONE)] if k else [])
        for name in [v.name for v in videos] + [pool_name, "worst video"]:
            for f, c in want_cfg:
                assert (name, f, config_label(f, c, k)) in seen, (k, name, f, c)
    assert any("target" in h for h, _ in tables) or not ({0, 50} & set(ks))
    return len(tables)


# ---------------------------------------------------------------- main

def parse_set(spec):
    name, eq, value = spec.partition("=")
    if not eq or not name.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"--set {spec!r}: expected NAME=VALUE")
    return name.strip(), value.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--thresh", default=os.environ.get("THRESH_BIN"),
                    help="the thresh command (default $THRESH_BIN, else ./build/src/cli/thresh, "
                         "else thresh on PATH)")
    ap.add_argument("--bogofilter", default=os.environ.get("BOGOFILTER") or "bogofilter",
                    help="the bogofilter command (default $BOGOFILTER, else bogofilter on PATH)")
    ap.add_argument("--no-bogofilter", action="store_true", help="thresh only (a faster run)")
    ap.add_argument("--videos", default=None,
                    help="comma-separated videos by name or number (default: all five), "
                         "e.g. Psy,Eminem or 1,4")
    ap.add_argument("--ks", default=",".join(str(k) for k in DEFAULT_KS),
                    help="comma-separated numbers of site comments learned (default 0,25,50,100)")
    ap.add_argument("--set", dest="sets", action="append", default=[], type=parse_set,
                    metavar="NAME=VALUE",
                    help="`thresh set NAME VALUE` on every database scored (repeatable)")
    ap.add_argument("--conf", action="append", default=[], metavar="'KEY = VALUE'",
                    help="a line of DIR/thresh.conf of every database scored (repeatable)")
    ap.add_argument("--recipe", default=str(RECIPE),
                    help="the model recipe, called as RECIPE THRESH OUT CORPUS:WEIGHT... "
                         "(default models/build-model.sh)")
    ap.add_argument("--recipe-corpora", default=None, metavar="FILE[:WEIGHT],...",
                    help="the corpora of the default model and what a comment of each "
                         "counts as (default: models/meson.build's recipe); the YouTube TSV "
                         "among them is the one replaced by the other four videos")
    ap.add_argument("--undated", choices=("last", "neighbour", "drop"), default="last",
                    help="comments without a usable DATE: last in file order (default), "
                         "the DATE of their nearest dated neighbour in the file, or dropped")
    ap.add_argument("--drop-seen", action="store_true",
                    help="drop from each video the comments that occur verbatim in the "
                         "model's corpora (leak-free figures)")
    ap.add_argument("--no-cross", action="store_true", help="skip the cross-corpus table")
    ap.add_argument("--scores-out", default=None, metavar="FILE.jsonl",
                    help="write every scored comment as a JSON line")
    ap.add_argument("--json", action="store_true",
                    help="print the JSON summary instead of the Markdown report")
    ap.add_argument("--out", default=str(HERE / "out"),
                    help="folder for newsite.md and newsite.json (default tests/bench/out)")
    ap.add_argument("--tmp", default=None, help="scratch folder (default $TMPDIR)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    ap.add_argument("--self-check", action="store_true",
                    help="parse the printed report and fail when a row is missing")
    args = ap.parse_args()

    try:
        ks = sorted({int(x) for x in args.ks.split(",") if x.strip()})
    except ValueError:
        ap.error(f"--ks {args.ks!r}: expected comma-separated whole numbers")
    if not ks or ks[0] < 0:
        ap.error("--ks: expected numbers >= 0")
    if not args.thresh:
        guess = ROOT / "build" / "src" / "cli" / "thresh"
        args.thresh = str(guess) if guess.exists() else shutil.which("thresh")
    if not args.thresh or not Path(args.thresh).exists():
        ap.error("no thresh command: give --thresh or $THRESH_BIN")
    bogobin = None
    if not args.no_bogofilter:
        bogobin = shutil.which(args.bogofilter)
        if not bogobin:
            ap.error(f"{args.bogofilter} not found (Debian package bogofilter), "
                     "or use --no-bogofilter")
    if args.recipe_corpora:
        recipe_corpora = []
        for p in args.recipe_corpora.split(","):
            p, _, w = p.strip().partition(":")
            p = Path(p)
            if not p.is_absolute() and not p.exists() and (ROOT / p).exists():
                p = ROOT / p
            recipe_corpora.append(p.resolve())
            RECIPE_WEIGHTS[p.resolve()] = w or "1"
        recipe_src = "--recipe-corpora"
    else:
        recipe_corpora, recipe_src = recipe_corpora_from_meson()
    for p in recipe_corpora:
        if not Path(p).is_file():
            ap.error(f"corpus {p} of the recipe not found")
    youtube_idx = next((i for i, p in enumerate(recipe_corpora)
                        if Path(p).resolve() == YOUTUBE_TSV.resolve()), None)

    all_videos = [read_video(p) for p in sorted((MODELS / "youtube").glob("Youtube0*-*.csv"))]
    if len(all_videos) != 5:
        ap.error(f"expected the five video CSVs in models/youtube, found {len(all_videos)}")
    if args.videos:
        chosen = []
        for want in args.videos.split(","):
            want = want.strip().lower()
            hit = [v for v in all_videos if v.name.lower() == want or str(v.number) == want]
            if not hit:
                ap.error(f"--videos: no video {want!r} (have "
                         f"{', '.join(v.name for v in all_videos)})")
            if hit[0] not in chosen:
                chosen.append(hit[0])
        videos = [v for v in all_videos if v in chosen]
    else:
        videos = all_videos

    t_start = time.perf_counter()
    load_start = loadavg()
    work = Path(tempfile.mkdtemp(prefix="thresh-newsite-", dir=args.tmp))
    scores_f = None
    try:
        # The shipped TSV must be the five CSVs converted: check it.
        union = [line for v in all_videos for line in v.lines]
        shipped = [line for line in YOUTUBE_TSV.read_bytes().split(b"\n") if line]
        same_order = union == shipped
        same_set = set(union) == set(shipped)
        if same_order:
            log(f"check: the five CSVs converted (label<TAB>text, tabs and line breaks to "
                f"spaces) reproduce {YOUTUBE_TSV.relative_to(ROOT)} line for line "
                f"({len(union)} lines)")
        elif same_set:
            log(f"check: the five CSVs converted give the same set of lines as "
                f"{YOUTUBE_TSV.relative_to(ROOT)}, in another order or multiplicity")
        else:
            only_csv = len(set(union) - set(shipped))
            only_tsv = len(set(shipped) - set(union))
            log(f"WARNING: the five CSVs converted do NOT reproduce "
                f"{YOUTUBE_TSV.relative_to(ROOT)}: {only_csv} lines only in the CSVs, "
                f"{only_tsv} only in the TSV")
        if youtube_idx is None:
            log(f"WARNING: the recipe's corpora do not include {YOUTUBE_TSV.relative_to(ROOT)}: "
                "nothing is held out of the model; see 'in the model's corpora' in the report")

        corpus_texts = {}
        for p in recipe_corpora:
            if youtube_idx is not None and Path(p).resolve() == YOUTUBE_TSV.resolve():
                continue
            pairs, bad = read_tsv_lines(p)
            if bad:
                log(f"WARNING: {p}: {bad} lines thresh train would refuse")
            for lab, t in pairs:
                corpus_texts.setdefault(t, set()).add(lab)

        meta = {"videos": {}}
        for v in all_videos:
            order_video(v, args.undated)
        for v in videos:
            others = [o for o in all_videos if o is not v]
            other_labels = {}
            for o in others:
                for lab, t, _, _ in o.rows:
                    other_labels.setdefault(t, set()).add(lab)
            if youtube_idx is not None:
                model_texts = dict(other_labels)
                for t, ls in corpus_texts.items():
                    model_texts.setdefault(t, set()).update(ls)
            else:
                model_texts = corpus_texts
            seen = [it for it in v.items if it[1] in other_labels]
            seen_other = [it for it in seen if other_labels[it[1]] != {it[0]}]
            in_model = sum(1 for it in v.items if it[1] in model_texts)
            d = {"rows": len(v.rows), "bad_rows": v.bad, "duplicates": v.duplicates,
                 "conflicts": v.conflicts, "undated": v.undated,
                 "undated_rows": sum(1 for r in v.rows if r[2] is None),
                 "dated_by_neighbour": v.dated_by_neighbour,
                 "seen_elsewhere": len(seen), "seen_elsewhere_other_label": len(seen_other),
                 "in_model_corpora": in_model}
            if args.drop_seen:
                before = len(v.items)
                v.items = [it for it in v.items if it[1] not in model_texts]
                v.dropped_seen = before - len(v.items)
                d["dropped_seen"] = v.dropped_seen
            dated = [it[2] for it in v.items if it[2] is not None]
            d.update({"kept": len(v.items), "spam": v.n_spam, "ham": len(v.items) - v.n_spam,
                      "first_date": (datetime.fromtimestamp(min(dated), timezone.utc)
                                     .strftime("%Y-%m-%d") if dated else None),
                      "last_date": (datetime.fromtimestamp(max(dated), timezone.utc)
                                    .strftime("%Y-%m-%d") if dated else None),
                      "first_k_spam": {k: sum(it[0] for it in v.items[:k]) for k in ks}})
            meta["videos"][v.name] = d
            log(f"{v.name}: {len(v.rows)} rows, {len(v.items)} kept ({v.n_spam} spam) after "
                f"{v.duplicates} repeats and {v.conflicts} conflicting texts; "
                f"{v.undated} without a usable DATE ({args.undated}); "
                f"{len(seen)} occur verbatim in the other four videos "
                f"({len(seen_other)} under another label)"
                + (f"; {v.dropped_seen} dropped (--drop-seen)" if args.drop_seen else ""))
            if ks[-1] >= len(v.items):
                raise BenchError(f"{v.name}: k = {ks[-1]} leaves nothing to score "
                                 f"({len(v.items)} comments)")

        th = Thresh(Path(args.thresh).resolve(), work, args.sets, args.conf, args.recipe)
        params = th.validate()
        bogo = Bogo(bogobin, work) if bogobin else None

        if args.scores_out:
            scores_f = open(args.scores_out, "w")

        def dump_scores(items):
            if not scores_f:
                return
            for s in items:
                if s.config == DEFAULT_ALONE:
                    continue          # the k = 0 rows restricted to pos >= k
                for lab, sc, vd, t, p in zip(s.labels, s.scores, s.verdicts, s.texts, s.pos):
                    scores_f.write(json.dumps({
                        "filter": s.filter, "config": s.config, "video": s.video, "k": s.k,
                        "pos": p, "label": "spam" if lab else "ham", "score": sc,
                        "verdict": VERDICT_NAMES[vd], "text_sha1": sha1(t)}) + "\n")

        results = []
        for v in videos:
            others = [o for o in all_videos if o is not v]
            got = run_video(v, others, th, bogo, ks, work, recipe_corpora, youtube_idx)
            dump_scores(got)
            results += got
        cross = []
        if not args.no_cross:
            cross = run_cross(th, bogo, work)
            dump_scores(cross)
        th.check_guards()

        rows, pooled, worst, cross_rows, pool_name = summarize(results, videos, ks, cross)
        tgts = targets(rows, pooled, worst, ks)
        if th.site_params:
            params = th.site_params
        seconds = time.perf_counter() - t_start
        src = source_revision()
        header = [
            f"machine: {machine()}",
            f"load average (1 min) at the start and the end of the run: {load_start}, "
            f"{loadavg()}",
            f"versions: {th.version()}{' from ' + src if src else ''}"
            + (f"; {bogo.version()}" if bogo else "; bogofilter not run"),
            f"command: `{os.environ.get('THRESH_BENCH_CMD') or shlex.join(sys.argv)}`",
            f"model recipe: `{rel(args.recipe)} THRESH OUT "
            f"{' '.join(rel(p) + ':' + RECIPE_WEIGHTS.get(Path(p).resolve(), '1') for p in recipe_corpora)}` "
            f"(corpora from {recipe_src})"
            + (", the YouTube corpus replaced by the other four videos' CSVs converted"
               if youtube_idx is not None else
               "; the YouTube corpus is not among them, so nothing is held out"),
            f"thresh parameters in force on the scored databases: hold_cutoff "
            f"{params.get('hold_cutoff', float('nan')):g}, reject_cutoff "
            f"{params.get('reject_cutoff', float('nan')):g}"
            + (f"; --set {', '.join(f'{n}={x}' for n, x in args.sets)}" if args.sets else "")
            + (f"; --conf {'; '.join(args.conf)}" if args.conf else ""),
            "thresh verdicts are `check --tsv`'s: content only, read-only, so the score's "
            "cutoffs and too_many_links (hold_links, 2 links by default) decide, plus any "
            "word list given with --conf",
            f"bogofilter: ham at or below {BOGO_HAM_CUTOFF}, held (unsure) above, rejected "
            f"(spam) from {BOGO_SPAM_CUTOFF}" if bogo else "bogofilter: not run",
            f"comments without a usable DATE: {args.undated}"
            + ("; comments found verbatim in the model's corpora dropped (--drop-seen)"
               if args.drop_seen else ""),
        ]
        meta.update({"header": header, "seconds": seconds, "thresh_seconds": th.seconds,
                     "bogo_seconds": bogo.seconds if bogo else 0.0})
        check_note = "too_many_links" + (", or a --conf word list" if args.conf else "")
        text = report_md(args, meta, videos, rows, pooled, worst, cross_rows, pool_name, tgts,
                         ks, check_note)
        summary = {
            "header": header, "ks": ks, "videos": meta["videos"],
            "csv_reproduces_tsv": {"same_lines_in_order": same_order, "same_set": same_set},
            "params": params, "sets": [f"{n}={x}" for n, x in args.sets], "conf": args.conf,
            "rows": rows,
            "pooled": [dict(v) for v in pooled.values()],
            "worst": [{"filter": f, "config": c, "k": k, **w}
                      for (f, c, k), w in worst.items()],
            "cross": cross_rows,
            "targets": [{k: v for k, v in t.items() if k != "fmt"} for t in tgts],
            "seconds": round(seconds, 2), "thresh_seconds": round(th.seconds, 2),
            "bogofilter_seconds": round(bogo.seconds, 2) if bogo else 0.0,
        }
        out_dir = Path(args.out)
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "newsite.md").write_text(text + "\n")
        (out_dir / "newsite.json").write_text(json.dumps(summary, indent=1) + "\n")
        print(json.dumps(summary, indent=1) if args.json else text)
        log(f"done in {seconds:.1f} s (thresh {th.seconds:.1f} s, bogofilter "
            f"{bogo.seconds if bogo else 0:.1f} s); report in {out_dir / 'newsite.md'}")
        if args.self_check:
            ntab = self_check(text, videos, ks, bogo is not None, pool_name)
            log(f"self-check: the report parses and has every row ({ntab} tables)")
    except BenchError as e:
        print(f"newsite.py: {e}", file=sys.stderr)
        return 1
    finally:
        if scores_f:
            scores_f.close()
        if args.keep:
            log(f"scratch kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
