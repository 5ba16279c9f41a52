#!/usr/bin/env python3
"""newsite.py - new sites: the default model on comment sets it never saw, and
what each site's own first k decisions change.

Run it through newsite.sh (which installs bogofilter and builds thresh), or
directly:

    python3 tests/bench/newsite.py --thresh BUILD/src/cli/thresh [options]

The sets come from a data folder (--data; default ../shared/data beside the
project when it exists, else the copies in models/), one per subfolder:

  a folder whose CSV files have a CLASS column (the YouTube Spam Collection)
             gives one set per CSV (a video), its comments in DATE order;
  any other folder gives one set from its FOLDER.tsv (label<TAB>text; the
             only .tsv in it will do), which has no dates: it is shuffled
             with each seed of --seeds, and its figures are the mean over
             the seeds.

Every set is deduplicated (a repeated text keeps its first copy, a text seen
under both labels is dropped). For each set S:

  model      the default model built the way the build builds it
             (models/build-model.sh THRESH OUT CORPUS:WEIGHT..., the corpora
             and weights of models/meson.build), with S left out: a corpus of
             the recipe that is the TSV of S's folder (same file name or same
             bytes) is dropped, or, for a video, replaced by its folder's
             other CSV files; a set whose folder is not in the recipe gets the
             whole recipe (leave-one-set-out);
  k = 0      a site database created from that model (`thresh init` with
             THRESH_MODEL) scores S's first comments (`thresh check --tsv`);
  k > 0      a fresh site database from the model learns S's first k
             comments (`thresh train --tsv`) and scores the next ones; beside
             it "site alone": an empty database (`init --empty`) learns the
             same k and scores the same comments; "default alone" is the
             k = 0 scores of those same comments (what learning changed);
  k = all    the first 80% of S learned (--all-share), the rest scored;
  scored     at most --max-scored comments after the k learned (default 500;
             only SMS is that long);
  bogofilter the same splits: a wordlist trained on the same corpora, copied
             per k and given the k comments (-s -b / -n -b), and a fresh
             wordlist given only the k comments; scored with -b -TT; ham at
             or below 0.45, unsure (= held) above, spam (= rejected) from 0.99.

Per set and pooled over the sets (the scored comments of every set in one
pool; and the mean of the sets' own figures): ROC AUC, ham rejected, ham held,
spam accepted, spam held; a learning-curve table (AUC by k, with the prior and
alone); the criteria of issue 19 (the prior never below the site alone by more
than noise, no fall from one k to the next). Plus cross-corpus: a model of SMS
alone scoring every YouTube comment and the reverse.

The report is Markdown on standard output (JSON with --json), also written to
OUT/newsite.md and OUT/newsite.json; progress goes to standard error.
choose.py reads the JSON of several runs to choose a parameter by
leave-one-set-out. Python 3 standard library only.
"""

import argparse
import csv
import hashlib
import json
import math
import os
import random
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
SHARED_DATA = ROOT.parent / "shared" / "data"
YOUTUBE_TSV = MODELS / "youtube" / "youtube-spam-collection.tsv"
SMS_TSV = MODELS / "sms" / "sms-spam-collection.tsv"
RECIPE = MODELS / "build-model.sh"
ALL = "all"
DEFAULT_KS = (0, 25, 50, 100, 300, ALL)
DEFAULT_SEEDS = (1, 2, 3)
DEFAULT_MAX_SCORED = 500
DEFAULT_ALL_SHARE = 0.8
DEFAULT_MIN_SCORED = 20

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


def k_label(k):
    return str(k)


def k_sort_key(k):
    return (1, 0) if k == ALL else (0, k)


def parse_ks(spec):
    out = set()
    for x in spec.split(","):
        x = x.strip()
        if not x:
            continue
        if x == ALL:
            out.add(ALL)
            continue
        k = int(x)
        if k < 0:
            raise ValueError(x)
        out.add(k)
    return sorted(out, key=k_sort_key)


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


def default_data_dir():
    """../shared/data beside the project when it is there, else models/."""
    return SHARED_DATA if SHARED_DATA.is_dir() else MODELS


class DataSet:
    """One site: a video (one CSV of a folder of CSVs with a CLASS column,
    in DATE order) or a folder's TSV (no dates: shuffled per seed)."""

    def __init__(self, name, folder, source, video=None):
        self.name = name
        self.folder = Path(folder)
        self.source = Path(source)
        self.video = video               # Video, or None for a TSV set
        self.items = []                  # deduplicated (label, text), in time or file order
        self.meta = {}
        self.corpora = []                # the leave-one-set-out model: [(path, weight, what)]
        self.replaced = None             # a video: (recipe index, [lines of the other CSVs])
        self.model_key = None

    @property
    def shuffled(self):
        return self.video is None

    @property
    def slug(self):
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", self.name)


def csv_has_class(path):
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            header = next(csv.reader(f), [])
    except (OSError, UnicodeDecodeError):
        return False
    return "CLASS" in [h.strip() for h in header]


def folder_tsv(folder):
    """FOLDER/FOLDER.tsv, else the only .tsv of the folder, else None."""
    named = folder / f"{folder.name}.tsv"
    if named.is_file():
        return named
    tsvs = sorted(p for p in folder.glob("*.tsv") if p.is_file())
    return tsvs[0] if len(tsvs) == 1 else None


def discover(data):
    """The sets of a data folder: the videos of every folder of labelled CSVs
    (folders by name, CSVs by name), then one set per other folder with a
    TSV (by name). Returns (sets, notes on folders skipped)."""
    dated, undated, notes = [], [], []
    for folder in sorted(p for p in Path(data).iterdir() if p.is_dir()):
        csvs = [c for c in sorted(folder.glob("*.csv")) if csv_has_class(c)]
        if csvs:
            for c in csvs:
                v = read_video(c)
                dated.append(DataSet(v.name, folder, c, v))
            continue
        tsv = folder_tsv(folder)
        if tsv is None:
            notes.append(f"{folder.name}/: no CSV with a CLASS column and no {folder.name}.tsv "
                         "(nor a single .tsv): skipped")
            continue
        undated.append(DataSet(tsv.stem, folder, tsv))
    sets = dated + undated
    seen = {}
    for s in sets:
        seen.setdefault(s.name, []).append(s)
    for name, same in seen.items():
        if len(same) > 1:
            for s in same:
                s.name = f"{s.folder.name}/{s.name}"
    return sets, notes


def prepare_tsv_set(ds):
    pairs, bad = read_tsv_lines(ds.source)
    first, labels, conflict, repeats = {}, {}, set(), 0
    for lab, t in pairs:
        if t in first:
            repeats += 1
            if first[t] != lab:
                conflict.add(t)
            continue
        first[t] = lab
    ds.items = [(lab, t) for t, lab in first.items() if t not in conflict]
    ds.meta.update({"rows": len(pairs) + bad, "bad_rows": bad, "duplicates": repeats,
               "conflicts": len(conflict), "undated": None, "undated_rows": None,
               "first_date": None, "last_date": None})


