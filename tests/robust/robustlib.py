"""Helpers shared by the robustness tests in tests/robust/.

The tests drive the `thresh` command ($THRESH_BIN) and read databases with
thresh-probe ($THRESH_PROBE, tests/robust/probe.c), which reports message
counts and word-token counts from one snapshot. Training files follow one
pattern: every comment holds the word "common", every comment of batch b of
writer w the word "bm<w>x<b>", and its own words, so the counts show which
whole batches are in. The tests run thresh train --batch 1000: 1000 comments per transaction.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time

BIN = os.environ.get("THRESH_BIN", "")
PROBE = os.environ.get("THRESH_PROBE", "")
BATCH = 1000  # thresh train --batch, given by every test that counts batches
# The time budget of each test, in seconds; sanitize.sh lowers it.
BUDGET = float(os.environ.get("THRESH_ROBUST_SECONDS", "60"))


def need_tools(testcase):
    if not BIN or not os.access(BIN, os.X_OK):
        testcase.fail("set THRESH_BIN to the thresh binary")
    if not PROBE or not os.access(PROBE, os.X_OK):
        testcase.fail("set THRESH_PROBE to tests/robust's thresh-probe")


def write_batches(path, writer, first, count, batch=BATCH):
    """count batches of batch spam comments of one writer, from batch first."""
    with open(path, "w") as f:
        for b in range(first, first + count):
            for i in range(batch):
                n = b * batch + i
                f.write("spam\tcommon bm%dx%d u%dn%d w%dk%d some words\n"
                        % (writer, b, writer, n, writer, n % 97))


def env(tmp):
    e = {k: v for k, v in os.environ.items()
         if k not in ("THRESH_DB", "XDG_DATA_HOME", "THRESH_NOW", "THRESH_MODEL")}
    e["HOME"] = tmp
    e["THRESH_MODEL"] = os.path.join(tmp, "no-such-model.dump")  # never the default model
    return e


def cli(tmp, db, *args, timeout=120):
    return subprocess.run([BIN, "--db", db] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env(tmp), timeout=timeout)


def probe(db, *words, timeout=60):
    """One snapshot: {"spam", "ham", "learned", "tokens", "map_size", "words": {w: [s, h]}}."""
    r = subprocess.run([PROBE, db] + list(words), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError("thresh-probe %s: exit %d: %s" % (db, r.returncode,
                                                                r.stderr.decode(errors="replace")))
    return json.loads(r.stdout)


class TempDir:
    def __init__(self, prefix):
        self.path = tempfile.mkdtemp(prefix=prefix)

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        return self.end - time.monotonic()
