#!/usr/bin/env python3
"""compare.py - thresh side by side with bogofilter: accuracy and speed.

Run it through compare.sh (which installs bogofilter and builds thresh), or
directly:

    python3 tests/bench/compare.py --thresh BUILD/src/cli/thresh \\
        --libscore BUILD/tests/bench/thresh-libscore

For each corpus (LABEL<TAB>TEXT lines): drop repeated texts (keep the first)
and texts seen under both labels, as `thresh eval` does; deal the rest into
the same K stratified folds for both filters; train each filter on K-1 folds
from scratch and score the remaining fold. Pool the scores of all folds and
print, per filter, ROC AUC, accuracy and F1 (spam = rejected) and the
moderation table at each filter's own cutoffs:

  thresh      accepted below hold_cutoff, held from hold_cutoff, rejected from
              reject_cutoff (the verdicts `thresh check --tsv` prints);
  bogofilter  ham at or below ham_cutoff 0.45, unsure above it, spam from
              spam_cutoff 0.99 (its compiled-in defaults; -C reads no config).

Then time both on the whole deduplicated corpus, one process per run, wall
clock, the median of --reps runs after one untimed warm-up run:

  train   `thresh init --empty` (untimed) + `thresh train --tsv`, against
          `bogofilter -s -b` plus `bogofilter -n -b` (one file per message);
  score   `thresh check --tsv` against `bogofilter -b -TT` (bulk mode: file
          names on stdin, one message per file), both on the model trained
          on the whole corpus;
  library thresh-libscore: thresh_view_check in-process over comments
          already in memory, repeated for at least --lib-seconds, one thread.

Scale: a model of at least --scale-tokens tokens (both corpora plus
synthetic comments of random words from a large synthetic vocabulary) is
built once and cached under --out; the same scoring figures are measured
against it and against the model of both corpora alone. bogofilter gets a
wordlist of the same size: the same corpora and synthetic comments (mbox
mode), topped up with synthetic tokens through `bogoutil -l`.

The report is Markdown on standard output (also written to OUT/report.md);
progress goes to standard error. Python 3 standard library only.
"""

import argparse
import hashlib
import json
import os
import platform
import random
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

CORPORA = {
    "YouTube": ROOT / "models" / "youtube" / "youtube-spam-collection.tsv",
    "SMS": ROOT / "models" / "sms" / "sms-spam-collection.tsv",
}

# bogofilter's compiled-in defaults (bogofilter -C -Q): spam_cutoff, ham_cutoff.
BOGO_SPAM_CUTOFF = 0.99
BOGO_HAM_CUTOFF = 0.45

# Targets of issue 6.
TARGET_AUC = {"YouTube": 0.985, "SMS": 0.99}
TARGET_HAM_REJECTED = 0.5
TARGET_HAM_HELD = 10.0
TARGET_SPAM_ACCEPTED = 2.0
TARGET_SCORE_RATIO = 10.0
TARGET_LIB_RATE = 100_000


def log(msg):
    print(f"[compare] {msg}", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


# ---------------------------------------------------------------- processes

def parse_check_tsv(out, expect):
    """`thresh check --tsv`'s output (bytes) as (scores, verdicts), verdicts
    as VERDICTS' numbers; BenchError unless it has expect well-formed lines."""
    lines = out.decode().splitlines()
    if len(lines) != expect:
        raise BenchError(f"thresh check --tsv printed {len(lines)} lines for {expect}")
    scores, verdicts = [], []
    for line in lines:
        s, _, v = line.partition("\t")
        if v not in VERDICTS:
            raise BenchError(f"thresh check --tsv: unexpected line {line!r}")
        scores.append(float(s))
        verdicts.append(VERDICTS[v])
    return scores, verdicts


def run(cmd, stdin_path=None, ok=(0,), env=None):
    """Run cmd, return its stdout (bytes); fail on an unexpected exit status."""
    fin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    try:
        p = subprocess.run([str(c) for c in cmd], stdin=fin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env)
    finally:
        if stdin_path:
            fin.close()
    if p.returncode not in ok:
        raise BenchError(f"{shlex.join(str(c) for c in cmd)}: exit {p.returncode}\n"
                         f"{p.stderr.decode(errors='replace')[-2000:]}")
    return p.stdout


class Time:
    """Wall-clock and CPU (user + system) seconds of child processes."""

    def __init__(self, wall=0.0, cpu=0.0):
        self.wall, self.cpu = wall, cpu

    def __add__(self, o):
        return Time(self.wall + o.wall, self.cpu + o.cpu)


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd, stdin_path=None, stdout_path=None, ok=(0,)):
    """The Time of one run of cmd (stdin and stdout are files)."""
    fin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    fout = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    try:
        c0 = children_cpu()
        t0 = time.perf_counter()
        p = subprocess.run([str(c) for c in cmd], stdin=fin, stdout=fout,
                           stderr=subprocess.PIPE)
        dt = Time(time.perf_counter() - t0, children_cpu() - c0)
    finally:
        if stdin_path:
            fin.close()
        if stdout_path:
            fout.close()
    if p.returncode not in ok:
        raise BenchError(f"{shlex.join(str(c) for c in cmd)}: exit {p.returncode}\n"
                         f"{p.stderr.decode(errors='replace')[-2000:]}")
    return dt


# ---------------------------------------------------------------- corpora