def prepare_video_set(ds, undated):
    v = ds.video
    order_video(v, undated)
    ds.items = [(it[0], it[1]) for it in v.items]
    dated = [it[2] for it in v.items if it[2] is not None]
    ds.meta.update({"rows": len(v.rows), "bad_rows": v.bad, "duplicates": v.duplicates,
               "conflicts": v.conflicts, "undated": v.undated,
               "undated_rows": sum(1 for r in v.rows if r[2] is None),
               "dated_by_neighbour": v.dated_by_neighbour,
               "first_date": (datetime.fromtimestamp(min(dated), timezone.utc)
                              .strftime("%Y-%m-%d") if dated else None),
               "last_date": (datetime.fromtimestamp(max(dated), timezone.utc)
                             .strftime("%Y-%m-%d") if dated else None)})


def file_digest(path, cache={}):
    p = Path(path).resolve()
    if p not in cache:
        cache[p] = sha1(p.read_bytes())
    return cache[p]


def recipe_matches(folder, recipe_corpora):
    """Indexes of the recipe's corpora that are this folder's data: the same
    file name or the same bytes as a .tsv in the folder."""
    tsvs = [p for p in Path(folder).glob("*.tsv") if p.is_file()]
    names = {p.name for p in tsvs}
    digests = {file_digest(p) for p in tsvs}
    return [i for i, c in enumerate(recipe_corpora)
            if Path(c).name in names or file_digest(c) in digests]


def plan_models(sets, recipe_corpora):
    """Each set's leave-one-set-out corpora (ds.corpora, ds.replaced,
    ds.model_key). sets: every set of the data folder, chosen or not (a
    video's model is made of the other videos of its folder). A video's model
    replaces its folder's corpus by the other CSVs of the folder; a TSV set's
    drops its folder's corpus; a set whose folder is not in the recipe gets
    the whole recipe. Returns {folder: indexes of its recipe corpora}."""
    folders = []
    for ds in sets:
        if ds.folder not in folders:
            folders.append(ds.folder)
    matches = {f: recipe_matches(f, recipe_corpora) for f in folders}
    for ds in sets:
        m = matches[ds.folder]
        corpora, key = [], []
        for i, c in enumerate(recipe_corpora):
            w = RECIPE_WEIGHTS.get(Path(c).resolve(), "1")
            if i in m and ds.video is not None:
                others = [o.video for o in sets if o.folder == ds.folder
                          and o.video is not None and o is not ds]
                ds.replaced = (i, [line for o in others for line in o.lines])
                corpora.append((None, w, f"{Path(c).name} without {ds.name} (the other "
                                         f"{len(others)} CSVs of {ds.folder.name}/)"))
                key.append(f"{c}-without-{ds.name}")
            elif i in m:
                continue
            else:
                corpora.append((Path(c), w, Path(c).name))
                key.append(str(c))
        ds.corpora = corpora
        ds.model_key = tuple(key)
        if not m:
            ds.meta["model_note"] = "its folder is not in the recipe: the whole recipe"
        elif ds.video is not None:
            ds.meta["model_note"] = "its video left out of its folder's corpus"
        else:
            ds.meta["model_note"] = "its folder's corpus left out"
    return matches


def model_texts(ds, cache={}):
    """text -> set of labels, over every corpus of ds's model."""
    out = {}
    for path, _, _ in ds.corpora:
        if path is None:
            pairs = []
            for line in ds.replaced[1]:
                label, _, text = line.partition(b"\t")
                pairs.append((1 if label == b"spam" else 0, text))
        else:
            if path not in cache:
                cache[path] = read_tsv_lines(path)[0]
            pairs = cache[path]
        for lab, t in pairs:
            out.setdefault(t, set()).add(lab)
    return out


def split_order(ds, seed):
    """ds's comments in the order a site meets them: a video's DATE order, a
    TSV set shuffled with the seed."""
    if seed is None:
        return list(ds.items)
    items = list(ds.items)
    random.Random(seed).shuffle(items)
    return items


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
    """The scores of one (filter, config, set, seed, k): the comments from
    position k_learned on that were scored."""

    def __init__(self, filt, config, site, seed, k, k_learned, labels, scores, verdicts, texts,
                 pos, learned=(0, 0), cutoffs=None):
        self.filter, self.config, self.site, self.seed = filt, config, site, seed
        self.k, self.k_learned = k, k_learned
        self.labels, self.scores, self.verdicts = labels, scores, verdicts
        self.texts, self.pos = texts, pos
        self.learned = learned                 # (spam, ham) of the first k
        self.cutoffs = cutoffs                 # thresh: (hold, reject) per comment

    def window(self, config, k, k_learned, lo, hi, learned):
        """The comments at positions lo <= pos < hi, as another row."""
        keep = [i for i, p in enumerate(self.pos) if lo <= p < hi]
        return Scored(self.filter, config, self.site, self.seed, k, k_learned,
                      [self.labels[i] for i in keep], [self.scores[i] for i in keep],
                      [self.verdicts[i] for i in keep], [self.texts[i] for i in keep],
                      [self.pos[i] for i in keep], learned,
                      [self.cutoffs[i] for i in keep] if self.cutoffs is not None else None)


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


def pool(items, name):
    """Pool several Scored of one (filter, config, k) into one."""
    first = items[0]
    cut = None
    if all(s.cutoffs is not None for s in items):
        cut = [c for s in items for c in s.cutoffs]
    return Scored(first.filter, first.config, name, first.seed, first.k, None,
                  [x for s in items for x in s.labels], [x for s in items for x in s.scores],
                  [x for s in items for x in s.verdicts], [x for s in items for x in s.texts],
                  [x for s in items for x in s.pos],
                  (sum(s.learned[0] for s in items), sum(s.learned[1] for s in items)), cut)


def with_cutoffs(s, hold, reject):
    s.cutoffs = [(hold, reject)] * len(s.labels)
    return s


def mean_rows(ms):
    """The mean of several metric dicts (one per seed): numbers averaged over
    the seeds that have them (None when none has), anything else from the
    first."""
    out = {}
    for key in ms[0]:
        vals = [m.get(key) for m in ms]
        nums = [v for v in vals if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if nums and len(nums) == sum(1 for v in vals if v is not None):
            out[key] = sum(nums) / len(nums)
            if all(isinstance(v, int) for v in nums) and len(set(nums)) == 1:
                out[key] = nums[0]
        elif all(v is None for v in vals):
            out[key] = None
        else:
            out[key] = vals[0]
    return out


def auc_se(auc, n_pos, n_neg):
    """Hanley & McNeil's standard error of an AUC on n_pos spam, n_neg ham."""
    if auc is None or not n_pos or not n_neg:
        return None
    q1 = auc / (2 - auc)
    q2 = 2 * auc * auc / (1 + auc)
    v = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) \
        / (n_pos * n_neg)
    return math.sqrt(max(v, 0.0))


def noise(a, b):
    """What a difference of two AUC rows (metric dicts) must pass to count:
    twice the standard error of the difference of two independent AUCs
    (on one test set the two are correlated, so this overstates it)."""
    sa = auc_se(a["auc"], a["n_spam"], a["n_ham"])
    sb = auc_se(b["auc"], b["n_spam"], b["n_ham"])
    if sa is None or sb is None:
        return None
    return 2 * math.sqrt(sa * sa + sb * sb)


# ---------------------------------------------------------------- the run

def k_plan(ks, n, all_share, min_scored):
    """[(k, comments learned or None when too few are left to score)]."""
    plan = []
    for k in ks:
        kk = int(n * all_share) if k == ALL else k
        plan.append((k, kk if n - kk >= min_scored else None))
    return plan


class Model:
    """A leave-one-set-out default model: the thresh dump and bogofilter's
    wordlist trained on the same corpora, built once and shared by the seeds
    of a set."""

    def __init__(self, ds, th, bogo, work):
        self.dir = work / f"model-{ds.slug}"
        self.dir.mkdir()
        corpora = []
        for path, w, _ in ds.corpora:
            if path is None:
                path = self.dir / "corpus-without.tsv"
                with open(path, "wb") as f:
                    for line in ds.replaced[1]:
                        f.write(line + b"\n")
            corpora.append((path, w))
        self.dump = self.dir / "model.dump"
        log(f"{ds.name}: building its default model from "
            f"{', '.join(what + ' x' + w for _, w, what in ds.corpora) or 'nothing'}")
        if corpora:
            th.build_model(self.dump, corpora)
        else:
            self.dump = None
        self.wl = None
        if bogo:
            pairs = []
            for c, _ in corpora:
                pairs += read_tsv_lines(c)[0]
            self.wl = self.dir / "bogo-model"
            bogo.register(self.wl, learned_set(pairs))

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def run_split(ds, seed, items, model, th, bogo, ks, work, args):
    """Every configuration of one set in one order; returns (Scored list,
    {k: comments learned or None})."""
    sw = work / (ds.slug + ("" if seed is None else f"-seed{seed}"))
    sw.mkdir()
    out = []
    n = len(items)
    labels = [it[0] for it in items]
    texts = [it[1] for it in items]
    pos = list(range(n))
    plan = k_plan(ks, n, args.all_share, args.min_scored)

    def end(kk):
        return min(n, kk + args.max_scored) if args.max_scored else n

    def learned(kk):
        s = sum(labels[:kk])
        return (s, kk - s)

    def thresh_site(tag, dump, k, kk, lo, hi, config):
        db = sw / f"{tag}-k{kk}"
        th.new_db(db, dump)
        if kk:
            tr = sw / f"train-k{kk}.tsv"
            write_tsv(tr, items[:kk])
            th.train(db, tr)
        te = sw / f"test-{lo}-{hi}.tsv"
        write_tsv(te, items[lo:hi])
        sc, vd = th.check(db, te, hi - lo)
        p = th.params(db)
        if dump and th.site_params is None:
            th.site_params = p
        shutil.rmtree(db)
        s = Scored("thresh", config, ds.name, seed, k, kk, labels[lo:hi], sc, vd, texts[lo:hi],
                   pos[lo:hi], learned(kk))
        return with_cutoffs(s, p.get("hold_cutoff", float("nan")),
                            p.get("reject_cutoff", float("nan")))

    tag = ds.name + ("" if seed is None else f" (seed {seed})")
    log(f"{tag}: thresh, k = {', '.join(f'{k}' + (f' ({kk})' if k == ALL else '') for k, kk in plan if kk is not None)}")
    # The default model scores every comment once: k = 0 and "default alone"
    # are windows of it.
    base = thresh_site("site", model.dump, 0, 0, 0, n, DEFAULT_SITE)
    for k, kk in plan:
        if kk is None:
            continue
        if kk == 0:
            out.append(base.window(DEFAULT_SITE, k, 0, 0, end(0), (0, 0)))
            continue
        out.append(thresh_site("site", model.dump, k, kk, kk, end(kk), DEFAULT_SITE))
        out.append(thresh_site("alone", None, k, kk, kk, end(kk), SITE_ALONE))
        out.append(base.window(DEFAULT_ALONE, k, kk, kk, end(kk), learned(kk)))

    if bogo:
        log(f"{tag}: bogofilter")
        sc, vd = bogo.score(model.wl, texts)
        bbase = Scored("bogofilter", DEFAULT_SITE, ds.name, seed, 0, 0, labels, sc, vd, texts,
                       pos)
        for k, kk in plan:
            if kk is None:
                continue
            if kk == 0:
                out.append(bbase.window(DEFAULT_SITE, k, 0, 0, end(0), (0, 0)))
                continue
            hi = end(kk)
            first = items[:kk]
            wl = sw / f"bogo-site-k{kk}"
            shutil.copytree(model.wl, wl)
            bogo.register(wl, first)
            sc, vd = bogo.score(wl, texts[kk:hi])
            out.append(Scored("bogofilter", DEFAULT_SITE, ds.name, seed, k, kk, labels[kk:hi],
                              sc, vd, texts[kk:hi], pos[kk:hi], learned(kk)))
            shutil.rmtree(wl)
            wl = sw / f"bogo-alone-k{kk}"
            bogo.register(wl, first)
            sc, vd = bogo.score(wl, texts[kk:hi])
            out.append(Scored("bogofilter", SITE_ALONE, ds.name, seed, k, kk, labels[kk:hi],
                              sc, vd, texts[kk:hi], pos[kk:hi], learned(kk)))
            shutil.rmtree(wl, ignore_errors=True)
    shutil.rmtree(sw)
    return out, dict(plan)


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
        out.append(with_cutoffs(Scored("thresh", config, target, None, 0, 0, labels, sc, vd,
                                       texts, pos),
                                p.get("hold_cutoff"), p.get("reject_cutoff")))
        if bogo:
            wl = cw / f"{config.split()[0]}-wl"
            bogo.register(wl, learned_set(model_pairs))
            sc, vd = bogo.score(wl, texts)
            out.append(Scored("bogofilter", config, target, None, 0, 0, labels, sc, vd, texts,
                              pos))
    shutil.rmtree(cw)
    return out