class Corpus:
    def __init__(self, name, path):
        self.name = name
        self.path = Path(path)
        self.items = []        # (label 1 spam / 0 ham, text bytes), deduplicated
        self.lines = 0
        self.duplicates = 0
        self.conflicts = 0
        self.bad = 0

    @property
    def n_spam(self):
        return sum(1 for lab, _ in self.items if lab == 1)

    @property
    def n_ham(self):
        return sum(1 for lab, _ in self.items if lab == 0)


def load_corpus(name, path):
    """Read LABEL<TAB>TEXT lines the way `thresh eval` does: lines end in LF
    or CRLF, a BOM before the first line is dropped, empty lines are skipped,
    repeated texts (byte for byte) keep their first copy, and a text seen
    under both labels is dropped altogether."""
    c = Corpus(name, path)
    data = Path(path).read_bytes()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    first = {}
    order = []
    conflict = set()
    for i, line in enumerate(lines):
        if line.endswith(b"\r"):
            line = line[:-1]
        if i == 0 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        if not line:
            continue
        c.lines += 1
        label, tab, text = line.partition(b"\t")
        if not tab or label not in (b"spam", b"ham") or not text or b"\0" in text:
            c.bad += 1
            continue
        try:
            text.decode("utf-8")
        except UnicodeDecodeError:
            c.bad += 1
            continue
        lab = 1 if label == b"spam" else 0
        if text in first:
            c.duplicates += 1
            if order[first[text]][0] != lab:
                conflict.add(text)
            continue
        first[text] = len(order)
        order.append((lab, text))
    c.conflicts = len(conflict)
    c.items = [(lab, t) for lab, t in order if t not in conflict]
    return c


def make_folds(items, k, seed):
    """Stratified folds: spam and ham shuffled apart, dealt round-robin."""
    rng = random.Random(seed)
    spam = [i for i, (lab, _) in enumerate(items) if lab == 1]
    ham = [i for i, (lab, _) in enumerate(items) if lab == 0]
    rng.shuffle(spam)
    rng.shuffle(ham)
    fold = [0] * len(items)
    for j, i in enumerate(spam):
        fold[i] = j % k
    for j, i in enumerate(ham):
        fold[i] = (j + len(spam)) % k
    return fold


def write_tsv(path, items, idxs):
    with open(path, "wb") as f:
        for i in idxs:
            lab, text = items[i]
            f.write(b"spam\t" if lab else b"ham\t")
            f.write(text)
            f.write(b"\n")


def write_messages(folder, items):
    """One file per comment for bogofilter: an empty header, then the text."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (_, text) in enumerate(items):
        p = folder / f"{i:06d}"
        p.write_bytes(b"\n" + text + b"\n")
        paths.append(str(p))
    return paths


def write_list(path, names):
    Path(path).write_text("".join(n + "\n" for n in names))


# ---------------------------------------------------------------- metrics

def roc_auc(scores, labels):
    """Mann-Whitney AUC, spam positive, ties averaged."""
    pairs = sorted(zip(scores, labels))
    n_pos = sum(labels)
    n_neg = len(labels) - n_pos
    if not n_pos or not n_neg:
        return float("nan")
    rank_sum = 0.0
    i = 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        avg = (i + 1 + j) / 2.0          # ranks i+1 .. j
        rank_sum += avg * sum(lab for _, lab in pairs[i:j])
        i = j
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def summarize(scores, verdicts, labels):
    """verdicts: 0 accept/ham, 1 hold/unsure, 2 reject/spam."""
    n = len(labels)
    tp = sum(1 for v, lab in zip(verdicts, labels) if v == 2 and lab == 1)
    fp = sum(1 for v, lab in zip(verdicts, labels) if v == 2 and lab == 0)
    fn = sum(1 for v, lab in zip(verdicts, labels) if v != 2 and lab == 1)
    tn = n - tp - fp - fn
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    n_spam = sum(labels)
    n_ham = n - n_spam

    def pct(lab, v):
        tot = n_spam if lab else n_ham
        return 100.0 * sum(1 for x, y in zip(verdicts, labels) if x == v and y == lab) / tot

    return {
        "n": n, "auc": roc_auc(scores, labels), "accuracy": (tp + tn) / n, "f1": f1,
        "precision": prec, "recall": rec,
        "ham_rejected": pct(0, 2), "ham_held": pct(0, 1), "ham_accepted": pct(0, 0),
        "spam_accepted": pct(1, 0), "spam_held": pct(1, 1), "spam_rejected": pct(1, 2),
    }


# ---------------------------------------------------------------- the filters

VERDICTS = {"accept": 0, "hold": 1, "reject": 2}


class Thresh:
    def __init__(self, binary):
        self.bin = str(binary)

    def version(self):
        return run([self.bin, "--version"]).decode().strip()

    def init(self, db):
        run([self.bin, "--db", db, "init", "--empty"])

    def train_cmd(self, db, tsv):
        return [self.bin, "--db", db, "train", "--tsv", tsv]

    def check_cmd(self, db, tsv):
        return [self.bin, "--db", db, "check", "--tsv", tsv]

    def train(self, db, tsv):
        run(self.train_cmd(db, tsv))

    def check(self, db, tsv, expect):
        return parse_check_tsv(run(self.check_cmd(db, tsv)), expect)

    def get(self, db, name):
        return float(run([self.bin, "--db", db, "get", name]).decode().split()[-1])

    def stats(self, db):
        return json.loads(run([self.bin, "--db", db, "stats", "--json"]))

    def eval(self, path, folds, seed):
        out = run([self.bin, "eval", "--json", "--folds", str(folds), "--seed", str(seed),
                   path])
        return json.loads(out)


class Bogofilter:
    def __init__(self, binary):
        self.bin = str(binary)
        self.bogoutil = str(Path(self.bin).with_name("bogoutil"))
        if not Path(self.bogoutil).exists():
            self.bogoutil = shutil.which("bogoutil") or "bogoutil"

    def version(self):
        out = run([self.bin, "-V"], ok=(0, 1, 2, 3)).decode().splitlines()
        return out[0].strip() if out else "bogofilter"

    def train_cmds(self, wl, spam_list, ham_list):
        return [([self.bin, "-C", "-d", wl, "-s", "-b"], spam_list),
                ([self.bin, "-C", "-d", wl, "-n", "-b"], ham_list)]

    def score_cmd(self, wl, terse="-TT"):
        return [self.bin, "-C", "-d", wl, "-b", terse]

    def train(self, wl, spam_list, ham_list):
        for cmd, lst in self.train_cmds(wl, spam_list, ham_list):
            run(cmd, stdin_path=lst)

    def score(self, wl, names_list, names):
        """Spamicity of every message named in names_list, in order."""
        out = run(self.score_cmd(wl), stdin_path=names_list, ok=(0, 1, 2)).decode()
        got = {}
        for line in out.splitlines():
            name, _, s = line.rpartition(" ")
            got[name] = float(s)
        if len(got) != len(names):
            raise BenchError(f"bogofilter -b printed {len(got)} scores for {len(names)}")
        return [got[n] for n in names]

    def letters(self, wl, names_list):
        out = run(self.score_cmd(wl, "-T"), stdin_path=names_list, ok=(0, 1, 2)).decode()
        return [line.split()[-2] for line in out.splitlines()]

    @staticmethod
    def verdict(score):
        # bogofilter's tristate: ham at or below ham_cutoff, spam from spam_cutoff.
        if score >= BOGO_SPAM_CUTOFF:
            return 2
        if score <= BOGO_HAM_CUTOFF:
            return 0
        return 1

    def tokens(self, wl):
        out = run([self.bogoutil, "-d", Path(wl) / "wordlist.db"])
        return sum(1 for line in out.split(b"\n") if line and not line.startswith(b"."))


# ---------------------------------------------------------------- cross-validation

def cross_validate(c, th, bogo, work, folds, seed):
    items = c.items
    fold = make_folds(items, folds, seed)
    labels = [lab for lab, _ in items]
    msgs = write_messages(work / "msgs", items)
    th_score = [0.0] * len(items)
    th_verdict = [0] * len(items)
    bg_score = [0.0] * len(items)
    cuts = []
    letter_mismatch = 0
    for k in range(folds):
        log(f"{c.name}: fold {k + 1}/{folds}")
        train = [i for i in range(len(items)) if fold[i] != k]
        test = [i for i in range(len(items)) if fold[i] == k]
        fd = work / f"fold{k}"
        fd.mkdir()
        write_tsv(fd / "train.tsv", items, train)
        write_tsv(fd / "test.tsv", items, test)
        # thresh
        db = fd / "thresh-db"
        th.init(db)
        th.train(db, fd / "train.tsv")
        s, v = th.check(db, fd / "test.tsv", len(test))
        for i, si, vi in zip(test, s, v):
            th_score[i] = si
            th_verdict[i] = vi
        # each fold's own cutoffs (fitted on its training decisions unless set):
        # its verdicts are `check`'s, made with them
        cuts.append((th.get(db, "hold_cutoff"), th.get(db, "reject_cutoff")))
        # bogofilter
        wl = fd / "bogo-wl"
        write_list(fd / "spam.lst", [msgs[i] for i in train if labels[i] == 1])
        write_list(fd / "ham.lst", [msgs[i] for i in train if labels[i] == 0])
        write_list(fd / "test.lst", [msgs[i] for i in test])
        bogo.train(wl, fd / "spam.lst", fd / "ham.lst")
        s = bogo.score(wl, fd / "test.lst", [msgs[i] for i in test])
        for i, si in zip(test, s):
            bg_score[i] = si
        if k == 0:
            # Our reading of its cutoffs must agree with bogofilter's own letters.
            want = {"S": 2, "H": 0, "U": 1}
            letters = bogo.letters(wl, fd / "test.lst")
            letter_mismatch = sum(1 for le, si in zip(letters, s)
                                  if want[le] != Bogofilter.verdict(si))
        shutil.rmtree(fd)
    bg_verdict = [Bogofilter.verdict(s) for s in bg_score]
    return {
        "thresh": summarize(th_score, th_verdict, labels),
        "bogofilter": summarize(bg_score, bg_verdict, labels),
        # (lowest hold, highest hold, lowest reject, highest reject) of the folds
        "thresh_cutoffs": (min(h for h, _ in cuts), max(h for h, _ in cuts),
                           min(r for _, r in cuts), max(r for _, r in cuts)),
        "bogo_letter_mismatch": letter_mismatch,
    }, msgs


# ---------------------------------------------------------------- timing

def median_pair(fa, fb, reps):
    """Run two timed callables (each returns a Time) in turn, reps times after
    one warm-up run of each, so that load from elsewhere falls on both alike;
    return the median wall and CPU seconds of each."""
    fa()
    fb()
    ta, tb = [], []
    for _ in range(reps):
        ta.append(fa())
        tb.append(fb())

    def med(ts):
        return Time(statistics.median(t.wall for t in ts), statistics.median(t.cpu for t in ts))

    return med(ta), med(tb)


def rates(n, ta, tb):
    """Comments per second of a and b by wall clock, and a/b by wall and by CPU time."""
    return {"a": n / ta.wall, "b": n / tb.wall, "ratio": tb.wall / ta.wall,
            "ratio_cpu": tb.cpu / ta.cpu if ta.cpu > 0 else None}


def run_libscore(libscore, db, tsv, seconds, with_check=False):
    if not libscore:
        return None
    cmd = [libscore, "--min-seconds", str(seconds)]
    if with_check:
        cmd.append("--check")
    return json.loads(run(cmd + [db, tsv]))


def time_corpus(c, th, bogo, work, msgs, args):
    """Train and score speed on the whole deduplicated corpus."""
    n = len(c.items)
    labels = [lab for lab, _ in c.items]
    tsv = work / "all.tsv"
    write_tsv(tsv, c.items, range(n))
    write_list(work / "spam.lst", [m for m, lab in zip(msgs, labels) if lab == 1])
    write_list(work / "ham.lst", [m for m, lab in zip(msgs, labels) if lab == 0])
    write_list(work / "all.lst", msgs)
    counter = [0]

    def fresh(prefix):
        counter[0] += 1
        return work / f"{prefix}{counter[0]}"

    last = {}

    def th_train():
        db = fresh("tdb")
        th.init(db)
        dt = timed(th.train_cmd(db, tsv))
        if "thresh" in last:
            shutil.rmtree(last["thresh"])
        last["thresh"] = db
        return dt

    def bg_train():
        wl = fresh("bwl")
        dt = Time()
        for cmd, lst in bogo.train_cmds(wl, work / "spam.lst", work / "ham.lst"):
            dt = dt + timed(cmd, stdin_path=lst)
        if "bogo" in last:
            shutil.rmtree(last["bogo"])
        last["bogo"] = wl
        return dt

    log(f"{c.name}: timing training ({args.reps} runs each)")
    train = rates(n, *median_pair(th_train, bg_train, args.reps))
    db, wl = last["thresh"], last["bogo"]
    log(f"{c.name}: timing scoring ({args.reps} runs each)")
    score = rates(n, *median_pair(
        lambda: timed(th.check_cmd(db, tsv), stdout_path=work / "t.out"),
        lambda: timed(bogo.score_cmd(wl), stdin_path=work / "all.lst",
                      stdout_path=work / "b.out", ok=(0, 1, 2)),
        args.reps))
    lines = (work / "t.out").read_bytes().count(b"\n")
    if lines != n:
        raise BenchError(f"thresh check --tsv scored {lines} of {n}")
    lines = (work / "b.out").read_bytes().count(b"\n")
    if lines != n:
        raise BenchError(f"bogofilter -b scored {lines} of {n}")
    # The same two commands on no input at all: what a run costs before its
    # first comment (process start, shared libraries, opening the model).
    (work / "empty.tsv").write_bytes(b"")
    (work / "empty.lst").write_bytes(b"")
    log(f"{c.name}: timing both commands on empty input ({args.reps} runs each)")
    te, be = median_pair(
        lambda: timed(th.check_cmd(db, work / "empty.tsv"), stdout_path=work / "t0.out"),
        lambda: timed(bogo.score_cmd(wl), stdin_path=work / "empty.lst",
                      stdout_path=work / "b0.out", ok=(0, 1, 2)),
        args.reps)
    score["fixed"] = (te.wall, be.wall)
    log(f"{c.name}: library scoring (>= {args.lib_seconds} s)")
    lib = run_libscore(args.libscore, db, tsv, args.lib_seconds)
    return {
        "n": n,
        "thresh_tokens": th.stats(db)["tokens"],
        "bogo_tokens": bogo.tokens(wl),
        "train": train,
        "score": score,
        "lib": lib["per_second"] if lib else None,
    }


# ---------------------------------------------------------------- scale

SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"] + \
    [c + v + e for c in "bdklmnprst" for v in "aeiou" for e in "nrs"]


class Synth:
    """Synthetic comments: words drawn (skewed toward the frequent end) from
    a vocabulary of random syllable strings, a random label each."""

    def __init__(self, seed, vocab, spam_share):
        self.rng = random.Random(seed)
        vr = random.Random(seed * 7919 + 1)
        words = set()
        while len(words) < vocab:
            words.add("".join(vr.choice(SYLLABLES) for _ in range(vr.randint(2, 4))))
        self.words = sorted(words)
        vr.shuffle(self.words)
        self.spam_share = spam_share

    def comment(self):
        r = self.rng
        nw = r.randint(4, 24)
        v = len(self.words)
        text = " ".join(self.words[int(v * r.random() ** 2)] for _ in range(nw))
        return (1 if r.random() < self.spam_share else 0), text.encode()


def build_scale(th, bogo, corpora, args, all_tsv, all_msgs_spam, all_msgs_ham):
    """The cached 1M-token models: DIR/thresh-db and DIR/bogo-wl."""
    probe = Path(tempfile.mkdtemp(prefix="probe-", dir=args.tmp))
    try:
        th.init(probe / "db")
        st = th.stats(probe / "db")
    finally:
        shutil.rmtree(probe)
    h = hashlib.sha256()
    h.update(th.version().encode())
    h.update(bogo.version().encode())
    h.update(f"{st['format_version']} {st['tokenizer']} {args.scale_tokens} {args.seed} "
             f"{args.scale_vocab} v1".encode())
    h.update(json.dumps(st.get("params", {}), sort_keys=True).encode())
    for c in corpora:
        h.update(c.path.read_bytes())
    d = Path(args.out) / f"scale-{h.hexdigest()[:12]}"
    meta = d / "meta.json"
    if meta.exists() and not args.rebuild_scale:
        log(f"scale: using the cached models in {d}")
        return d, json.loads(meta.read_text())
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    log(f"scale: building models of >= {args.scale_tokens:,} tokens in {d}")
    t0 = time.perf_counter()
    n_spam = sum(c.n_spam for c in corpora)
    n_all = sum(len(c.items) for c in corpora)
    syn = Synth(args.seed, args.scale_vocab, n_spam / n_all)
    db = d / "thresh-db"
    th.init(db)
    th.train(db, all_tsv)
    tokens = th.stats(db)["tokens"]
    syn_path = d / "synthetic.tsv"
    synthetic = 0
    chunk = 5000
    while tokens < args.scale_tokens:
        part = d / "chunk.tsv"
        rows = [syn.comment() for _ in range(chunk)]
        with open(part, "wb") as f, open(syn_path, "ab") as g:
            for lab, text in rows:
                line = (b"spam\t" if lab else b"ham\t") + text + b"\n"
                f.write(line)
                g.write(line)
        th.train(db, part)
        synthetic += chunk
        before, tokens = tokens, th.stats(db)["tokens"]
        per = max((tokens - before) / chunk, 1.0)
        chunk = max(500, min(50000, int((args.scale_tokens - tokens) / per * 1.02) + 1))
        log(f"scale: thresh {tokens:,} tokens after {synthetic:,} synthetic comments")
        part.unlink()
    # bogofilter: the same comments, then synthetic tokens up to the same size.
    wl = d / "bogo-wl"
    bogo.train(wl, all_msgs_spam, all_msgs_ham)
    for lab, flag in ((1, "-s"), (0, "-n")):
        mbox = d / f"synthetic-{lab}.mbox"
        with open(syn_path, "rb") as f, open(mbox, "wb") as g:
            for line in f:
                label, _, text = line.rstrip(b"\n").partition(b"\t")
                if (label == b"spam") == (lab == 1):
                    g.write(b"From synthetic@example.invalid Thu Jan  1 00:00:00 1970\n\n")
                    g.write(text + b"\n\n")
        run([bogo.bin, "-C", "-d", wl, "-M", flag, "-I", mbox])
        mbox.unlink()
    btokens = bogo.tokens(wl)
    if btokens < args.scale_tokens:
        extra = args.scale_tokens - btokens
        r = random.Random(args.seed + 17)
        topup = d / "topup.txt"
        with open(topup, "w") as f:
            for i in range(extra):
                spam = r.randint(0, 3)
                f.write(f"zsyn{i:07d}{r.choice(SYLLABLES)} {spam} {r.randint(0 if spam else 1, 3)}\n")
        run([bogo.bogoutil, "-l", wl / "wordlist.db"], stdin_path=topup)
        topup.unlink()
        btokens = bogo.tokens(wl)
    m = {"thresh_tokens": tokens, "bogo_tokens": btokens, "synthetic_comments": synthetic,
         "build_seconds": round(time.perf_counter() - t0, 1)}
    meta.write_text(json.dumps(m))
    log(f"scale: built in {m['build_seconds']} s: {m}")
    return d, m


def time_scoring(th, bogo, db, wl, tsv, lst, n, work, args, tag):
    log(f"scale: timing scoring against the {tag} model")
    r = rates(n, *median_pair(
        lambda: timed(th.check_cmd(db, tsv), stdout_path=work / "t.out"),
        lambda: timed(bogo.score_cmd(wl), stdin_path=lst, stdout_path=work / "b.out",
                      ok=(0, 1, 2)),
        args.reps))
    lib = run_libscore(args.libscore, db, tsv, args.lib_seconds, with_check=True)
    return {"check": r["a"], "bogo": r["b"], "ratio_cpu": r["ratio_cpu"],
            "lib": lib["per_second"] if lib else None,
            "lib_check": lib.get("check_per_second") if lib else None,
            "lib_us": lib["us_per_comment"] if lib else None}


# ---------------------------------------------------------------- report

def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    nproc = run(["nproc"]).decode().strip() if shutil.which("nproc") else str(os.cpu_count())
    mem = ""
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                mem = f", {int(line.split()[1]) / 1048576:.0f} GiB RAM"
    except OSError:
        pass
    osname = platform.system()
    try:
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                osname = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return f"{nproc} cores (nproc), {cpu}{mem}; {osname}, kernel {platform.release()}"


def source_revision():
    """The git revision of the sources, and whether the library or the
    command have uncommitted changes."""
    try:
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain",
                                "--untracked-files=no", "--", "src", "include", "models",
                                "meson.build"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("THRESH_BENCH_SOURCE", "")
    return f"git {rev}" + (" with uncommitted changes in src/, include/ or models/"
                           if dirty else "")


def loadavg():
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "?"


def fnum(x, digits=4):
    return "–" if x is None else f"{x:.{digits}f}"


def frate(x):
    return "–" if x is None else f"{x:,.0f}"


def fratio(a, b):
    return "–" if a is None or b is None or not b else f"{a / b:.2f}"


def report(args, th, bogo, results, evals, speeds, scale):
    out = []
    w = out.append
    w("## thresh and bogofilter, side by side")
    w("")
    w(f"- machine: {machine()}")
    w(f"- load average (1 min) at the start and the end of the run: {args.load_start}, "
      f"{loadavg()}")
    src = source_revision()
    w(f"- versions: {th.version()}{' from ' + src if src else ''}; {bogo.version()}")
    w(f"- command: `{os.environ.get('THRESH_BENCH_CMD') or shlex.join(sys.argv)}`")
    w(f"- {args.folds} stratified folds, seed {args.seed}, the same folds for both filters; "
      "texts deduplicated (first kept, texts under both labels dropped)")
    w("")
    w("### Accuracy")
    w("")
    w("Pooled over the folds. Accuracy and F1 count a comment as spam when it is rejected "
      "(thresh: score >= reject_cutoff; bogofilter: spamicity >= 0.99). Moderation at each "
      "filter's own cutoffs: thresh holds from hold_cutoff, bogofilter calls "
      "\"unsure\" above 0.45.")
    w("")
    w("| corpus | filter | n | ROC AUC | accuracy | F1 | cutoffs (hold / reject; thresh: each fold's own, lowest-highest) "
      "| ham rejected % | ham held % | spam accepted % | spam held % |")
    w("|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|")
    for name, r in results.items():
        for f in ("thresh", "bogofilter"):
            m = r[f]
            tc = r['thresh_cutoffs']
            cut = (f"{tc[0]:.4g}-{tc[1]:.4g} / {tc[2]:.4g}-{tc[3]:.4g}" if f == "thresh"
                   else f"{BOGO_HAM_CUTOFF:g} / {BOGO_SPAM_CUTOFF:g}")
            w(f"| {name} | {f} | {m['n']} | {m['auc']:.4f} | {m['accuracy']:.4f} "
              f"| {m['f1']:.4f} | {cut} | {m['ham_rejected']:.2f} | {m['ham_held']:.2f} "
              f"| {m['spam_accepted']:.2f} | {m['spam_held']:.2f} |")
    w("")
    w("Cross-check with `thresh eval --json` on the same file (its own shuffle, so "
      "only n must agree):")
    w("")
    w("| corpus | n here | n eval | spam / ham | duplicates dropped | conflicts dropped "
      "| AUC here | AUC thresh eval |")
    w("|---|---:|---:|---|---:|---:|---:|---:|")
    for name, e in evals.items():
        c = e["corpus"]
        w(f"| {name} | {len(c.items)} | {e['eval']['n']} | {c.n_spam} / {c.n_ham} "
          f"| {c.duplicates} | {c.conflicts} | {results[name]['thresh']['auc']:.4f} "
          f"| {e['eval']['auc']:.4f} |")
    w("")
    w("### Speed")
    w("")
    w(f"Comments per second on the whole deduplicated corpus, wall clock of one process, "
      f"median of {args.reps} runs after a warm-up. train: `thresh train --tsv` against "
      "`bogofilter -s -b` + `-n -b`; score: `thresh check --tsv` against `bogofilter -b -TT` "
      "(bulk mode, one file per comment), on the model trained on the whole corpus; "
      "library: `thresh_view_check` in-process (tests/bench/libscore.c), one thread.")
    w("")
    w("| corpus | n | tokens (thresh / bogofilter) | what | thresh | bogofilter "
      "| thresh / bogofilter | same, by CPU time |")
    w("|---|---:|---|---|---:|---:|---:|---:|")
    for name, s in speeds.items():
        tok = f"{s['thresh_tokens']:,} / {s['bogo_tokens']:,}"
        for what, r in (("train", s["train"]), ("score (batch command)", s["score"])):
            w(f"| {name} | {s['n']} | {tok} | {what} | {frate(r['a'])} | {frate(r['b'])} "
              f"| {fnum(r['ratio'], 2)} | {fnum(r['ratio_cpu'], 2)} |")
        w(f"| {name} | {s['n']} | {tok} | score (library, 1 core) | {frate(s['lib'])} "
          f"| – | {fratio(s['lib'], s['score']['b'])} | – |")
    w("")
    w("What a batch run costs before its first comment, timed as above on empty input, and "
      "what each comment adds to it (the run on the corpus less the empty run, divided by n):")
    w("")
    w("| corpus | n | fixed ms, thresh | fixed ms, bogofilter | µs per comment, thresh "
      "| µs per comment, bogofilter | per comment, bogofilter / thresh |")
    w("|---|---:|---:|---:|---:|---:|---:|")
    for name, s in speeds.items():
        sc, n = s["score"], s["n"]
        ft, fb = sc["fixed"]
        pt = max(n / sc["a"] - ft, 0.0) / n * 1e6
        pb = max(n / sc["b"] - fb, 0.0) / n * 1e6
        w(f"| {name} | {n} | {ft * 1e3:.2f} | {fb * 1e3:.2f} | {pt:.2f} | {pb:.2f} "
          f"| {fratio(pb, pt)} |")
    if scale:
        w("")
        w("### Scale")
        w("")
        m = scale["meta"]
        w(f"Scoring the {scale['n']} comments of both corpora against the model of both "
          f"corpora, and against that model grown with {m['synthetic_comments']:,} synthetic "
          "comments (random words from a synthetic vocabulary; bogofilter's wordlist "
          "topped up with synthetic tokens to the same size). Comments per second as above; "
          "library `thresh_check` opens a read transaction per comment.")
        w("")
        w("| model | tokens (thresh / bogofilter) | `check --tsv` | library `thresh_view_check` "
          "| µs per comment (library) | library `thresh_check` | bogofilter `-b` "
          "| check / bogofilter | same, by CPU time | library / bogofilter |")
        w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for tag, r in scale["rows"]:
            w(f"| {tag} | {r['tokens'][0]:,} / {r['tokens'][1]:,} | {frate(r['check'])} "
              f"| {frate(r['lib'])} | {fnum(r['lib_us'], 2)} | {frate(r['lib_check'])} "
              f"| {frate(r['bogo'])} | {fratio(r['check'], r['bogo'])} "
              f"| {fnum(r['ratio_cpu'], 2)} | {fratio(r['lib'], r['bogo'])} |")
    w("")
    w("### Targets (issue 6)")
    w("")
    w("| target | measured | met |")
    w("|---|---:|---|")

    def target(what, value, ok, digits=4):
        w(f"| {what} | {value:.{digits}f} | {'yes' if ok else 'no'} |")

    for name, r in results.items():
        t = r["thresh"]
        if name in TARGET_AUC:
            target(f"{name}: ROC AUC >= {TARGET_AUC[name]}", t["auc"],
                   t["auc"] >= TARGET_AUC[name])
        target(f"{name}: ham rejected <= {TARGET_HAM_REJECTED}%", t["ham_rejected"],
               t["ham_rejected"] <= TARGET_HAM_REJECTED, 2)
        if name != "SMS":
            target(f"{name}: ham held <= {TARGET_HAM_HELD:g}%", t["ham_held"],
                   t["ham_held"] <= TARGET_HAM_HELD, 2)
            target(f"{name}: spam accepted <= {TARGET_SPAM_ACCEPTED:g}%", t["spam_accepted"],
                   t["spam_accepted"] <= TARGET_SPAM_ACCEPTED, 2)
    for name, s in speeds.items():
        ratio = s["score"]["ratio"]
        target(f"{name}: `check --tsv` >= {TARGET_SCORE_RATIO:g}x bogofilter `-b`", ratio,
               ratio >= TARGET_SCORE_RATIO, 2)
    if scale:
        big = scale["rows"][-1][1]
        if big["lib"] is not None:
            target(f"library >= {TARGET_LIB_RATE:,} comments/s, 1 core, "
                   f"{big['tokens'][0]:,}-token model", big["lib"],
                   big["lib"] >= TARGET_LIB_RATE, 0)
    w("")
    return "\n".join(out)


def parse_tables(text):
    """Every Markdown table of the report: a list of (header, rows of cells).
    Fails when a row has another number of cells than its header."""
    tables = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("|"):
            block = []
            while i < len(lines) and lines[i].startswith("|"):
                block.append([c.strip() for c in lines[i].strip().strip("|").split("|")])
                i += 1
            header, sep, rows = block[0], block[1], block[2:]
            assert all(re.fullmatch(r":?-+:?", c) for c in sep), f"bad separator {sep}"
            for r in rows:
                assert len(r) == len(header), f"row {r} has {len(r)} cells, header {len(header)}"
            tables.append((header, rows))
        else:
            i += 1
    return tables


def number(cell):
    return float(cell.replace(",", "").replace("%", ""))


def self_check(text, corpora, scale_expected):
    """Check that the report parses: the tables are there, whole, and hold
    numbers in range. Timing figures are only checked to be positive."""
    tables = {tuple(h): rows for h, rows in parse_tables(text)}
    acc = next(rows for h, rows in tables.items() if "ROC AUC" in h)
    hdr = next(h for h in tables if "ROC AUC" in h)
    seen = set()
    for r in acc:
        row = dict(zip(hdr, r))
        seen.add((row["corpus"], row["filter"]))
        assert int(row["n"]) > 0
        for k in ("ROC AUC", "accuracy", "F1"):
            assert 0.0 <= number(row[k]) <= 1.0, (k, row[k])
        for k in hdr:
            if k.endswith("%"):
                assert 0.0 <= number(row[k]) <= 100.0, (k, row[k])
    for c in corpora:
        assert (c.name, "thresh") in seen and (c.name, "bogofilter") in seen, c.name
    sp_hdr = next(h for h in tables if "what" in h)
    kinds = set()
    for r in tables[sp_hdr]:
        row = dict(zip(sp_hdr, r))
        kinds.add(row["what"])
        for k in ("thresh", "bogofilter"):
            if row[k] != "–":
                assert number(row[k]) > 0, (k, row[k])
    assert {"train", "score (batch command)", "score (library, 1 core)"} <= kinds, kinds
    tg_hdr = next(h for h in tables if "met" in h)
    for r in tables[tg_hdr]:
        assert r[2] in ("yes", "no"), r
        number(r[1])
    assert any("n eval" in h for h in tables)
    assert any("bogofilter `-b`" in h for h in tables) == scale_expected
    return len(tables)


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--thresh", default=os.environ.get("THRESH_BIN"),
                    help="the thresh command (default $THRESH_BIN, else thresh on PATH)")
    ap.add_argument("--libscore", default=os.environ.get("THRESH_LIBSCORE"),
                    help="thresh-libscore (default $THRESH_LIBSCORE, else "
                         "tests/bench/thresh-libscore of thresh's build folder)")
    ap.add_argument("--bogofilter", default=os.environ.get("BOGOFILTER") or "bogofilter")
    ap.add_argument("--corpus", action="append", metavar="NAME=FILE",
                    help="a corpus (default: YouTube and SMS from models/)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5, help="timed runs per figure (median)")
    ap.add_argument("--lib-seconds", type=float, default=2.0,
                    help="time the library loop for at least this long")
    ap.add_argument("--scale-tokens", type=int, default=1_000_000)
    ap.add_argument("--scale-vocab", type=int, default=400_000)
    ap.add_argument("--no-scale", action="store_true")
    ap.add_argument("--rebuild-scale", action="store_true", help="ignore the cached model")
    ap.add_argument("--out", default=str(HERE / "out"),
                    help="cache of the scale models and report.md (default tests/bench/out)")
    ap.add_argument("--tmp", default=None, help="scratch folder (default $TMPDIR)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: YouTube only, 2 folds, 2 runs, no scale")
    ap.add_argument("--self-check", action="store_true",
                    help="parse the printed report and fail when it does not parse")
    args = ap.parse_args()

    if args.quick:
        args.folds = 2
        args.reps = min(args.reps, 2)
        args.lib_seconds = min(args.lib_seconds, 0.5)
        args.no_scale = True
    if args.folds < 2:
        ap.error("--folds must be at least 2")
    if args.corpus:
        corpora_paths = {}
        for spec in args.corpus:
            name, eq, path = spec.partition("=")
            if not eq:
                name, path = Path(spec).stem, spec
            corpora_paths[name] = Path(path)
    else:
        corpora_paths = dict(CORPORA)
        if args.quick:
            corpora_paths = {"YouTube": CORPORA["YouTube"]}

    if not args.thresh:
        args.thresh = shutil.which("thresh")
    if not args.thresh or not Path(args.thresh).exists():
        ap.error("no thresh command: give --thresh or $THRESH_BIN")
    if not args.libscore:
        guess = Path(args.thresh).resolve().parent.parent.parent / "tests/bench/thresh-libscore"
        args.libscore = str(guess) if guess.exists() else None
    if not args.libscore:
        log("no thresh-libscore: the library figures are left out")
    bogobin = shutil.which(args.bogofilter)
    if not bogobin:
        ap.error(f"{args.bogofilter} not found (Debian package bogofilter)")
    th = Thresh(Path(args.thresh).resolve())
    bogo = Bogofilter(bogobin)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="thresh-compare-", dir=args.tmp))
    t_start = time.perf_counter()
    args.load_start = loadavg()
    try:
        corpora = [load_corpus(n, p) for n, p in corpora_paths.items()]
        results, evals, speeds = {}, {}, {}
        all_msgs = {}
        for c in corpora:
            log(f"{c.name}: {len(c.items)} comments after dropping {c.duplicates} repeats "
                f"and {c.conflicts} conflicting texts ({c.bad} bad lines)")
            log(f"{c.name}: thresh eval --json --folds {args.folds}")
            ev = th.eval(c.path, args.folds, args.seed)
            if (ev["n"], ev["n_spam"], ev["n_ham"]) != (len(c.items), c.n_spam, c.n_ham):
                raise BenchError(f"{c.name}: deduplicated {len(c.items)} "
                                 f"({c.n_spam} spam, {c.n_ham} ham) but thresh eval has "
                                 f"{ev['n']} ({ev['n_spam']}, {ev['n_ham']})")
            evals[c.name] = {"corpus": c, "eval": ev}
            cw = work / c.name
            cw.mkdir()
            results[c.name], msgs = cross_validate(c, th, bogo, cw, args.folds, args.seed)
            if results[c.name]["bogo_letter_mismatch"]:
                raise BenchError(f"{c.name}: bogofilter's own S/H/U letters disagree with "
                                 f"the cutoffs {BOGO_HAM_CUTOFF}/{BOGO_SPAM_CUTOFF} on "
                                 f"{results[c.name]['bogo_letter_mismatch']} comments")
            log(f"{c.name}: AUC thresh {results[c.name]['thresh']['auc']:.4f} "
                f"(eval {ev['auc']:.4f}), bogofilter {results[c.name]['bogofilter']['auc']:.4f}")
            speeds[c.name] = time_corpus(c, th, bogo, cw, msgs, args)
            all_msgs[c.name] = msgs

        scale = None
        if not args.no_scale:
            sw = work / "scale"
            sw.mkdir()
            items, msgs = [], []
            for c in corpora:
                items += c.items
                msgs += all_msgs[c.name]
            n = len(items)
            tsv = sw / "all.tsv"
            write_tsv(tsv, items, range(n))
            labels = [lab for lab, _ in items]
            write_list(sw / "all.lst", msgs)
            write_list(sw / "spam.lst", [m for m, lab in zip(msgs, labels) if lab == 1])
            write_list(sw / "ham.lst", [m for m, lab in zip(msgs, labels) if lab == 0])
            small_db, small_wl = sw / "thresh-db", sw / "bogo-wl"
            th.init(small_db)
            th.train(small_db, tsv)
            bogo.train(small_wl, sw / "spam.lst", sw / "ham.lst")
            d, meta = build_scale(th, bogo, corpora, args, tsv, sw / "spam.lst",
                                  sw / "ham.lst")
            rows = []
            r = time_scoring(th, bogo, small_db, small_wl, tsv, sw / "all.lst", n, sw, args,
                             "corpora")
            r["tokens"] = (th.stats(small_db)["tokens"], bogo.tokens(small_wl))
            rows.append(("both corpora", r))
            r = time_scoring(th, bogo, d / "thresh-db", d / "bogo-wl", tsv, sw / "all.lst", n,
                             sw, args, "1M-token")
            r["tokens"] = (meta["thresh_tokens"], meta["bogo_tokens"])
            rows.append(("both corpora + synthetic", r))
            scale = {"n": n, "meta": meta, "rows": rows}

        text = report(args, th, bogo, results, evals, speeds, scale)
        print(text)
        (Path(args.out) / "report.md").write_text(text + "\n")
        log(f"done in {time.perf_counter() - t_start:.0f} s; report in "
            f"{Path(args.out) / 'report.md'}")
        if args.self_check:
            ntab = self_check(text, corpora, scale is not None)
            log(f"self-check: the report parses ({ntab} tables)")
    except BenchError as e:
        print(f"compare.py: {e}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            log(f"scratch kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