# ---------------------------------------------------------------- summary

CONFIG_ROWS = [("thresh", DEFAULT_SITE), ("thresh", SITE_ALONE), ("thresh", DEFAULT_ALONE),
               ("bogofilter", DEFAULT_SITE), ("bogofilter", SITE_ALONE)]


def config_label(filt, config, k):
    if config == DEFAULT_SITE and k == 0:
        return "default (no site comments)"
    if config == DEFAULT_ALONE:
        return "default alone (reference)"
    return config


def summarize(results, sets, ks, pool_seeds):
    """Per set (the mean over its seeds), per seed, pooled over the sets (the
    mean over seeds of the pool of every set's comments) and the worst set,
    for every (filter, config, k)."""
    by = {}
    for s in results:
        by[(s.filter, s.config, s.site, s.seed, s.k)] = s
    rows, rows_by_seed = [], []
    pooled, worst = {}, {}
    for k in ks:
        for filt, config in CONFIG_ROWS:
            if config == DEFAULT_ALONE and filt != "thresh":
                continue
            if k == 0 and config != DEFAULT_SITE:
                continue
            per = {}
            for ds in sets:
                got = [by[key] for seed in ds.seeds
                       if (key := (filt, config, ds.name, seed, k)) in by]
                if not got:
                    continue
                ms = []
                for s in got:
                    m = metrics(s)
                    m.update({"filter": filt, "config": config, "set": ds.name, "seed": s.seed,
                              "k": k, "k_learned": s.k_learned,
                              "learned_spam": s.learned[0], "learned_ham": s.learned[1]})
                    rows_by_seed.append(m)
                    ms.append(m)
                r = mean_rows(ms)
                r.update({"filter": filt, "config": config, "set": ds.name, "k": k,
                          "seed": None, "seeds": [m["seed"] for m in ms]})
                rows.append(r)
                per[ds.name] = r
            if not per:
                continue
            pms = []
            for ps in pool_seeds:
                got = []
                for ds in sets:
                    key = (filt, config, ds.name, ps if ds.shuffled else None, k)
                    if key in by:
                        got.append(by[key])
                if not got:
                    continue
                m = metrics(pool(got, "pooled"))
                m.update({"learned_spam": sum(s.learned[0] for s in got),
                          "learned_ham": sum(s.learned[1] for s in got)})
                pms.append(m)
            p = mean_rows(pms)
            p.update({"filter": filt, "config": config, "k": k, "sets": len(per),
                      "pool_seeds": [x for x in pool_seeds]})
            p["mean_of_sets"] = {}
            for name in METRICS:
                vals = [r[name] for r in per.values() if r[name] is not None]
                p["mean_of_sets"][name] = sum(vals) / len(vals) if vals else None
            pooled[(filt, config, k)] = p
            w = {}
            for name in METRICS:
                vals = [(r[name], s) for s, r in per.items() if r[name] is not None]
                if not vals:
                    w[name] = None
                    continue
                pick = min if name in WORSE_IS_LOWER else max
                val, s = pick(vals, key=lambda x: x[0])
                w[name] = {"value": val, "set": s}
            worst[(filt, config, k)] = w
    return rows, rows_by_seed, pooled, worst


def targets(rows, sets, ks):
    """Issue 19's criteria, for thresh: a new site never rejects (ham rejected
    <= 1% on every set at k = 0); the prior never below the site alone by more
    than noise; learning never worse than the default alone on the same
    comments by more than noise; no fall from one k to the next by more than
    noise."""
    idx = {(r["filter"], r["config"], r["set"], r["k"]): r for r in rows}
    out = []
    if 0 in ks:
        vals = [(idx[("thresh", DEFAULT_SITE, ds.name, 0)]["ham_rejected"], ds.name)
                for ds in sets if ("thresh", DEFAULT_SITE, ds.name, 0) in idx]
        vals = [v for v in vals if v[0] is not None]
        if vals:
            val, s = max(vals)
            out.append({"criterion": "k0_ham_rejected", "set": None, "met": val <= 1.0,
                        "value": val, "where": s,
                        "text": f"k = 0: ham rejected <= 1% on every set (worst: {s})"})

    def compare(name, text, pairs):
        for ds in sets:
            worst, met, checked = None, True, 0
            for ka, kb, ca, cb in pairs:
                a = idx.get(("thresh", ca, ds.name, ka))
                b = idx.get(("thresh", cb, ds.name, kb))
                if not a or not b or a["auc"] is None or b["auc"] is None:
                    continue
                nz = noise(a, b)
                if nz is None:
                    continue
                checked += 1
                margin = a["auc"] - (b["auc"] - nz)
                if worst is None or margin < worst["margin"]:
                    worst = {"k": ka, "k_from": kb, "auc": a["auc"], "ref": b["auc"],
                             "noise": nz, "margin": margin}
                if margin < 0:
                    met = False
            if checked:
                out.append({"criterion": name, "set": ds.name, "met": met, "worst": worst,
                            "text": text})

    big = [k for k in ks if k != 0]
    compare("prior_vs_alone", "default+site >= site alone - noise, at every k > 0",
            [(k, k, DEFAULT_SITE, SITE_ALONE) for k in big])
    compare("prior_vs_default", "default+site >= default alone - noise (same comments), "
            "at every k > 0", [(k, k, DEFAULT_SITE, DEFAULT_ALONE) for k in big])
    compare("no_fall", "default+site at each k >= at the k before - noise",
            [(kb, ka, DEFAULT_SITE, DEFAULT_SITE) for ka, kb in zip(ks, ks[1:])])
    return out


# ---------------------------------------------------------------- report

def fpct(x):
    return "–" if x is None else f"{x:.2f}"


def fauc(x):
    return "–" if x is None else f"{x:.4f}"


def fcount(x):
    if x is None:
        return "–"
    return str(int(x)) if float(x).is_integer() else f"{x:.1f}"


def fmt_metric(name, x):
    return fauc(x) if name == "auc" else fpct(x)


def k_title(k):
    return "all" if k == ALL else str(k)


POOLED_HEADER = ("| k | filter | configuration | sets | n | learned (spam / ham) | ROC AUC, pooled "
                 "| ROC AUC, mean of sets | ham rejected % | ham held % | spam accepted % "
                 "| spam held % |")
POOLED_SEP = "|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|"


def pooled_lines(pooled, ks, configs=None):
    """The pooled table: one row per (k, filter, configuration)."""
    out = [POOLED_HEADER, POOLED_SEP]
    for k in ks:
        for f, c in configs or CONFIG_ROWS:
            p = pooled.get((f, c, k))
            if not p:
                continue
            lr = "–" if k == 0 or c == DEFAULT_ALONE else \
                f"{fcount(round(p['learned_spam']))} / {fcount(round(p['learned_ham']))}"
            out.append(f"| {k_title(k)} | {f} | {config_label(f, c, k)} | {p['sets']} "
                       f"| {fcount(round(p['n']))} | {lr} | {fauc(p['auc'])} "
                       f"| {fauc(p['mean_of_sets']['auc'])} | {fpct(p['ham_rejected'])} "
                       f"| {fpct(p['ham_held'])} | {fpct(p['spam_accepted'])} "
                       f"| {fpct(p['spam_held'])} |")
    return out


CURVE_CONFIGS = [("thresh", DEFAULT_SITE), ("thresh", SITE_ALONE), ("thresh", DEFAULT_ALONE),
                 ("bogofilter", SITE_ALONE), ("bogofilter", DEFAULT_SITE)]


def curve_lines(rows, pooled, sets, ks):
    """ROC AUC by k: per set, the prior and alone side by side; then pooled
    and the mean of the sets."""
    idx = {(r["filter"], r["config"], r["set"], r["k"]): r for r in rows}
    present = [(f, c) for f, c in CURVE_CONFIGS if any((f, c, k) in pooled for k in ks)]
    out = ["| set | filter | configuration | " + " | ".join(f"k = {k_title(k)}" for k in ks)
           + " |", "|---|---|---|" + "---:|" * len(ks)]

    def cell(f, c, k, get):
        if k == 0 and c != DEFAULT_SITE:
            # k = 0: nothing learned; the prior's row is the default alone's
            if c == DEFAULT_ALONE:
                return cell(f, DEFAULT_SITE, k, get)
            return "–"
        return fauc(get(f, c, k))

    for ds in sets:
        for f, c in present:
            out.append(f"| {ds.name} | {f} | {c} | " + " | ".join(
                cell(f, c, k, lambda f, c, k: (idx.get((f, c, ds.name, k)) or {}).get("auc"))
                for k in ks) + " |")
    for label, get in (
            ("**pooled**", lambda f, c, k: (pooled.get((f, c, k)) or {}).get("auc")),
            ("**mean of sets**", lambda f, c, k: ((pooled.get((f, c, k)) or {})
                                                  .get("mean_of_sets") or {}).get("auc"))):
        for f, c in present:
            out.append(f"| {label} | {f} | {c} | " +
                       " | ".join(cell(f, c, k, get) for k in ks) + " |")
    return out


def sets_lines(sets, args):
    out = ["| set | folder | order | kept | spam / ham | repeats / conflicts dropped | undated "
           "| k = all learns | in the model's corpora (other label) | its model (leave-one-set-out) |",
           "|---|---|---|---:|---|---|---:|---:|---:|---|"]
    for ds in sets:
        d = ds.meta
        order = (f"DATE ({d['first_date'] or '–'} / {d['last_date'] or '–'})"
                 if not ds.shuffled else f"shuffled, seeds {','.join(str(s) for s in ds.seeds)}")
        model = "; ".join(f"{what} x{w}" for _, w, what in ds.corpora) or "nothing (empty)"
        kall = d.get("k_all")
        out.append(f"| {ds.name} | {ds.folder.name}/ | {order} | {d['kept']} "
                   f"| {d['spam']} / {d['ham']} | {d['duplicates']} / {d['conflicts']} "
                   f"| {'–' if d['undated'] is None else d['undated']} "
                   f"| {'–' if kall is None else kall} "
                   f"| {d['in_model_corpora']} ({d['in_model_other_label']}) | {model} |")
    return out


def target_lines(tgts, sets):
    out = []
    k0 = [t for t in tgts if t["criterion"] == "k0_ham_rejected"]
    for t in k0:
        out.append(f"- {t['text']}: {fpct(t['value'])}%, "
                   f"{'met' if t['met'] else '**not met**'}.")
    if out:
        out.append("")
    per = {}
    for t in tgts:
        if t["set"] is not None:
            per.setdefault(t["set"], {})[t["criterion"]] = t
    if not per:
        return out

    def cell(t):
        if not t:
            return "–"
        w = t["worst"]
        where = (f"k = {k_title(w['k'])}" if w["k"] == w["k_from"] else
                 f"k = {k_title(w['k_from'])} → {k_title(w['k'])}")
        return (f"{'yes' if t['met'] else '**no**'} (closest: {where}, {fauc(w['auc'])} vs "
                f"{fauc(w['ref'])} ± {w['noise']:.4f})")

    out += ["| set | default+site ≥ site alone − noise | default+site ≥ default alone − noise "
            "| no fall from one k to the next |", "|---|---|---|---|"]
    for ds in sets:
        p = per.get(ds.name)
        if not p:
            continue
        out.append(f"| {ds.name} | {cell(p.get('prior_vs_alone'))} "
                   f"| {cell(p.get('prior_vs_default'))} | {cell(p.get('no_fall'))} |")
    return out


def report_md(args, meta, sets, rows, pooled, worst, cross_rows, tgts, ks, check_note):
    out = []
    w = out.append
    w("## newsite: new sites, from their first comment")
    w("")
    for line in meta["header"]:
        w(f"- {line}")
    w("")
    w("### The sets")
    w("")
    w("One set per video (a CSV with a CLASS column, in DATE order) and per other folder of the "
      "data (its TSV, shuffled with each seed; its figures are the mean over the seeds). Each is "
      "deduplicated (a repeated text keeps its first copy, a text under both labels is "
      "dropped). *k = all* learns the first "
      f"{args.all_share:.0%} of the set and scores the rest. *In the model's corpora*: how many "
      "of the set's comments occur verbatim in a corpus of the model that scores it (under the "
      "other label). *Its model*: the corpora of the default model built for it, each with what "
      "one of its comments counts as.")
    if any(not ds.shuffled for ds in sets):
        w("")
        w(f"*Undated*: kept comments of a video without a usable DATE "
          f"({UNDATED_NOTE[args.undated]}).")
    w("")
    out += sets_lines(sets, args)
    w("")
    w("### Over all sets")
    w("")
    w("*Pooled*: the scored comments of every set in one pool (a shuffled set counts once, with "
      "one seed; the figure is the mean over the seeds). *Mean of sets*: the mean of the sets' "
      "own AUCs. n and *learned* are the pool's, rounded means over the seeds. Every k scores "
      f"at most {args.max_scored or 'every'} comments of a set after the k it learned, so the "
      "comments scored change with k; *default alone (reference)* scores the same comments as "
      "the row above it with nothing learned.")
    w("")
    out += pooled_lines(pooled, ks)
    w("")
    w("### Learning curves: ROC AUC by k")
    w("")
    w("Per set, the default model with the site's first k comments (*default+site*) beside the "
      "site's k comments alone (an empty database, `init --empty`) and the default model alone "
      "on the same comments (*default alone*; at k = 0 all three are the default model's). "
      "bogofilter alongside.")
    w("")
    out += curve_lines(rows, pooled, sets, ks)
    w("")
    idx = {(r["filter"], r["config"], r["set"], r["k"]): r for r in rows}
    hdr = ("| set | filter | configuration | n | spam | learned (spam / ham) | ROC AUC "
           "| ham rejected % | ham held % | spam accepted % | spam held % |")
    sep = "|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|"
    for k in ks:
        if k == 0:
            w("### k = 0: the default model alone, the first comments of each set")
        elif k == ALL:
            w(f"### k = all: the first {args.all_share:.0%} of each set learned, the rest scored")
        else:
            w(f"### k = {k}: each set's first {k} comments learned, the next ones scored")
        w("")
        present = [(f, c) for f, c in CONFIG_ROWS if (f, c, k) in pooled]
        if not present:
            w(f"Not run at this k: every set would leave fewer than {args.min_scored} comments "
              "to score.")
            w("")
            continue
        w(hdr)
        w(sep)
        for ds in sets:
            for f, c in present:
                r = idx.get((f, c, ds.name, k))
                if not r:
                    continue
                lr = "–" if k == 0 or c == DEFAULT_ALONE else \
                    f"{fcount(r['learned_spam'])} / {fcount(r['learned_ham'])}"
                w(f"| {ds.name} | {f} | {config_label(f, c, k)} | {fcount(r['n'])} "
                  f"| {fcount(r['n_spam'])} | {lr} | {fauc(r['auc'])} "
                  f"| {fpct(r['ham_rejected'])} | {fpct(r['ham_held'])} "
                  f"| {fpct(r['spam_accepted'])} | {fpct(r['spam_held'])} |")
        for f, c in present:
            p = pooled[(f, c, k)]
            lr = "–" if k == 0 or c == DEFAULT_ALONE else \
                f"{fcount(round(p['learned_spam']))} / {fcount(round(p['learned_ham']))}"
            w(f"| **pooled** | {f} | {config_label(f, c, k)} | {fcount(round(p['n']))} "
              f"| {fcount(round(p['n_spam']))} | {lr} | {fauc(p['auc'])} "
              f"| {fpct(p['ham_rejected'])} | {fpct(p['ham_held'])} "
              f"| {fpct(p['spam_accepted'])} | {fpct(p['spam_held'])} |")
        for f, c in present:
            wr = worst[(f, c, k)]
            cells = []
            for name in METRICS:
                x = wr[name]
                cells.append("–" if not x else f"{fmt_metric(name, x['value'])} ({x['set']})")
            w(f"| worst set | {f} | {config_label(f, c, k)} | – | – | – | " +
              " | ".join(cells) + " |")
        w("")
        held = pooled.get(("thresh", DEFAULT_SITE, k))
        if held and held.get("ham_held_n"):
            w(f"thresh default+site, pooled: {fcount(round(held['ham_held_by_rule_n']))} of the "
              f"{fcount(round(held['ham_held_n']))} ham held were held by a rule, not by their "
              f"score (score under hold_cutoff: {check_note}).")
            w("")
        skipped = [name for name, plan in meta["plans"].items() if plan.get(k_label(k)) is None]
        if skipped:
            w(f"Not run at this k (fewer than {args.min_scored} comments would be left to "
              f"score): {', '.join(skipped)}.")
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
            w(f"| {r['config']} | {r['set']} | {r['filter']} | {r['n']} | {r['n_spam']} "
              f"| {fauc(r['auc'])} | {fpct(r['ham_rejected'])} | {fpct(r['ham_held'])} "
              f"| {fpct(r['spam_accepted'])} | {fpct(r['spam_held'])} |")
        w("")
    w("### Issue 19's criteria (thresh)")
    w("")
    w("*Noise*: twice the standard error (Hanley & McNeil) of the difference of the two AUCs, "
      "taken as independent (an overstatement when both score the same comments). *Closest*: "
      "the k where the left side came nearest to failing, the two AUCs and the noise.")
    w("")
    tl = target_lines(tgts, sets)
    out += tl if tl else ["No criterion applies to these values of k."]
    w("")
    w(f"Run time: {meta['seconds']:.1f} s (thresh commands {meta['thresh_seconds']:.1f} s, "
      f"bogofilter {meta['bogo_seconds']:.1f} s).")
    w("")
    return "\n".join(out)


def self_check(text, sets, ks, bogo, plans):
    """The report parses and has the tables and rows it should."""
    tables = parse_tables(text)
    names = [ds.name for ds in sets]
    want_cfg = {}
    for k in ks:
        cfg = [("thresh", DEFAULT_SITE)]
        if k:
            cfg += [("thresh", SITE_ALONE), ("thresh", DEFAULT_ALONE)]
        if bogo:
            cfg += [("bogofilter", DEFAULT_SITE)] + ([("bogofilter", SITE_ALONE)] if k else [])
        want_cfg[k] = cfg

    def check_cells(header, row):
        for key, cell in zip(header, row):
            if cell in ("–", "") or not (key.endswith("%") or key.startswith("ROC AUC")
                                         or key.startswith("k = ")):
                continue
            x = float(cell.split()[0])
            assert 0.0 <= x <= (1.0 if not key.endswith("%") else 100.0), (key, row)

    kinds = {"sets": 0, "pooled": 0, "curves": 0, "k": 0, "criteria": 0}
    k_tables = []
    for header, rows in tables:
        if header[:2] == ["set", "folder"]:
            kinds["sets"] += 1
            assert [r[0] for r in rows] == names, (names, [r[0] for r in rows])
        elif header[:2] == ["k", "filter"]:
            kinds["pooled"] += 1
            seen = {(r[0], r[1], r[2]) for r in rows}
            for r in rows:
                check_cells(header, r)
            for k in ks:
                if all(plans[n].get(k_label(k)) is None for n in names):
                    continue
                for f, c in want_cfg[k]:
                    assert (k_title(k), f, config_label(f, c, k)) in seen, (k, f, c)
        elif header[:3] == ["set", "filter", "configuration"] and "n" not in header:
            kinds["curves"] += 1
            assert header[3:] == [f"k = {k_title(k)}" for k in ks], header
            seen = {(r[0], r[1], r[2]) for r in rows}
            for r in rows:
                check_cells(header, r)
            learned = any(k != 0 and any(plans[n].get(k_label(k)) is not None for n in names)
                          for k in ks)
            for n in names + ["**pooled**", "**mean of sets**"]:
                assert (n, "thresh", DEFAULT_SITE) in seen, (n, "curves")
                if learned:
                    assert (n, "thresh", SITE_ALONE) in seen, (n, "curves")
                if bogo and learned:
                    assert (n, "bogofilter", SITE_ALONE) in seen, (n, "curves")
        elif header[:3] == ["set", "filter", "configuration"]:
            k_tables.append((header, rows))
        elif header and header[0] == "set" and "no fall from one k to the next" in header:
            kinds["criteria"] += 1
    run_ks = [k for k in ks if any(plans[n].get(k_label(k)) is not None for n in names)]
    assert len(k_tables) == len(run_ks), f"{len(k_tables)} k tables for {len(run_ks)} values of k"
    for (header, rows), k in zip(k_tables, run_ks):
        seen = set()
        for r in rows:
            row = dict(zip(header, r))
            seen.add((row["set"].strip("*"), row["filter"], row["configuration"]))
            if row["set"] != "worst set":
                assert float(row["n"]) > 0, row
                check_cells(header, r)
        for n in [n for n in names if plans[n].get(k_label(k)) is not None] + \
                ["pooled", "worst set"]:
            for f, c in want_cfg[k]:
                assert (n, f, config_label(f, c, k)) in seen, (k, n, f, c)
    assert kinds["sets"] == 1 and kinds["pooled"] == 1 and kinds["curves"] == 1, kinds
    if any(k != 0 for k in run_ks):
        assert kinds["criteria"] == 1, kinds
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
    ap.add_argument("--data", default=None, metavar="DIR",
                    help="the data folder, one set per video CSV and per other folder "
                         f"(default {rel(SHARED_DATA)} when it exists, else models)")
    ap.add_argument("--sets", "--videos", dest="sets_only", default=None, metavar="LIST",
                    help="comma-separated sets by name (a video's name or number: Psy, 1; a "
                         "folder's TSV name: sms-spam-collection); default all")
    ap.add_argument("--ks", default=",".join(str(k) for k in DEFAULT_KS),
                    help="comma-separated numbers of site comments learned, 'all' for the "
                         "first --all-share of each set (default 0,25,50,100,300,all)")
    ap.add_argument("--seeds", default=",".join(str(s) for s in DEFAULT_SEEDS),
                    help="comma-separated seeds of the shuffled (undated) sets (default 1,2,3); "
                         "their figures are the mean over the seeds")
    ap.add_argument("--max-scored", type=int, default=DEFAULT_MAX_SCORED, metavar="N",
                    help="score at most N comments of a set after the k learned (default "
                         f"{DEFAULT_MAX_SCORED}; 0: all the rest)")
    ap.add_argument("--all-share", type=float, default=DEFAULT_ALL_SHARE, metavar="F",
                    help=f"k = all learns this share of each set (default {DEFAULT_ALL_SHARE})")
    ap.add_argument("--min-scored", type=int, default=DEFAULT_MIN_SCORED, metavar="N",
                    help="skip a (set, k) that leaves fewer than N comments to score "
                         f"(default {DEFAULT_MIN_SCORED})")
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
                         "counts as (default: models/meson.build's recipe); the one that is "
                         "a set's folder's TSV (same name or bytes) is left out of its model")
    ap.add_argument("--undated", choices=("last", "neighbour", "drop"), default="last",
                    help="video comments without a usable DATE: last in file order (default), "
                         "the DATE of their nearest dated neighbour in the file, or dropped")
    ap.add_argument("--drop-seen", action="store_true",
                    help="drop from each set the comments that occur verbatim in its "
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
                    help="parse the printed report and fail when a table or row is missing")
    args = ap.parse_args()

    try:
        ks = parse_ks(args.ks)
    except ValueError:
        ap.error(f"--ks {args.ks!r}: expected comma-separated whole numbers >= 0 or 'all'")
    if not ks:
        ap.error("--ks: expected at least one k")
    try:
        seeds = sorted({int(x) for x in args.seeds.split(",") if x.strip()})
    except ValueError:
        ap.error(f"--seeds {args.seeds!r}: expected comma-separated whole numbers")
    if not seeds:
        ap.error("--seeds: expected at least one seed")
    if not 0 < args.all_share < 1:
        ap.error("--all-share: expected a share between 0 and 1")
    if args.max_scored < 0 or args.min_scored < 1:
        ap.error("--max-scored must be >= 0 and --min-scored >= 1")
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
    data = Path(args.data) if args.data else default_data_dir()
    if not data.is_dir():
        ap.error(f"--data {data}: not a folder")

    all_sets, notes = discover(data)
    if not all_sets:
        ap.error(f"--data {data}: no set found (a folder of CSVs with a CLASS column, or a "
                 "folder with FOLDER.tsv)")
    for n in notes:
        log(f"{data}: {n}")
    if args.sets_only:
        chosen = []
        for want in args.sets_only.split(","):
            want = want.strip().lower()
            hit = [ds for ds in all_sets if ds.name.lower() == want or
                   (ds.video is not None and str(ds.video.number) == want) or
                   (ds.shuffled and ds.folder.name.lower() == want)]
            if not hit:
                ap.error(f"--sets: no set {want!r} (have {', '.join(d.name for d in all_sets)})")
            if hit[0] not in chosen:
                chosen.append(hit[0])
        sets = [ds for ds in all_sets if ds in chosen]
    else:
        sets = all_sets

    t_start = time.perf_counter()
    load_start = loadavg()
    work = Path(tempfile.mkdtemp(prefix="thresh-newsite-", dir=args.tmp))
    scores_f = None
    try:
        for ds in all_sets:
            if ds.shuffled:
                prepare_tsv_set(ds)
            else:
                prepare_video_set(ds, args.undated)
            ds.seeds = seeds if ds.shuffled else [None]
        matches = plan_models(all_sets, recipe_corpora)

        # A folder of CSVs next to its TSV: the CSVs converted must be the TSV.
        for folder in {ds.folder for ds in all_sets if not ds.shuffled}:
            tsv = folder_tsv(folder)
            if tsv is None:
                continue
            union = [line for ds in all_sets if ds.folder == folder and not ds.shuffled
                     for line in ds.video.lines]
            shipped = [line for line in tsv.read_bytes().split(b"\n") if line]
            if union == shipped:
                log(f"check: the CSVs of {folder.name}/ converted (label<TAB>text, tabs and line "
                    f"breaks to spaces) reproduce {tsv.name} line for line ({len(union)} lines)")
            elif set(union) == set(shipped):
                log(f"check: the CSVs of {folder.name}/ converted give the same set of lines as "
                    f"{tsv.name}, in another order or multiplicity")
            else:
                log(f"WARNING: the CSVs of {folder.name}/ converted do NOT reproduce {tsv.name}: "
                    f"{len(set(union) - set(shipped))} lines only in the CSVs, "
                    f"{len(set(shipped) - set(union))} only in the TSV")
        for folder, m in matches.items():
            if not m and any(ds.folder == folder for ds in sets):
                log(f"{folder.name}/: none of the recipe's corpora is its data: its sets are "
                    "scored by the whole recipe")

        plans = {}
        for ds in sets:
            mt = model_texts(ds)
            d = ds.meta
            d["in_model_corpora"] = sum(1 for _, t in ds.items if t in mt)
            d["in_model_other_label"] = sum(1 for lab, t in ds.items
                                            if t in mt and mt[t] != {lab})
            if args.drop_seen:
                before = len(ds.items)
                ds.items = [it for it in ds.items if it[1] not in mt]
                d["dropped_seen"] = before - len(ds.items)
            n_spam = sum(lab for lab, _ in ds.items)
            d.update({"kept": len(ds.items), "spam": n_spam, "ham": len(ds.items) - n_spam,
                      "shuffled": ds.shuffled, "seeds": ds.seeds, "folder": ds.folder.name,
                      "source": rel(ds.source),
                      "model_corpora": [{"corpus": what, "weight": w} for _, w, what in ds.corpora],
                      "k_all": int(len(ds.items) * args.all_share) if ALL in ks else None})
            plan = dict(k_plan(ks, len(ds.items), args.all_share, args.min_scored))
            plans[ds.name] = {k_label(k): kk for k, kk in plan.items()}
            d["k_learned"] = plans[ds.name]
            if ds.video is not None:
                d["first_k_spam"] = {k_label(k): sum(lab for lab, _ in ds.items[:kk])
                                     for k, kk in plan.items() if kk is not None}
            log(f"{ds.name}: {d['rows']} rows, {len(ds.items)} kept ({n_spam} spam) after "
                f"{d['duplicates']} repeats and {d['conflicts']} conflicting texts"
                + (f"; {d['undated']} without a usable DATE ({args.undated})"
                   if ds.video is not None else f"; shuffled with seeds {args.seeds}")
                + f"; {d['in_model_corpora']} occur verbatim in its model's corpora"
                + (f"; {d['dropped_seen']} dropped (--drop-seen)" if args.drop_seen else ""))
            skipped = [k_title(k) for k, kk in plan.items() if kk is None]
            if skipped:
                log(f"{ds.name}: k = {', '.join(skipped)} skipped: fewer than "
                    f"{args.min_scored} comments would be left to score")

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
                    continue          # the k = 0 lines, from position k_learned on
                for lab, sc, vd, t, p in zip(s.labels, s.scores, s.verdicts, s.texts, s.pos):
                    scores_f.write(json.dumps({
                        "filter": s.filter, "config": s.config, "set": s.site, "seed": s.seed,
                        "k": s.k, "k_learned": s.k_learned, "pos": p,
                        "label": "spam" if lab else "ham", "score": sc,
                        "verdict": VERDICT_NAMES[vd], "text_sha1": sha1(t)}) + "\n")

        results = []
        models = {}
        for ds in sets:
            if ds.model_key not in models:
                models[ds.model_key] = Model(ds, th, bogo, work)
            model = models[ds.model_key]
            for seed in ds.seeds:
                got, _ = run_split(ds, seed, split_order(ds, seed), model, th, bogo, ks, work,
                                   args)
                dump_scores(got)
                results += got
            if not any(o.model_key == ds.model_key for o in sets[sets.index(ds) + 1:]):
                models.pop(ds.model_key).remove()
        cross = []
        if not args.no_cross:
            cross = run_cross(th, bogo, work)
            dump_scores(cross)
        th.check_guards()

        pool_seeds = seeds if any(ds.shuffled for ds in sets) else [None]
        rows, rows_by_seed, pooled, worst = summarize(results, sets, ks, pool_seeds)
        cross_rows = []
        for s in cross:
            m = metrics(s)
            m.update({"filter": s.filter, "config": s.config, "set": s.site, "k": 0})
            cross_rows.append(m)
        tgts = targets(rows, sets, ks)
        if th.site_params:
            params = th.site_params
        seconds = time.perf_counter() - t_start
        src = source_revision()
        n_shuffled = sum(1 for ds in sets if ds.shuffled)
        header = [
            f"machine: {machine()}",
            f"load average (1 min) at the start and the end of the run: {load_start}, "
            f"{loadavg()}",
            f"versions: {th.version()}{' from ' + src if src else ''}"
            + (f"; {bogo.version()}" if bogo else "; bogofilter not run"),
            f"command: `{os.environ.get('THRESH_BENCH_CMD') or shlex.join(sys.argv)}`",
            f"data: {rel(data)}: {len(sets)} sets ({len(sets) - n_shuffled} in DATE order, "
            f"{n_shuffled} shuffled with seeds {', '.join(str(s) for s in seeds)}: their "
            "figures, and the pooled ones, are the mean over the seeds)",
            f"k = {', '.join(k_title(k) for k in ks)}; k = all: the first "
            f"{args.all_share:.0%} of a set learned; scored: at most "
            f"{args.max_scored or 'all the'} comments after the k learned"
            + (f"; a (set, k) that leaves fewer than {args.min_scored} to score is skipped"),
            f"model recipe: `{rel(args.recipe)} THRESH OUT "
            f"{' '.join(rel(p) + ':' + RECIPE_WEIGHTS.get(Path(p).resolve(), '1') for p in recipe_corpora)}` "
            f"(corpora from {recipe_src}); each set's model leaves the set out "
            "(see *its model* below)",
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
            f"video comments without a usable DATE: {args.undated}"
            + ("; comments found verbatim in the model's corpora dropped (--drop-seen)"
               if args.drop_seen else ""),
        ]
        meta = {"header": header, "seconds": seconds, "thresh_seconds": th.seconds,
                "bogo_seconds": bogo.seconds if bogo else 0.0, "plans": plans}
        check_note = "too_many_links" + (", or a --conf word list" if args.conf else "")
        text = report_md(args, meta, sets, rows, pooled, worst, cross_rows, tgts, ks,
                         check_note)
        summary = {
            "header": header, "ks": ks, "seeds": seeds, "data": str(data.resolve()),
            "max_scored": args.max_scored, "all_share": args.all_share,
            "min_scored": args.min_scored,
            "sets": {ds.name: ds.meta for ds in sets},
            "params": params, "set": [f"{n}={x}" for n, x in args.sets], "conf": args.conf,
            "thresh": str(Path(args.thresh).resolve()), "version": th.version(),
            "rows": rows, "rows_by_seed": rows_by_seed,
            "pooled": [dict(v) for v in pooled.values()],
            "worst": [{"filter": f, "config": c, "k": k, **w}
                      for (f, c, k), w in worst.items()],
            "cross": cross_rows,
            "targets": tgts,
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
            ntab = self_check(text, sets, ks, bogo is not None, plans)
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
