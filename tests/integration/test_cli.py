#!/usr/bin/env python3
"""Integration tests of the `thresh` command, run as an outside user would.

    THRESH_BIN=build/src/cli/thresh [THRESH_MODEL=build/models/default.dump] \
        python3 tests/integration/test_cli.py

THRESH_BIN names the binary to test (required). THRESH_MODEL, when set, is
the default model dump; only the tests that need a database made from the
default model use it (they are skipped without it). THRESHD_BIN, when set,
is a threshd to run on the key file `thresh sites` writes. Every other test makes
its databases with `init --empty` and trains them on small fixtures it writes
itself, so the outcomes are certain. Each test runs in a fresh temporary
folder, with HOME, XDG_DATA_HOME, THRESH_DB and THRESH_NOW under its control.
Python's standard library only.
"""
import atexit
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

BIN = os.environ.get("THRESH_BIN", "")
MODEL = os.environ.get("THRESH_MODEL", "")
THRESHD = os.environ.get("THRESHD_BIN", "")
COMMANDS = ["init", "train", "untrain", "check", "eval", "stats", "export", "import",
            "prune", "set", "get", "config", "rotate-secret", "sites"]

SPAM_WORDS = ["cheap", "pills", "casino", "viagra", "lottery", "winner", "prize", "bitcoin",
              "jackpot", "discount"]
HAM_WORDS = ["lovely", "article", "thanks", "recipe", "garden", "kitten", "weather", "poetry",
             "museum", "violin"]

SUMMARY_RE = re.compile(r"^trained (\d+) comments: (\d+) learned, (\d+) duplicates, "
                        r"(\d+) moved; (\d+) lines skipped$")
UNSUMMARY_RE = re.compile(r"^untrained (\d+) comments: (\d+) unlearned, (\d+) not found; "
                          r"(\d+) lines skipped$")
PARAMS = {"robs", "robx", "min_dev", "hold_cutoff", "reject_cutoff", "blatant_cutoff",
          "nb_scale", "nb_shift", "reject_min_tokens", "prior_comments",
          "classifier", "nb_power", "gram_weight"}
CHECK_RE = re.compile(r"^(accept|hold|reject) (\d\.\d{4}) (-|[a-z_]+( [a-z_]+)*)$")
EXPLAIN_RE = re.compile(r"^  (\d\.\d{4})  spam=(\d+) ham=(\d+)  (.+)$")
TSV_OUT_RE = re.compile(r"^(\d\.\d{6})\t(accept|hold|reject)$")


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from fixtures import comments  # noqa: E402  (tests/fixtures.py)


SPAM = comments(SPAM_WORDS, 40, 1)
HAM = comments(HAM_WORDS, 40, 2)
# CliTest.train_fixture's database, once made in this process
FIXTURE_DB = []


class CliTest(unittest.TestCase):
    """A fresh temporary folder per test, and helpers to run the command."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="thresh-cli-test-")
        self.home = os.path.join(self.tmp, "home")
        os.mkdir(self.home)
        self.db = os.path.join(self.tmp, "db")
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("THRESH_DB", "XDG_DATA_HOME", "THRESH_NOW", "THRESH_MODEL",
                                 "TMPDIR")}
        self.env["HOME"] = self.home
        self.env["TMPDIR"] = os.path.join(self.tmp, "tmpdir")
        os.mkdir(self.env["TMPDIR"])
        # Without THRESH_MODEL a database can only be made empty: a test that
        # forgot `init --empty` fails instead of depending on the default model.
        self.env["THRESH_MODEL"] = os.path.join(self.tmp, "no-such-model.dump")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, data):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        return p

    def run_cli(self, *args, stdin=None, env=None, db=True, timeout=120):
        e = dict(self.env)
        if env:
            for k, v in env.items():
                if v is None:
                    e.pop(k, None)
                else:
                    e[k] = v
        argv = [BIN] + (["--db", self.db] if db else []) + list(args)
        data = stdin.encode() if isinstance(stdin, str) else stdin
        return subprocess.run(argv, input=data if data is not None else b"",
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e,
                              timeout=timeout)

    def ok(self, *args, code=0, **kw):
        r = self.run_cli(*args, **kw)
        self.assertEqual(r.returncode, code,
                         "thresh %s: exit %d\nstdout: %s\nstderr: %s" % (
                             " ".join(args), r.returncode, r.stdout.decode(errors="replace"),
                             r.stderr.decode(errors="replace")))
        return r.stdout.decode(), r.stderr.decode()

    def init_empty(self):
        out, _ = self.ok("init", "--empty")
        self.assertEqual(out, "created %s (empty)\n" % self.db)

    def param(self, name):
        """The value of a parameter in the test's database."""
        return float(self.ok("get", name)[0])

    def default_cutoffs(self):
        """hold and reject cutoffs of a new empty database (the library's defaults)."""
        d = self.path("defaults-db")
        if not os.path.exists(d):
            self.ok("--db", d, "init", "--empty", db=False)
        return tuple(float(self.ok("--db", d, "get", k, db=False)[0])
                     for k in ("hold_cutoff", "reject_cutoff"))

    def stats(self, **kw):
        out, _ = self.ok("stats", "--json", **kw)
        return json.loads(out)

    def counts(self, **kw):
        s = self.stats(**kw)
        return {k: s[k] for k in ("spam_messages", "ham_messages", "tokens", "learned")}

    def plain(self):
        """A toy model's scores unsquashed, every reject allowed, and cutoffs
        for them (tests/unit/testutil.h's tu_plain): the default calibration
        fits a model of thousands of comments, not SPAM and HAM."""
        for name, value in (("nb_scale", "4"), ("nb_shift", "0"), ("reject_min_tokens", "0"),
                            ("hold_cutoff", "0.5"), ("reject_cutoff", "0.7")):
            self.ok("set", name, value)

    def train_fixture(self):
        """An empty database trained on SPAM and HAM (spam.txt and ham.txt in
        the test's folder), with plain() scores. The first test of a process
        to ask makes it with the commands themselves; every later one gets a
        copy of that folder, its lock files left out: the same eight runs in
        each of some 25 tests were a fifth of this file's runs of thresh,
        which under valgrind (tests/robust/valgrind.sh) cost 0.4 s each."""
        spam = self.write("spam.txt", "\n".join(SPAM) + "\n")
        ham = self.write("ham.txt", "\n".join(HAM) + "\n")
        if not FIXTURE_DB:
            self.init_empty()
            self.plain()
            self.ok("train", "spam", spam)
            self.ok("train", "ham", ham)
            keep = tempfile.mkdtemp(prefix="thresh-cli-fixture-")
            atexit.register(shutil.rmtree, keep, True)
            os.rename(self.db, os.path.join(keep, "db"))
            FIXTURE_DB.append(os.path.join(keep, "db"))
        shutil.copytree(FIXTURE_DB[0], self.db, ignore=shutil.ignore_patterns("lock.mdb"))

    def summary(self, out):
        m = SUMMARY_RE.match(out.strip())
        self.assertIsNotNone(m, "summary line: %r" % out)
        return [int(x) for x in m.groups()]

    def check_json(self, text, *extra, **kw):
        r = self.run_cli("check", "--format", "json", *extra, stdin=text, **kw)
        self.assertIn(r.returncode, (0, 1, 2), r.stderr.decode())
        return json.loads(r.stdout.decode()), r.returncode


class TestGeneral(CliTest):
    def test_version(self):
        out, _ = self.ok("--version", db=False)
        self.assertRegex(out, r"^thresh \d+\.\d+\.\d+ \(libthresh \d+\.\d+\.\d+\)\n$")

    def test_no_command_is_a_usage_error(self):
        r = self.run_cli(db=False)
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"usage: thresh", r.stderr)
        self.assertEqual(r.stdout, b"")

    def test_unknown_command(self):
        r = self.run_cli("frobnicate")
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"thresh: unknown command 'frobnicate'", r.stderr)
        self.assertFalse(os.path.exists(self.db))

    def test_unknown_option_and_missing_argument(self):
        for args in (["--bogus", "stats"], ["stats", "--bogus"], ["check", "--format"],
                     ["check", "--format", "xml"], ["train", "--tsv", "--jsonl"],
                     ["train"], ["train", "maybe"], ["eval"], ["eval", "--folds", "1", "x"],
                     ["prune"], ["set", "robs"], ["export"], ["import"], ["init", "extra"],
                     ["check", "file.txt"], ["check", "--tsv", "-", "--explain"]):
            r = self.run_cli(*args)
            self.assertEqual(r.returncode, 3, args)
            self.assertTrue(r.stderr.startswith(b"thresh: "), (args, r.stderr))
            self.assertIn(b"usage: thresh", r.stderr, args)
        self.assertFalse(os.path.exists(self.db), "a usage error must not create a database")

    def test_help_on_every_command(self):
        out, _ = self.ok("--help", db=False)
        for cmd in COMMANDS:
            self.assertRegex(out, r"\n  %s +\S" % cmd)
        for word in ("THRESH_DB", "XDG_DATA_HOME", "THRESH_MODEL", "THRESH_NOW", "Exit status"):
            self.assertIn(word, out)
        for cmd in COMMANDS:
            outs = []
            for args in ([cmd, "--help"], [cmd, "-h"], ["help", cmd]):
                out, err = self.ok(*args, db=False)
                self.assertEqual(err, "")
                self.assertIn("usage: thresh", out)
                self.assertIn(" %s" % cmd, out.splitlines()[0])
                self.assertIn("Exit status", out)
                self.assertIn("--help", out)
                outs.append(out)
            self.assertEqual(outs[0], outs[1], "%s --help and -h" % cmd)
            self.assertEqual(outs[0], outs[2], "%s --help and help %s" % (cmd, cmd))
        r = self.run_cli("help", "nosuch", db=False)
        self.assertEqual(r.returncode, 3)

    def test_help_lists_every_option(self):
        wanted = {
            "init": ["--empty", "--db"], "train": ["--tsv", "--jsonl", "--db", "--batch"],
            "untrain": ["--tsv", "--jsonl", "--batch"], "check": ["--json", "--explain", "--format", "--tsv"],
            "eval": ["--folds", "--seed", "--json", "TMPDIR"], "stats": ["--json"],
            "import": ["--merge"], "prune": ["--older-than", "--min-count"],
        }
        for cmd, opts in wanted.items():
            out, _ = self.ok("help", cmd, db=False)
            for o in opts:
                self.assertIn(o, out, (cmd, o))

    def test_bad_thresh_now(self):
        self.init_empty()
        r = self.run_cli("train", "spam", stdin="x\n", env={"THRESH_NOW": "yesterday"})
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"THRESH_NOW", r.stderr)


class TestInitAndLocation(CliTest):
    def test_init_empty_and_twice(self):
        self.init_empty()
        c = self.counts()
        self.assertEqual(c, {"spam_messages": 0, "ham_messages": 0, "tokens": 0, "learned": 0})
        r = self.run_cli("init", "--empty")
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"already exists", r.stderr)
        r = self.run_cli("init")
        self.assertEqual(r.returncode, 3)

    def test_init_twice_keeps_the_data(self):
        self.train_fixture()
        before = self.counts()
        self.assertEqual(self.run_cli("init", "--empty").returncode, 3)
        self.assertEqual(self.counts(), before)

    def test_init_without_a_model_fails_cleanly(self):
        r = self.run_cli("init")
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"no-such-model.dump", r.stderr)
        self.assertFalse(os.path.exists(self.db))

    @unittest.skipUnless(MODEL and os.path.exists(MODEL), "THRESH_MODEL not set")
    def test_init_from_the_default_model(self):
        out, _ = self.ok("init", env={"THRESH_MODEL": MODEL})
        self.assertEqual(out, "created %s from the default model\n" % self.db)
        c = self.counts()
        self.assertEqual((c["spam_messages"], c["ham_messages"], c["learned"]), (0, 0, 0),
                         "the site has learned nothing yet")
        self.assertGreater(c["tokens"], 0)
        prior = self.stats()["prior"]
        self.assertGreater(prior["spam_messages"], 0, "the default model is the prior")
        self.assertGreater(prior["ham_messages"], 0)
        self.assertEqual(prior["weight"], 1)

    def test_build_tree_thresh_finds_its_own_model(self):
        """Run from its meson build folder without THRESH_MODEL, thresh starts a
        database from the model that build made (BUILD/models/default.dump)."""
        build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(BIN))))
        own = os.path.join(build, "models", "default.dump")
        if not (os.path.exists(os.path.join(build, "build.ninja")) and os.path.exists(own)):
            self.skipTest("THRESH_BIN is not in a meson build folder with its model")
        out, _ = self.ok("init", env={"THRESH_MODEL": None})
        self.assertEqual(out, "created %s from the default model\n" % self.db)
        with open(own) as f:
            head = dict(line.split(" ", 1) for line in f.read(4096).splitlines()
                        if line.startswith(("prior ", "tokens ")))
        spam, ham = (float(x) for x in head["prior"].split())
        prior = self.stats()["prior"]
        self.assertEqual((prior["spam_messages"], prior["ham_messages"]), (spam, ham))
        self.assertEqual(self.counts()["tokens"], int(head["tokens"]))
        # THRESH_MODEL still wins over the build's own model.
        r = self.run_cli("--db", self.path("db2"), "init", db=False)
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"no-such-model.dump", r.stderr)

    @unittest.skipUnless(MODEL and os.path.exists(MODEL), "THRESH_MODEL not set")
    def test_first_check_creates_the_database(self):
        r = self.run_cli("check", stdin="hello there\n", env={"THRESH_MODEL": MODEL})
        self.assertIn(r.returncode, (0, 1, 2), r.stderr)
        self.assertIn(b"thresh: created %s from the default model" % self.db.encode(), r.stderr)
        self.assertRegex(r.stdout.decode(), CHECK_RE.pattern[:-1] + r"\n$")
        self.assertGreater(self.counts(env={"THRESH_MODEL": MODEL})["tokens"], 0)
        # The second run finds it and says nothing.
        r = self.run_cli("check", stdin="hello there\n", env={"THRESH_MODEL": MODEL})
        self.assertNotIn(b"created", r.stderr)

    def test_missing_database_without_model_is_an_error(self):
        r = self.run_cli("stats")
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"default model", r.stderr)
        self.assertFalse(os.path.exists(self.db))

    def test_db_option_beats_thresh_db(self):
        envdb = self.path("envdb")
        out, _ = self.ok("init", "--empty", db=False, env={"THRESH_DB": envdb})
        self.assertEqual(out, "created %s (empty)\n" % envdb)
        self.assertTrue(os.path.isdir(envdb))
        self.init_empty()  # --db wins over THRESH_DB
        self.ok("train", "spam", stdin="only in the option database\n",
                env={"THRESH_DB": envdb})
        self.assertEqual(self.counts(env={"THRESH_DB": envdb})["spam_messages"], 1)
        out, _ = self.ok("stats", "--json", db=False, env={"THRESH_DB": envdb})
        self.assertEqual(json.loads(out)["spam_messages"], 0)
        self.assertEqual(json.loads(out)["database"], envdb)
        # --db also works after the command.
        out, _ = self.ok("stats", "--json", "--db", self.db, db=False, env={"THRESH_DB": envdb})
        self.assertEqual(json.loads(out)["spam_messages"], 1)

    def test_xdg_data_home_and_home_defaults(self):
        xdg = self.path("xdg")
        out, _ = self.ok("init", "--empty", db=False, env={"XDG_DATA_HOME": xdg})
        self.assertEqual(out, "created %s/thresh (empty)\n" % xdg)
        self.assertTrue(os.path.exists(os.path.join(xdg, "thresh", "data.mdb")))
        out, _ = self.ok("init", "--empty", db=False)
        want = os.path.join(self.home, ".local", "share", "thresh")
        self.assertEqual(out, "created %s (empty)\n" % want)
        self.assertTrue(os.path.exists(os.path.join(want, "data.mdb")))
        # THRESH_DB beats XDG_DATA_HOME.
        envdb = self.path("envdb")
        out, _ = self.ok("init", "--empty", db=False, env={"XDG_DATA_HOME": xdg,
                                                          "THRESH_DB": envdb})
        self.assertEqual(out, "created %s (empty)\n" % envdb)


class TestTrain(CliTest):
    def test_plain_from_files_and_stdin(self):
        self.init_empty()
        out, err = self.ok("train", "spam", self.write("s1.txt", "\n".join(SPAM[:10]) + "\n"),
                           self.write("s2.txt", "\n".join(SPAM[10:20])))
        self.assertEqual(self.summary(out), [20, 20, 0, 0, 0])
        self.assertEqual(err, "")
        out, _ = self.ok("train", "ham", stdin="\n".join(HAM[:15]) + "\n\n\n")
        self.assertEqual(self.summary(out), [15, 15, 0, 0, 0])
        out, _ = self.ok("train", "ham", "-", stdin="\n".join(HAM[15:20]) + "\n")
        self.assertEqual(self.summary(out), [5, 5, 0, 0, 0])
        c = self.counts()
        self.assertEqual((c["spam_messages"], c["ham_messages"], c["learned"]), (20, 20, 40))
        self.assertGreater(c["tokens"], 0)

    def test_batch_is_stored_while_reading(self):
        # With --batch 3 the first three comments are in the database while
        # train still waits for the rest of its input; by default they are not.
        self.init_empty()
        for batch, stored_early in ((["--batch", "3"], 3), ([], 0)):
            before = self.counts()["spam_messages"]
            p = subprocess.Popen([BIN, "--db", self.db, "train"] + batch + ["spam"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            try:
                p.stdin.write(("\n".join("%s %s" % (SPAM[i], batch) for i in range(4))
                               + "\n").encode())
                p.stdin.flush()
                if stored_early:
                    deadline = time.monotonic() + 10
                    while self.counts()["spam_messages"] - before < stored_early:
                        self.assertLess(time.monotonic(), deadline, "batch not stored")
                        time.sleep(0.05)
                else:
                    time.sleep(0.5)  # time enough to store, were it to
                self.assertEqual(self.counts()["spam_messages"] - before, stored_early, batch)
                p.stdin.write(("%s last %s\n" % (SPAM[5], batch)).encode())
                p.stdin.close()
                out, err = p.stdout.read(), p.stderr.read()
                p.wait(timeout=20)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            self.assertEqual(p.returncode, 0, err)
            self.assertIn(b"trained 5 comments: 5 learned", out)
            self.assertEqual(self.counts()["spam_messages"] - before, 5)
        for bad in ("0", "1000001", "-1", "x"):
            r = self.run_cli("train", "--batch", bad, "spam", stdin="x\n")
            self.assertEqual(r.returncode, 3, bad)
            self.assertIn(b"--batch", r.stderr)

    def test_tsv_with_crlf(self):
        self.init_empty()
        lines = ["spam\t" + t for t in SPAM[:5]] + ["ham\t" + t for t in HAM[:7]]
        out, _ = self.ok("train", "--tsv", self.write("a.tsv", "\r\n".join(lines) + "\r\n"))
        self.assertEqual(self.summary(out), [12, 12, 0, 0, 0])
        c = self.counts()
        self.assertEqual((c["spam_messages"], c["ham_messages"]), (5, 7))
        # The same lines with LF endings are the same comments: "\r" was stripped.
        out, _ = self.ok("train", "--tsv", stdin="\n".join(lines) + "\n")
        self.assertEqual(self.summary(out), [12, 0, 12, 0, 0])
        # A UTF-8 byte order mark at the start of a file is not part of the label.
        out, _ = self.ok("train", "--tsv", self.write("bom.tsv", "\ufeffham\tafter a bom\r\n"))
        self.assertEqual(self.summary(out), [1, 1, 0, 0, 0])
        out, _ = self.ok("train", "--jsonl", stdin='\ufeff{"label":"ham","content":"bom json"}\n')
        self.assertEqual(self.summary(out), [1, 1, 0, 0, 0])

    def test_jsonl(self):
        self.init_empty()
        recs = [{"label": "spam", "content": SPAM[0], "author": "Bot", "email": "bot@spam.example",
                 "url": "http://spam.example/", "ip": "192.0.2.7", "user_agent": "curl/8",
                 "referrer": "http://x.example/", "permalink": "http://blog.example/p/1",
                 "type": "comment", "lang": "en", "honeypot": "", "form_age": 2},
                {"label": "ham", "comment_content": HAM[0], "comment_author": "Ann",
                 "form_age": "31.5", "lang": None},
                {"label": "ham", "content": "caf\u00e9 \U0001F600 line\nbreak \"quoted\""}]
        text = "\n".join(json.dumps(r) for r in recs) + "\n"
        out, err = self.ok("train", "--jsonl", self.write("a.jsonl", text))
        self.assertEqual(self.summary(out), [3, 3, 0, 0, 0], err)
        out, _ = self.ok("train", "--jsonl", stdin=text)
        self.assertEqual(self.summary(out), [3, 0, 3, 0, 0])
        # Escapes decode to the same text as raw UTF-8: the same comment.
        raw = '{"label":"ham","content":"caf\u00e9 \U0001F600 line\\nbreak \\"quoted\\""}\n'
        out, _ = self.ok("train", "--jsonl", stdin=raw)
        self.assertEqual(self.summary(out), [1, 0, 1, 0, 0])
        c = self.counts()
        self.assertEqual((c["spam_messages"], c["ham_messages"]), (1, 2))

    def test_duplicates_count_once(self):
        self.train_fixture()
        before = self.counts()
        out, _ = self.ok("train", "spam", self.path("spam.txt"))
        self.assertEqual(self.summary(out), [len(SPAM), 0, len(SPAM), 0, 0])
        self.assertEqual(self.counts(), before)
        # A duplicate inside one input counts once too.
        out, _ = self.ok("train", "ham", stdin="brand new words here\nbrand new words here\n")
        self.assertEqual(self.summary(out), [2, 1, 1, 0, 0])

    def test_move_from_spam_to_ham(self):
        self.train_fixture()
        before = self.counts()
        out, _ = self.ok("train", "ham", stdin=SPAM[3] + "\n")
        self.assertEqual(self.summary(out), [1, 0, 0, 1, 0])
        after = self.counts()
        self.assertEqual(after["spam_messages"], before["spam_messages"] - 1)
        self.assertEqual(after["ham_messages"], before["ham_messages"] + 1)
        self.assertEqual(after["learned"], before["learned"])
        # Moving back restores the counts exactly.
        out, _ = self.ok("train", "spam", stdin=SPAM[3] + "\n")
        self.assertEqual(self.summary(out), [1, 0, 0, 1, 0])
        self.assertEqual(self.counts(), before)

    def test_untrain_restores_stats_exactly(self):
        self.init_empty()
        # The counts come back exactly; the site's decisions stay on record
        # (the calibration and cutoffs fitted on them, README "A new site"),
        # so the calibration is pinned here for the score to show the counts.
        self.ok("set", "nb_scale", "17.354")
        self.ok("train", "spam", self.write("spam.txt", "\n".join(SPAM[:20]) + "\n"))
        before = self.counts()
        score_before = self.check_json(HAM[0])[0]["score"]
        extra = ["spam\t" + t for t in SPAM[20:]] + ["ham\t" + t for t in HAM]
        self.write("extra.tsv", "\n".join(extra) + "\n")
        self.ok("train", "--tsv", self.path("extra.tsv"))
        self.assertNotEqual(self.counts(), before)
        out, _ = self.ok("untrain", "--tsv", self.path("extra.tsv"))
        m = UNSUMMARY_RE.match(out.strip())
        self.assertIsNotNone(m, out)
        self.assertEqual([int(x) for x in m.groups()], [len(extra), len(extra), 0, 0])
        self.assertEqual(self.counts(), before)
        self.assertEqual(self.check_json(HAM[0])[0]["score"], score_before)
        # Untraining again finds nothing; under the wrong label neither.
        out, _ = self.ok("untrain", "--tsv", self.path("extra.tsv"))
        self.assertEqual([int(x) for x in UNSUMMARY_RE.match(out.strip()).groups()],
                         [len(extra), 0, len(extra), 0])
        out, _ = self.ok("untrain", "ham", stdin=SPAM[0] + "\n")
        self.assertEqual([int(x) for x in UNSUMMARY_RE.match(out.strip()).groups()], [1, 0, 1, 0])
        # Untraining everything empties the model.
        self.ok("untrain", "spam", self.path("spam.txt"))
        self.assertEqual(self.counts(), {"spam_messages": 0, "ham_messages": 0, "tokens": 0,
                                         "learned": 0})

    def test_bad_lines_are_named_and_skipped(self):
        self.init_empty()
        tsv = (b"spam\tgood spam one\n"
               b"spam\tbad \xff\xfe bytes\n"
               b"maybe\tbad label\n"
               b"no tab on this line\n"
               b"\n"
               b"ham\tgood ham one\r\n"
               b"ham\t\n")
        p = self.write("bad.tsv", tsv)
        r = self.run_cli("train", "--tsv", p)
        self.assertEqual(r.returncode, 4)
        self.assertEqual(self.summary(r.stdout.decode()), [2, 2, 0, 0, 4])
        err = r.stderr.decode()
        self.assertIn("thresh: %s:2: invalid UTF-8" % p, err)
        self.assertIn("thresh: %s:3: bad label" % p, err)
        self.assertIn("thresh: %s:4: " % p, err)
        self.assertIn("thresh: %s:7: " % p, err)
        self.assertNotIn(":5:", err)
        c = self.counts()
        self.assertEqual((c["spam_messages"], c["ham_messages"]), (1, 1))

        plain = self.write("bad.txt", b"fine line\nnot \xc3\x28 fine\nanother fine line\n")
        r = self.run_cli("train", "spam", plain)
        self.assertEqual(r.returncode, 4)
        self.assertEqual(self.summary(r.stdout.decode()), [2, 2, 0, 0, 1])
        self.assertIn(("thresh: %s:2: invalid UTF-8" % plain).encode(), r.stderr)

        jsonl = self.write("bad.jsonl", "\n".join([
            '{"label":"spam","content":"json spam fine"}',
            '{"label":"spam","content":"unterminated}',
            '{"label":"ham","content":"x",}',
            '{"label":"ham","colour":"blue","content":"x"}',
            '{"label":"ham","content":"lone \\ud800 surrogate"}',
            '{"label":"spam"',
            '["not","an","object"]',
            '{"content":"no label"}',
            '{"label":"ham","content":"json ham fine"}',
            '{"label":"ham","content":"bytes \\u0000 nul"}',
        ]) + "\n")
        r = self.run_cli("train", "--jsonl", jsonl)
        self.assertEqual(r.returncode, 4)
        self.assertEqual(self.summary(r.stdout.decode()), [2, 2, 0, 0, 8])
        err = r.stderr.decode()
        for line in range(2, 9):
            self.assertIn("thresh: %s:%d: " % (jsonl, line), err)
        self.assertIn("thresh: %s:10: " % jsonl, err)
        self.assertIn("malformed JSON", err)
        self.assertIn('unknown field "colour"', err)
        c = self.counts()
        self.assertEqual((c["spam_messages"], c["ham_messages"]), (4, 2))

    def test_missing_file_learns_nothing(self):
        self.init_empty()
        p = self.write("good.txt", "a good line\n")
        r = self.run_cli("train", "spam", p, self.path("missing.txt"))
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"missing.txt", r.stderr)
        self.assertEqual(self.counts()["spam_messages"], 0)

    def test_many_batches(self):
        self.init_empty()
        lines = ["comment number %d about topic %d" % (i, i * 7) for i in range(2500)]
        out, _ = self.ok("train", "ham", stdin="\n".join(lines) + "\n")
        self.assertEqual(self.summary(out), [2500, 2500, 0, 0, 0])
        self.assertEqual(self.counts()["ham_messages"], 2500)

    def test_sigint_stores_whole_batches(self):
        self.init_empty()
        e = dict(self.env)
        p = subprocess.Popen([BIN, "--db", self.db, "train", "spam"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e)
        p.stdin.write("".join("interrupted line %d\n" % i for i in range(1500)).encode())
        p.stdin.flush()
        time.sleep(1.0)  # the writer stays open: thresh waits for more input
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 130, err)
        self.assertIn(b"interrupted", err)
        n = self.summary(out.decode())[1]
        self.assertEqual(self.counts()["spam_messages"], n)
        self.assertEqual(n, 1500)



WP_SUMMARY_RE = re.compile(r"^trained (\d+) comments: (\d+) learned, (\d+) duplicates, "
                           r"(\d+) moved; (\d+) bad rows skipped; (\d+) skipped by status(.*)$")


def wp_rest(i, status, raw, author="", email="", url="", ip="", agent="", ctype="comment",
            rendered=None, post=1):
    """A comment as GET /wp-json/wp/v2/comments?context=edit returns it."""
    c = {"id": i, "post": post, "parent": 0, "author": 0, "author_name": author,
         "author_url": url, "author_email": email, "author_ip": ip,
         "author_user_agent": agent, "date": "2024-05-01T10:00:%02d" % (i % 60),
         "date_gmt": "2024-05-01T08:00:%02d" % (i % 60),
         "content": {"rendered": rendered if rendered is not None else "<p>%s</p>\n" % raw},
         "link": "http://blog.example/?p=%d#comment-%d" % (post, i), "status": status,
         "type": ctype, "author_avatar_urls": {"24": "http://x.example/a.png"}, "meta": [],
         "_links": {"self": [{"href": "http://blog.example/wp-json/wp/v2/comments/%d" % i}]}}
    if raw is not None:
        c["content"]["raw"] = raw
    return c


WP_COLUMNS = ["comment_approved", "comment_author", "comment_author_email", "comment_author_url",
              "comment_author_IP", "comment_agent", "comment_date_gmt", "comment_type",
              "comment_content"]


def mariadb_batch(value):
    """A value as `mariadb --batch` prints it."""
    return (value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\0", "\\0"))


def wp_rows(rows, columns=WP_COLUMNS, eol="\n"):
    """A `mariadb --batch` query's output: a header line, then the rows (dicts
    by column name)."""
    out = ["\t".join(columns)]
    for r in rows:
        out.append("\t".join(mariadb_batch(r.get(c, "")) for c in columns))
    return eol.join(out) + eol


class TestWordPress(CliTest):
    """train --wp-json (pages of the REST API) and --wp-mariadb (a query of
    wp_comments): approved is ham, spam is spam, other statuses are counted."""

    def wp_summary(self, out):
        m = WP_SUMMARY_RE.match(out.strip())
        self.assertIsNotNone(m, "summary line: %r" % out)
        return [int(x) for x in m.groups()[:6]], m.group(7)

    def ham_spam(self):
        c = self.counts()
        return c["ham_messages"], c["spam_messages"]

    def test_rest_pages(self):
        self.init_empty()
        page1 = [wp_rest(i, "approved", HAM[i], author="Reader %d" % i,
                         email="r%d@example.org" % i, ip="192.0.2.%d" % i, agent="Mozilla/5.0")
                 for i in range(1, 11)]
        page1 += [wp_rest(11, "hold", "held comment"), wp_rest(12, "trash", "trashed one")]
        page2 = [wp_rest(20 + i, "spam", SPAM[i], author="Bot", url="http://spam.example/")
                 for i in range(8)]
        page2 += [wp_rest(30, "post-trashed", "x"), wp_rest(31, "hold", "another held one")]
        # curl saves pages as WordPress writes them: "\/" escapes, CRLF in a
        # comment, pretty-printed or not
        p1 = self.write("page-1.json", json.dumps(page1).replace("/", "\\/"))
        p2 = self.write("page-2.json", json.dumps(page2, indent=2).replace("\n", "\r\n"))
        p3 = self.write("page-3.json", "[]")  # the page after the last
        out, err = self.ok("train", "--wp-json", p1, p2, p3)
        nums, statuses = self.wp_summary(out)
        self.assertEqual(nums, [18, 18, 0, 0, 0, 4], err)
        self.assertEqual(statuses, ": 2 hold, 1 trash, 1 post-trashed")
        self.assertEqual(self.ham_spam(), (10, 8))
        # Learned twice, counted once; the other order, from standard input too.
        with open(p1) as f:
            out, _ = self.ok("train", "--wp-json", p2, "-", stdin=f.read())
        self.assertEqual(self.wp_summary(out)[0], [18, 0, 18, 0, 0, 4])
        self.assertEqual(self.ham_spam(), (10, 8))
        # untrain takes it all back
        out, _ = self.ok("untrain", "--wp-json", p1, p2)
        self.assertRegex(out, r"^untrained 18 comments: 18 unlearned, 0 not found; 0 bad rows "
                              r"skipped; 4 skipped by status: 2 hold, 1 trash, 1 post-trashed\n$")
        self.assertEqual(self.counts()["learned"], 0)
        # small batches store the same
        out, _ = self.ok("train", "--wp-json", "--batch", "3", p1, p2)
        self.assertEqual(self.wp_summary(out)[0], [18, 18, 0, 0, 0, 4])
        self.assertEqual(self.ham_spam(), (10, 8))

    def test_rest_fields_make_the_comment(self):
        """Every field WordPress gives is learned: the author record follows
        the e-mail, and a spammer's web site teaches its host."""
        self.init_empty()
        self.plain()
        page = [wp_rest(i, "spam", "comment number %d" % i, author="Seller",
                        email="seller@spam.example", url="http://pills.example/buy",
                        ip="203.0.113.9", agent="BadBot/1.0") for i in range(12)]
        page += [wp_rest(100 + i, "approved", "comment number %d" % (100 + i), author="Ann",
                         email="ann@example.org", url="http://ann.example/", ip="192.0.2.1",
                         agent="Mozilla/5.0") for i in range(12)]
        out, err = self.ok("train", "--wp-json", self.write("p.json", json.dumps(page)))
        self.assertEqual(self.wp_summary(out)[0], [24, 24, 0, 0, 0, 0], err)
        spam, _ = self.check_json(json.dumps({"content": "hello there", "url": "http://pills.example/x",
                                              "user_agent": "BadBot/1.0"}), "--json")
        ham, _ = self.check_json(json.dumps({"content": "hello there", "url": "http://ann.example/",
                                             "user_agent": "Mozilla/5.0"}), "--json")
        self.assertGreater(spam["score"], 0.9)
        self.assertLess(ham["score"], 0.1)

    def test_rest_bad_comments_are_named_and_skipped(self):
        self.init_empty()
        good = wp_rest(1, "approved", "a good comment")
        text = "[\n" + ",\n".join([
            json.dumps(good),                                                   # line 2
            '17',                                                               # 3
            '{"id": 3, "content": {"raw": "no status"}}',                       # 4
            '{"id": 4, "status": "approved"}',                                  # 5
            '{"id": 5, "status": "spam", "content": {"raw": "x"}, "status": "spam"}',  # 6
            '{"id": 6, "status": "spam", "content": {"raw": 12}}',             # 7
            '{"id": 7, "status": "spam", "author_email": 5, "content": "x"}',  # 8
            '{"id": 8, "status": "spam", "content": {"raw": "nul \\u0000 byte"}}',  # 9
            '{"id": 9, "status": "approved", "content": {"raw": "   "}}',       # 10
            json.dumps(wp_rest(10, "spam", "a good spam")),                    # 11
            json.dumps(wp_rest(11, "approved", None, rendered="<p>Only <b>rendered</b> &amp; "
                                                              "fine</p>\n")),  # 12
        ]) + "\n]\n"
        p = self.write("bad.json", text)
        r = self.run_cli("train", "--wp-json", p)
        self.assertEqual(r.returncode, 4)
        nums, _ = self.wp_summary(r.stdout.decode())
        self.assertEqual(nums, [3, 3, 0, 0, 8, 0])
        err = r.stderr.decode()
        for line, why in ((3, "expected a comment object, found number"),
                          (4, 'no "status"'), (5, 'no "content"'),
                          (6, 'duplicate key "status"'),
                          (7, '"content.raw" must be a string, not number'),
                          (8, '"author_email" must be a string, not number'),
                          (9, "content.raw: "), (10, "an empty comment")):
            self.assertIn("thresh: %s:%d: %s" % (p, line, why), err)
        self.assertNotIn(":2:", err)
        self.assertIn("1 comment had no content.raw", err)
        self.assertEqual(self.ham_spam(), (2, 1))
        # the rendered HTML was learned as its text
        out, _ = self.ok("train", "--jsonl", stdin='{"label":"ham","content":"Only rendered & fine",'
                                                  '"permalink":"http://blog.example/?p=1"}\n')
        self.assertEqual(self.summary(out), [1, 0, 1, 0, 0])

    def test_bad_pages_learn_nothing(self):
        self.init_empty()
        good = self.write("good.json", json.dumps([wp_rest(1, "approved", "fine")]))
        cases = [
            ('{"code":"rest_forbidden_context","message":"Sorry, you are not allowed to edit '
             'comments.","data":{"status":401}}',
             "WordPress answered with an error, not comments: rest_forbidden_context: Sorry, you "
             "are not allowed to edit comments."),
            ('[{"id": 1, "status": "approved",\n "content": {"raw": "x"}', ":2: not a page of "
             "WordPress comments: expected ',' or '}', found the end of the input"),
            ('{"id": 1}', ":1: not a page of WordPress comments: expected a JSON array ('['), "
             "found '{' (column 1)"),
            ("<html>Error 502</html>", ":1: not a page of WordPress comments: expected a JSON "
             "array"),
            ("", "expected a JSON array ('['), found the end of the input"),
        ]
        for i, (text, why) in enumerate(cases):
            bad = self.write("bad%d.json" % i, text)
            r = self.run_cli("train", "--wp-json", good, bad)
            self.assertEqual(r.returncode, 3, text)
            self.assertIn(why, r.stderr.decode(), text)
            self.assertEqual(r.stdout, b"")
            self.assertEqual(self.counts()["learned"], 0)

    def test_mariadb_rows(self):
        self.init_empty()
        rows = [{"comment_approved": "1", "comment_author": "Reader %d" % i,
                 "comment_author_email": "r%d@example.org" % i, "comment_author_IP": "192.0.2.1",
                 "comment_agent": "Mozilla/5.0", "comment_date_gmt": "2024-05-01 10:00:00",
                 "comment_content": HAM[i]} for i in range(6)]
        rows += [{"comment_approved": "spam", "comment_author": "Bot",
                  "comment_type": "comment", "comment_content": SPAM[i]} for i in range(4)]
        # what the escapes carry: tabs, lines, backslashes, CRLF within
        rows += [{"comment_approved": "1", "comment_content": "line one\r\nline\ttwo \\ three"},
                 {"comment_approved": "spam", "comment_content": "C:\\new\\table\\0"}]
        rows += [{"comment_approved": "0", "comment_content": "held"},
                 {"comment_approved": "trash", "comment_content": "trashed"},
                 {"comment_approved": "0", "comment_content": "held again"}]
        p = self.write("rows.tsv", wp_rows(rows))
        out, err = self.ok("train", "--wp-mariadb", p)
        nums, statuses = self.wp_summary(out)
        self.assertEqual(nums, [12, 12, 0, 0, 0, 3], err)
        self.assertEqual(statuses, ": 2 hold, 1 trash")
        self.assertEqual(self.ham_spam(), (7, 5))
        # The escapes decode to the text itself: the same comments again.
        out, _ = self.ok("train", "--jsonl", stdin="\n".join(json.dumps(x) for x in [
            {"label": "ham", "content": "line one\r\nline\ttwo \\ three"},
            {"label": "spam", "content": "C:\\new\\table\\0"}]) + "\n")
        self.assertEqual(self.summary(out), [2, 0, 2, 0, 0])
        # Columns are found by name: reordered, extra, CRLF line ends, from a pipe.
        cols = ["comment_ID", "comment_content", "comment_post_ID", "COMMENT_APPROVED",
                "comment_author_email", "comment_author"]
        out, _ = self.ok("train", "--wp-mariadb", "-",
                         stdin=wp_rows([dict(r, comment_ID="7", COMMENT_APPROVED=r["comment_approved"])
                                        for r in rows], cols, "\r\n"))
        self.assertEqual(self.wp_summary(out)[0], [12, 0, 12, 0, 0, 3])
        self.assertEqual(self.ham_spam(), (7, 5))

    def test_mariadb_bad_rows_are_named_and_skipped(self):
        self.init_empty()
        p = self.write("bad.tsv",
                       "comment_approved\tcomment_author\tcomment_content\n"   # 1
                       "1\tAnn\tfine ham\n"                                     # 2
                       "1\tAnn\tnul \\0 inside\n"                               # 3
                       "spam\tBob\n"                                            # 4
                       "spam\tBob\tone\ttoo many\n"                             # 5
                       "spam\tBo\\b\tbad escape\n"                              # 6
                       "spam\tBob\tbad \xff byte\n".encode("latin-1")           # 7
                       + b"\n"                                                  # 8: empty
                       b"1\t\t\n"                                               # 9
                       b"spam\tBob\tfine spam\n")                               # 10
        r = self.run_cli("train", "--wp-mariadb", p)
        self.assertEqual(r.returncode, 4)
        self.assertEqual(self.wp_summary(r.stdout.decode())[0], [2, 2, 0, 0, 6, 0])
        err = r.stderr.decode()
        for line, why in ((3, "comment_content: a field contains a NUL byte"),
                          (4, "2 columns where the header line has 3"),
                          (5, "4 columns where the header line has 3"),
                          (6, "comment_author: a backslash that is none of mariadb --batch's"),
                          (7, "comment_content: invalid UTF-8"), (9, "an empty comment")):
            self.assertIn("thresh: %s:%d: %s" % (p, line, why), err)
        self.assertNotIn(":8:", err)
        self.assertEqual(self.ham_spam(), (1, 1))

    def test_mariadb_missing_column_learns_nothing(self):
        self.init_empty()
        good = self.write("good.tsv", wp_rows([{"comment_approved": "1", "comment_content": "x"}]))
        nohead = self.write("nohead.tsv", "1\tAnn\tfine\n")  # mariadb -N
        r = self.run_cli("train", "--wp-mariadb", good, nohead)
        self.assertEqual(r.returncode, 3)
        self.assertIn("thresh: %s:1: no column comment_approved in the header line" % nohead,
                      r.stderr.decode())
        self.assertEqual(r.stdout, b"")
        self.assertEqual(self.counts()["learned"], 0)
        twice = self.write("twice.tsv", "comment_approved\tcomment_content\tcomment_content\n")
        r = self.run_cli("train", "--wp-mariadb", good, twice)
        self.assertEqual(r.returncode, 3)
        self.assertIn("the column comment_content twice", r.stderr.decode())
        # from a pipe the header is read when its turn comes: what came before stays
        r = self.run_cli("train", "--wp-mariadb", good, "-", stdin="comment_approved\tx\n1\ty\n")
        self.assertEqual(r.returncode, 3)
        self.assertIn("thresh: <stdin>:1: no column comment_content", r.stderr.decode())
        self.assertEqual(self.counts()["learned"], 1)
        # an empty file is a query that found nothing
        out, _ = self.ok("train", "--wp-mariadb", self.write("empty.tsv", ""))
        self.assertEqual(self.wp_summary(out)[0], [0, 0, 0, 0, 0, 0])

    def test_one_comment_whichever_way_it_comes(self):
        """WordPress stores a visitor's text kses-filtered and a web site with
        its scheme: the REST API, the query and the text as typed (what
        WordPress's Akismet plugin sends, and threshd learns the same way) are
        one comment, learned once."""
        self.init_empty()
        typed = {"content": "Tom & Jerry <3 \"quotes\" 'single'", "author": "Ann  Smith",
                 "email": "ann@example.org", "url": "ann.example/blog"}
        stored = {"content": "Tom &amp; Jerry &lt;3 &quot;quotes&quot; &#039;single&#039;",
                  "author": "Ann Smith", "email": "ann@example.org",
                  "url": "http://ann.example/blog"}
        out, _ = self.ok("train", "--wp-json", self.write("p.json", json.dumps([wp_rest(
            1, "approved", stored["content"], author=stored["author"], email=stored["email"],
            url=stored["url"])])))
        self.assertEqual(self.wp_summary(out)[0], [1, 1, 0, 0, 0, 0])
        out, _ = self.ok("train", "--wp-mariadb", self.write("r.tsv", wp_rows([{
            "comment_approved": "spam", "comment_content": stored["content"],
            "comment_author": " " + typed["author"] + "\t", "comment_author_email": stored["email"],
            "comment_author_url": typed["url"]}])))
        self.assertEqual(self.wp_summary(out)[0], [1, 0, 0, 1, 0, 0], "moved: the same comment")
        canonical = {"content": "Tom & Jerry <3 \"quotes\" 'single'", "author": "Ann Smith",
                     "email": "ann@example.org", "url": "http://ann.example/blog"}
        out, _ = self.ok("train", "--jsonl", stdin=json.dumps(dict(canonical, label="spam")) + "\n")
        self.assertEqual(self.summary(out), [1, 0, 1, 0, 0])
        self.assertEqual(self.ham_spam(), (0, 1))

    def test_usage(self):
        self.init_empty()
        p = self.write("p.json", "[]")
        r = self.run_cli("train", "--wp-json", "spam", p)
        self.assertEqual(r.returncode, 3)
        self.assertIn("'spam': with --wp-json the labels come from the file", r.stderr.decode())
        r = self.run_cli("train", "--wp-json", "--wp-mariadb", p)
        self.assertEqual(r.returncode, 3)
        self.assertIn("give one of --tsv, --jsonl, --wp-json and --wp-mariadb", r.stderr.decode())
        r = self.run_cli("train", "--wp-json", p, self.path("missing.json"))
        self.assertEqual(r.returncode, 3)
        self.assertIn("missing.json", r.stderr.decode())

    def test_sigint_stores_what_was_read(self):
        self.init_empty()
        p = subprocess.Popen([BIN, "--db", self.db, "train", "--wp-mariadb"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=self.env)
        p.stdin.write(wp_rows([{"comment_approved": "1" if i % 2 else "spam",
                                "comment_content": "row number %d" % i}
                               for i in range(300)]).encode())
        p.stdin.flush()
        time.sleep(1.0)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 130, err)
        # Every row read by then is learned and stored: all 300 on this
        # machine, fewer where thresh runs slower (under valgrind, 273 of
        # them in a second), never a row read and lost.
        n = self.wp_summary(out.decode())[0][0]
        self.assertGreater(n, 0)
        self.assertEqual(self.wp_summary(out.decode())[0], [n, n, 0, 0, 0, 0])
        self.assertEqual(self.ham_spam(), (n // 2, n - n // 2))

class TestCheck(CliTest):
    def setUp(self):
        super().setUp()
        self.train_fixture()

    def test_verdicts_and_exit_statuses(self):
        r = self.run_cli("check", stdin="cheap casino pills for a lottery winner\n")
        self.assertEqual(r.returncode, 2, r.stderr)
        m = CHECK_RE.match(r.stdout.decode().rstrip("\n"))
        self.assertIsNotNone(m, r.stdout)
        self.assertEqual(m.group(1), "reject")
        self.assertGreaterEqual(float(m.group(2)), self.param("reject_cutoff"))
        self.assertIn("bayes", m.group(3).split())
        self.assertEqual(r.stdout.decode().count("\n"), 1)

        r = self.run_cli("check", stdin="a lovely article about my garden and kitten\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        m = CHECK_RE.match(r.stdout.decode().rstrip("\n"))
        self.assertEqual(m.group(1), "accept")
        self.assertLess(float(m.group(2)), self.param("hold_cutoff"))
        self.assertEqual(m.group(3), "-")

        # Every score below 1 is held when the cutoffs are 0 and 1.
        self.ok("set", "blatant_cutoff", "1")
        self.ok("set", "reject_cutoff", "1")
        self.ok("set", "hold_cutoff", "0")
        r = self.run_cli("check", stdin="a lovely article about my garden and kitten\n")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertTrue(r.stdout.startswith(b"hold "), r.stdout)

    def test_check_changes_nothing(self):
        before = self.counts()
        for _ in range(3):
            self.run_cli("check", stdin=SPAM[0])
        self.assertEqual(self.counts(), before)

    def test_trailing_newline_is_stripped(self):
        a, _ = self.check_json("cheap viagra with lovely poetry")
        b, _ = self.check_json("cheap viagra with lovely poetry\n")
        c, _ = self.check_json("cheap viagra with lovely poetry\r\n")
        self.assertEqual(a["score"], b["score"])
        self.assertEqual(a["score"], c["score"])

    def test_explain(self):
        r = self.run_cli("check", "--explain", stdin="cheap casino pills and a lovely kitten")
        self.assertIn(r.returncode, (0, 1, 2))
        lines = r.stdout.decode().splitlines()
        self.assertRegex(lines[0], CHECK_RE)
        self.assertGreater(len(lines), 1)
        toks = []
        for line in lines[1:]:
            m = EXPLAIN_RE.match(line)
            self.assertIsNotNone(m, line)
            toks.append((float(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4)))
        names = " ".join(t[3] for t in toks)
        for w in ("cheap", "casino", "pills", "kitten"):
            self.assertIn(w, names)
        for prob, spam, ham, name in toks:
            if name == "cheap":
                self.assertGreater(prob, 0.5)
                self.assertGreater(spam, 0)
                self.assertEqual(ham, 0)
            if name == "kitten":
                self.assertLess(prob, 0.5)
                self.assertEqual(spam, 0)
        # Without --explain: one line only.
        r = self.run_cli("check", stdin="cheap casino pills and a lovely kitten")
        self.assertEqual(len(r.stdout.decode().splitlines()), 1)

    def test_explain_shows_no_identity(self):
        # An author, an address and a site the model learned as spam: their
        # tokens move the score, and the explanation names them by kind
        # alone (issue 18: it printed "author:jane q. doe", "ip24:203.0.113").
        who = {"author": "Jane Q. Doe", "email": "jane@mailbox.example",
               "url": "https://jane.example.net/blog", "ip": "203.0.113.7"}
        lines = "".join(json.dumps(dict(who, label="spam", content="cheap casino %d" % i)) + "\n"
                        for i in range(10))
        self.ok("train", "--jsonl", self.write("who.jsonl", lines))
        comment = json.dumps(dict(who, content="a lovely kitten"))
        shown = set()
        for fmt in ("text", "json"):
            r = self.run_cli("check", "--json", "--explain", "--format", fmt, stdin=comment)
            self.assertIn(r.returncode, (0, 1, 2), r.stderr)
            out = r.stdout.decode()
            for value in ("jane", "doe", "203.0.113", "mailbox", "example.net"):
                self.assertNotIn(value, out.lower(), fmt)
            shown |= set(re.findall(r"(author|author-word|email-domain|url-host|url-domain|ip24)"
                                    r":\u2026", out))
        self.assertEqual(shown, {"author", "author-word", "email-domain", "url-host", "url-domain",
                                 "ip24"})

    def test_format_json(self):
        obj, code = self.check_json("cheap casino pills", "--explain")
        self.assertEqual(code, 2)
        self.assertEqual(set(obj), {"verdict", "score", "reasons", "blatant", "retry_after",
                                    "tokens"})
        self.assertEqual(obj["verdict"], "reject")
        self.assertIsInstance(obj["blatant"], bool)
        self.assertIn("bayes", obj["reasons"])
        self.assertTrue(0 <= obj["score"] <= 1)
        self.assertEqual(obj["retry_after"], 0)
        self.assertGreater(len(obj["tokens"]), 0)
        for t in obj["tokens"]:
            self.assertEqual(set(t), {"token", "prob", "spam", "ham"})
            self.assertTrue(0 <= t["prob"] <= 1)
        text, _ = self.ok("check", stdin="cheap casino pills", code=2)
        self.assertEqual(text.split()[1], "%.4f" % obj["score"])
        obj, code = self.check_json("lovely garden poetry")
        self.assertEqual((obj["verdict"], code, obj["reasons"], obj["tokens"]), ("accept", 0, [], []))

    def test_json_input(self):
        doc = {"content": "cheap casino pills", "author": "Spammer", "email": "s@spam.example",
               "url": "http://spam.example", "ip": "203.0.113.9", "user_agent": "bot",
               "referrer": "http://r.example", "permalink": "http://blog.example/1",
               "type": "comment", "lang": "en", "form_age": 1.5, "label": "ham"}
        r = self.run_cli("check", "--json", stdin=json.dumps(doc, indent=2))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertTrue(r.stdout.startswith(b"reject "))
        r = self.run_cli("check", "--json", stdin='{"comment_content": "lovely garden poetry"}')
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_bad_input(self):
        r = self.run_cli("check", "--json", stdin='{\n  "content": "x",\n  "oops": tru\n}')
        self.assertEqual(r.returncode, 4)
        self.assertIn(b"thresh: <stdin>:3: malformed JSON", r.stderr)
        self.assertEqual(r.stdout, b"")
        for doc in ('{"content": "x", "bogus": "y"}', '{"content": 1 2}', '["content"]', "",
                    '{"content": "x"} {}', '{"content": "\\ud83d"}', '{"content": "a\tb"}',
                    '{"content": {"nested": 1}}', '{"form_age": "-3"}'):
            r = self.run_cli("check", "--json", stdin=doc)
            self.assertEqual(r.returncode, 4, doc)
            self.assertIn(b"thresh: <stdin>:", r.stderr, doc)
        r = self.run_cli("check", stdin=b"invalid \xff utf-8")
        self.assertEqual(r.returncode, 4)
        self.assertIn(b"UTF-8", r.stderr)
        r = self.run_cli("check", stdin=b"a" * 70000)
        self.assertEqual(r.returncode, 4)

    def test_check_tsv(self):
        rows = (["spam\t" + t for t in SPAM[:5]] + ["ham\t" + t for t in HAM[:5]] +
                ["no tab: cheap casino pills", "", "ham\tlovely poetry\r", "\tcheap viagra"])
        for arg, kw in ((self.write("in.tsv", "\n".join(rows) + "\n"), {}),
                        ("-", {"stdin": "\n".join(rows) + "\n"})):
            out, err = self.ok("check", "--tsv", arg, **kw)
            self.assertEqual(err, "")
            lines = out.split("\n")
            self.assertEqual(lines[-1], "")
            lines = lines[:-1]
            self.assertEqual(len(lines), len(rows))
            parsed = []
            for line in lines:
                m = TSV_OUT_RE.match(line)
                self.assertIsNotNone(m, line)
                parsed.append((float(m.group(1)), m.group(2)))
            for i in range(5):
                self.assertEqual(parsed[i][1], "reject")
                self.assertEqual(parsed[5 + i][1], "accept")
            self.assertEqual(parsed[10][1], "reject")
            self.assertEqual(parsed[12][1], "accept")
            self.assertEqual(parsed[13][1], "reject")
        # The same score as a single check.
        single, _ = self.check_json(SPAM[0])
        self.assertAlmostEqual(parsed[0][0], single["score"], places=6)
        # A line that cannot be checked keeps its place.
        p = self.write("bad.tsv", b"spam\tcheap pills\nham\tbad \xff\nham\tlovely garden\n")
        r = self.run_cli("check", "--tsv", p)
        self.assertEqual(r.returncode, 4)
        lines = r.stdout.decode().splitlines()
        self.assertEqual(len(lines), 3)
        self.assertEqual(lines[1], "nan\terror")
        self.assertIn(("thresh: %s:2: " % p).encode(), r.stderr)
        r = self.run_cli("check", "--tsv", self.path("missing.tsv"))
        self.assertEqual(r.returncode, 3)

    def test_check_tsv_scores_the_same_with_and_without_the_memory_copy(self):
        # A file larger than an eighth of the model's tokens in bytes, or a
        # pipe past a thousandth of them in lines, fills the memory copy of
        # the model first: the scores must be LMDB's to the last digit.
        rows = ["x\t%s %s" % (SPAM[i % len(SPAM)], HAM[(3 * i) % len(HAM)]) for i in range(300)]
        text = "\n".join(rows) + "\n"
        path = self.write("many.tsv", text)
        self.assertGreater(os.path.getsize(path), self.counts()["tokens"] / 8)
        runs = {}
        for cache in ("on", "off"):
            with open(os.path.join(self.db, "thresh.conf"), "w") as f:
                f.write("memory_cache = %s\n" % cache)
            runs[cache, "file"] = self.ok("check", "--tsv", path)[0]
            runs[cache, "pipe"] = self.ok("check", "--tsv", "-", stdin=text)[0]
        os.remove(os.path.join(self.db, "thresh.conf"))
        self.assertEqual(len(runs["on", "file"].splitlines()), 300)
        for k, out in runs.items():
            self.assertEqual(out, runs["off", "file"], k)

    def test_check_tsv_opens_read_only(self):
        # Scoring a file needs no rate-limit store: the database is opened
        # read-only, so a removed rate/ folder is not made again.
        shutil.rmtree(os.path.join(self.db, "rate"))
        out, _ = self.ok("check", "--tsv", "-", stdin="spam\t" + SPAM[0] + "\n")
        self.assertRegex(out, r"^[0-9.]+\treject\n$")
        self.assertFalse(os.path.exists(os.path.join(self.db, "rate")))


class TestEval(CliTest):
    def corpus(self):
        rows = ["spam\t" + t for t in comments(SPAM_WORDS + ["the", "a"], 60, 3)]
        rows += ["ham\t" + t for t in comments(HAM_WORDS + ["the", "a"], 90, 4)]
        random.Random(5).shuffle(rows)
        rows += ["spam\t" + rows[0].split("\t")[1]] if rows[0].startswith("spam") else \
                ["ham\t" + rows[0].split("\t")[1]]           # a duplicate
        rows += ["spam\tconflicting text", "ham\tconflicting text"]  # both labels: dropped
        return self.write("corpus.tsv", "\n".join(rows) + "\n")

    def test_text_report(self):
        p = self.corpus()
        out, err = self.ok("eval", "--folds", "5", p, db=False)
        self.assertRegex(out, r"(?m)^comments +150 \(60 spam, 90 ham\), 5 folds, seed 1$")
        self.assertRegex(out, r"(?m)^dropped +1 duplicates, 2 with both labels, 0 bad lines$")
        m = re.search(r"(?m)^ROC AUC +(\d\.\d{4})$", out)
        self.assertIsNotNone(m, out)
        self.assertGreater(float(m.group(1)), 0.9)
        self.assertRegex(out, r"(?m)^cutoffs +hold \d\.\d{4}, reject \d\.\d{4} \(each fold's own: "
                              r"hold \d\.\d{4}-\d\.\d{4}, reject \d\.\d{4}-\d\.\d{4}\)$")
        self.assertRegex(out, r"(?m)^its fold's reject +\d\.\d{4} +\d\.\d{4} +\d\.\d{4} +\d\.\d{4}$")
        self.assertRegex(out, r"(?m)^0\.5000 +\d\.\d{4} +\d\.\d{4} +\d\.\d{4} +\d\.\d{4}$")
        self.assertRegex(out, r"(?m)^moderation +accepted +held +rejected$")
        for label in ("ham", "spam"):
            m = re.search(r"(?m)^%s +([\d.]+)%% +([\d.]+)%% +([\d.]+)%%$" % label, out)
            self.assertIsNotNone(m, out)
            self.assertAlmostEqual(sum(float(x) for x in m.groups()), 100, delta=0.05)
        self.assertFalse(os.path.exists(os.path.join(self.home, ".local")),
                         "eval must not touch the user's database")
        self.assertEqual(os.listdir(self.env["TMPDIR"]), [], "temporary databases left behind")

    def test_json_report(self):
        p = self.corpus()
        out, _ = self.ok("eval", "--folds", "4", "--seed", "7", "--json", p, db=False)
        d = json.loads(out)
        keys = ["auc", "accuracy", "precision", "recall", "f1", "ham_rejected_pct",
                "ham_held_pct", "spam_accepted_pct", "spam_held_pct", "spam_rejected_pct",
                "ham_accepted_pct", "n", "n_spam", "n_ham", "folds", "seed", "hold_cutoff",
                "reject_cutoff", "accuracy_05", "precision_05", "recall_05", "f1_05"]
        for k in keys:
            self.assertIn(k, d)
        self.assertEqual((d["n"], d["n_spam"], d["n_ham"], d["folds"], d["seed"]),
                         (150, 60, 90, 4, 7))
        self.assertEqual((d["duplicates_dropped"], d["conflicts_dropped"]), (1, 2))
        for k in ("auc", "accuracy", "precision", "recall", "f1", "accuracy_05"):
            self.assertTrue(0 <= d[k] <= 1, k)
        self.assertGreater(d["auc"], 0.9)
        for lab in ("ham", "spam"):
            parts = [d["%s_%s_pct" % (lab, x)] for x in ("accepted", "held", "rejected")]
            for x in parts:
                self.assertTrue(0 <= x <= 100)
            self.assertAlmostEqual(sum(parts), 100, places=6)
        # each fold judges at the cutoffs its database fitted on its own
        # training decisions: the mean, and the lowest and highest of them
        self.assertTrue(0 <= d["hold_cutoff_min"] <= d["hold_cutoff"] <= d["hold_cutoff_max"] <= 1)
        self.assertTrue(0 <= d["reject_cutoff_min"] <= d["reject_cutoff"] <= d["reject_cutoff_max"] <= 1)
        self.assertLessEqual(d["hold_cutoff_max"], d["reject_cutoff_max"])
        self.assertNotEqual((d["hold_cutoff"], d["reject_cutoff"]), self.default_cutoffs(),
                            "120 decisions a fold move the cutoffs from a new site's")
        # The recall at the reject cutoff is the share of spam rejected.
        self.assertAlmostEqual(d["recall"] * 100, d["spam_rejected_pct"], places=6)
        # Deterministic for one seed.
        again, _ = self.ok("eval", "--folds", "4", "--seed", "7", "--json", p, db=False)
        self.assertEqual(out, again)
        self.assertEqual(os.listdir(self.env["TMPDIR"]), [])

    def test_plot_writes_an_svg_with_the_cutoffs(self):
        import xml.etree.ElementTree as ET
        p = self.corpus()
        svg = self.path("eval.svg")
        out, _ = self.ok("eval", "--folds", "4", "--plot", svg, p, db=False)
        self.assertIn("ROC AUC", out)
        root = ET.parse(svg).getroot()  # well-formed
        self.assertTrue(root.tag.endswith("svg"))
        text = open(svg, encoding="utf-8").read()
        # the mean of the folds' own cutoffs, as --json gives them
        d = json.loads(self.ok("eval", "--folds", "4", "--json", p, db=False)[0])
        self.assertIn("hold %.2f" % d["hold_cutoff"], text)
        self.assertIn("reject %.2f" % d["reject_cutoff"], text)
        self.assertRegex(text, r"AUC \d\.\d{4}")
        self.assertIn("<polyline", text)
        self.assertEqual([f for f in os.listdir(self.tmp) if ".tmp-" in f], [])
        r = self.run_cli("eval", "--plot", "/nonexistent/dir/x.svg", p, db=False)
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"/nonexistent/dir/x.svg", r.stderr)

    def test_bad_input(self):
        p = self.write("few.tsv", "spam\tcheap pills\nham\tlovely garden\n")
        r = self.run_cli("eval", "--folds", "5", p, db=False)
        self.assertEqual(r.returncode, 4)
        self.assertIn(b"eval needs", r.stderr)
        p = self.write("bad.tsv", "\n".join(["spam\t" + t for t in SPAM[:10]] +
                                            ["ham\t" + t for t in HAM[:10]] + ["junk line"]) + "\n")
        r = self.run_cli("eval", "--folds", "2", "--json", p, db=False)
        self.assertEqual(r.returncode, 4)
        self.assertIn(("thresh: %s:21: " % p).encode(), r.stderr)
        self.assertEqual(json.loads(r.stdout)["bad_lines"], 1)
        r = self.run_cli("eval", self.path("missing.tsv"), db=False)
        self.assertEqual(r.returncode, 3)


class TestPrior(CliTest):
    def test_train_prior_with_a_weight_and_the_stats_that_show_it(self):
        self.init_empty()
        tsv = self.write("c.tsv", "\n".join(["spam\t" + t for t in SPAM[:4]] +
                                            ["ham\t" + t for t in HAM[:2]]) + "\n")
        out, _ = self.ok("train", "--prior", "--weight", "0.5", "--tsv", tsv)
        self.assertEqual(out, "trained 6 comments into the prior at weight 0.5; 0 lines skipped\n")
        d = self.stats()
        self.assertEqual((d["spam_messages"], d["ham_messages"], d["learned"]), (0, 0, 0))
        self.assertEqual((d["prior"]["spam_messages"], d["prior"]["ham_messages"]), (2, 1))
        self.assertEqual(d["prior"]["weight"], 1)
        self.assertEqual(d["prior"]["weight_by"], "site")
        self.assertEqual(d["site_share"], 0)
        text, _ = self.ok("stats")
        self.assertRegex(text, r"(?m)^prior: +2\.0 spam, 1\.0 ham")
        self.assertRegex(text, r"(?m)^site share: +0\.0%")
        # the site's own decisions, then a set weight
        self.ok("train", "spam", self.write("s.txt", SPAM[5] + "\n"))
        self.ok("set", "prior_comments", "1.5")
        d = self.stats()
        self.assertEqual(d["spam_messages"], 1)
        self.assertEqual((d["prior"]["weight"], d["prior"]["counts_as"]), (0.5, 1.5))
        self.assertEqual(d["prior"]["weight_by"], "prior_comments")
        self.assertAlmostEqual(d["site_share"], 1 / 2.5)
        # taken back out of the prior
        out, _ = self.ok("untrain", "--prior", "--weight", "0.5", "--tsv", tsv)
        self.assertEqual(out, "untrained 6 comments out of the prior at weight 0.5; 0 lines skipped\n")
        self.assertEqual(self.stats()["prior"]["spam_messages"], 0)

    def test_weight_goes_with_prior(self):
        self.init_empty()
        for args in (["--weight", "2"], ["--prior", "--weight", "0"], ["--prior", "--weight", "x"]):
            r = self.run_cli("train", *args, "spam", self.write("s.txt", "x\n"))
            self.assertEqual(r.returncode, 3, args)
            self.assertIn(b"--weight", r.stderr)
        self.assertEqual(self.counts()["tokens"], 0, "nothing was learned")


class TestStats(CliTest):
    def test_text_and_json_agree(self):
        self.train_fixture()
        out, _ = self.ok("stats")
        text = {}
        for line in out.splitlines():
            m = re.match(r"^([a-z ]+):\s+(\S.*)$", line) or re.match(r"^([a-z_]+)\s+(\S+)$", line)
            self.assertIsNotNone(m, line)
            text[m.group(1)] = m.group(2)
        d = self.stats()
        self.assertEqual(text["database"], self.db)
        self.assertEqual(d["database"], self.db)
        self.assertEqual(int(text["spam comments"]), d["spam_messages"])
        self.assertEqual(int(text["ham comments"]), d["ham_messages"])
        self.assertEqual(int(text["tokens"]), d["tokens"])
        self.assertEqual(int(text["learned"]), d["learned"])
        self.assertEqual(int(text["format"]), d["format_version"])
        self.assertEqual(int(text["tokenizer"]), d["tokenizer"])
        self.assertIn("map size", text)
        self.assertIn("used", text)
        self.assertEqual((d["spam_messages"], d["ham_messages"], d["learned"]), (40, 40, 80))
        self.assertGreater(d["map_size"], 0)
        self.assertGreater(d["used_bytes"], 0)
        self.assertEqual(set(d["params"]), PARAMS)
        for k, v in d["params"].items():
            self.assertEqual(float(text[k]), v)


class TestSiteCutoffs(CliTest):
    """The cutoffs and calibration in force, and where they came from, in
    `thresh stats` and its JSON; `thresh set` pins, `set NAME auto` unpins
    (README, "A new site")."""

    def cutoffs(self):
        d = self.stats()
        return d["cutoffs"], d["calibration"]

    def line(self, name):
        out, _ = self.ok("stats")
        m = re.search(r"(?m)^%s: +(.*)$" % name, out)
        self.assertIsNotNone(m, out)
        return m.group(1)

    def test_a_new_site_then_its_decisions_then_pinned(self):
        self.init_empty()
        c, cal = self.cutoffs()
        hold, reject = self.default_cutoffs()
        self.assertEqual((c["hold"], c["reject"]), (hold, reject))
        self.assertEqual((c["hold_from"], c["reject_from"], cal["from"]),
                         ("new_site", "new_site", "new_site"))
        self.assertEqual(c["decisions"], 0)
        self.assertEqual(self.line("cutoffs"),
                         "hold %.4g (a new site's), reject %.4g (a new site's)" % (hold, reject))
        self.assertIn("(the default)", self.line("calibration"))
        # 40 spam and 40 ham decisions, as a site takes them (one of each in
        # turn): the hold cutoff mostly the site's (40 of 50 spam), the
        # reject cutoff a fifth (40 of 200 ham)
        self.ok("train", "--tsv", self.write("site.tsv", "".join(
            "spam\t%s\nham\t%s\n" % pair for pair in zip(SPAM, HAM))))
        c, cal = self.cutoffs()
        self.assertEqual((c["decisions"], c["decisions_spam"]), (80, 40))
        self.assertEqual((c["hold_from"], c["reject_from"]), ("blend", "blend"))
        self.assertAlmostEqual(c["hold_alpha"], 40 / 50)
        self.assertAlmostEqual(c["reject_alpha"], 40 / 200)
        self.assertNotEqual((c["hold"], c["reject"]), (hold, reject))
        self.assertLess(c["hold"], c["reject"])
        self.assertEqual(cal["from"], "site")
        self.assertRegex(self.line("cutoffs"),
                         r"^hold \S+ \(80% the site's own, 40 spam decisions\), "
                         r"reject \S+ \(20% the site's own, 40 ham decisions\)$")
        self.assertIn("(fitted on the site's newest decisions)", self.line("calibration"))
        self.assertEqual(self.line("decisions"),
                         "80 (40 spam), the newest the cutoffs and calibration are fitted on")
        # what a check uses is what stats shows
        self.assertEqual(self.param("hold_cutoff"), c["hold"])
        # pinned, then handed back to the site's decisions
        self.ok("set", "hold_cutoff", "0.3")
        c2, _ = self.cutoffs()
        self.assertEqual((c2["hold"], c2["hold_from"]), (0.3, "pinned"))
        self.assertEqual((c2["reject"], c2["reject_from"]), (c["reject"], "blend"))
        self.assertIn("set by hold_cutoff", self.line("cutoffs"))
        self.ok("set", "nb_scale", "10")
        _, cal2 = self.cutoffs()
        self.assertEqual((cal2["nb_scale"], cal2["from"]), (10, "pinned"))
        self.ok("set", "hold_cutoff", "auto")
        self.ok("set", "nb_scale", "auto")
        c3, cal3 = self.cutoffs()
        self.assertEqual(c3, c)
        self.assertEqual(cal3, cal)
        # auto stores the default of any other parameter
        self.ok("set", "robx", "0.45")
        self.ok("set", "robx", "auto")
        self.assertEqual(self.param("robx"), 0.5)


class TestReplicate(CliTest):
    """thresh replicate without a cluster, and a cluster whose Redis is
    away (tests/cluster has the real thing)."""

    def test_without_a_cluster_it_says_so(self):
        self.init_empty()
        r = self.run_cli("replicate", "--once")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn(b"no [cluster] section", r.stderr)
        r = self.run_cli("replicate", "--wait", "99999")
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"--wait 99999", r.stderr)

    def test_redis_away_learning_goes_on(self):
        self.init_empty()
        sock = self.path("nothing.sock")
        self.write("db/thresh.conf", "[cluster]\nredis = unix:%s\nnode = n1\nnodes = 2\n" % sock)
        self.ok("train", "spam", stdin="cheap pills now\n")
        r = self.run_cli("replicate", "--once")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn(b"Redis is away", r.stderr)
        d = self.stats()
        self.assertEqual(d["spam_messages"], 1)
        self.assertEqual(d["cluster"]["outbox"], 1)
        self.assertFalse(d["cluster"]["redis_up"])
        out, _ = self.ok("stats")
        self.assertIn("1 learns not yet in the cluster's log", out)
        r = self.run_cli("replicate", "--once", "--nodes", "0")
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"--nodes 0", r.stderr)


class TestExportImport(CliTest):
    PROBES = ["cheap casino pills", "lovely garden poetry", "cheap poetry", "unknown words"]

    def scores(self, **kw):
        return [self.check_json(t, **kw)[0]["score"] for t in self.PROBES]

    def test_export_to_dash_is_refused(self):
        # "-" is not standard output here: refused, and no file named "-".
        self.train_fixture()
        r = subprocess.run([BIN, "--db", self.db, "export", "-"], cwd=self.tmp,
                           capture_output=True)
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"not standard output", r.stderr)
        self.assertEqual(r.stdout, b"")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "-")))

    def test_round_trip(self):
        self.train_fixture()
        self.ok("set", "hold_cutoff", "0.42")
        dump = self.path("model.dump")
        out, _ = self.ok("export", dump)
        self.assertEqual(out, "exported %s: 40 spam, 40 ham, %d tokens\n" % (
            dump, self.counts()["tokens"]))
        with open(dump) as f:
            self.assertTrue(f.readline().startswith("thresh-dump "))
        before, scores = self.counts(), self.scores()
        self.db = self.path("db2")
        out, err = self.ok("import", dump)
        self.assertIn("created %s (empty)" % self.db, err)
        self.assertEqual(out, "imported %s: the model now has 40 spam, 40 ham, %d tokens\n" % (
            dump, before["tokens"]))
        self.assertEqual(self.counts(), before)
        self.assertEqual(self.scores(), scores)
        self.assertEqual(self.ok("get", "hold_cutoff")[0], "0.42\n")
        # Duplicates are remembered across the dump by the site that made it:
        # its secret keys the learned comments' digests. Another database
        # learns the comment anew; the same site's secret beside the copy
        # (a backup restored with its secret) finds it learned.
        db2, self.db = self.db, self.path("db3")
        self.ok("import", dump)
        out, _ = self.ok("train", "spam", stdin=SPAM[0] + "\n")
        self.assertEqual(self.summary(out), [1, 1, 0, 0, 0])
        self.db = db2
        shutil.copy(os.path.join(self.path("db"), "secret"), os.path.join(self.db, "secret"))
        out, _ = self.ok("train", "spam", stdin=SPAM[0] + "\n")
        self.assertEqual(self.summary(out), [1, 0, 1, 0, 0])
        # Merging the same dump doubles the counts.
        self.ok("import", "--merge", dump)
        c = self.counts()
        self.assertEqual((c["spam_messages"], c["ham_messages"], c["tokens"]),
                         (80, 80, before["tokens"]))

    def test_bad_dumps_change_nothing(self):
        self.train_fixture()
        dump = self.path("model.dump")
        self.ok("export", dump)
        with open(dump) as f:
            lines = f.read().split("\n")
        before, scores = self.counts(), self.scores()
        truncated = self.write("truncated.dump", "\n".join(lines[:len(lines) // 2]) + "\n")
        r = self.run_cli("import", truncated)
        self.assertEqual(r.returncode, 4)
        self.assertIn(("thresh: import %s: line " % truncated).encode(), r.stderr)
        self.assertIn(b"nothing was changed", r.stderr)
        tok = next(i for i, l in enumerate(lines) if l.startswith("t "))
        broken = list(lines)
        broken[tok + 1] = "t zzzz 1 2 3"
        corrupt = self.write("corrupt.dump", "\n".join(broken))
        r = self.run_cli("import", corrupt)
        self.assertEqual(r.returncode, 4)
        self.assertIn(("thresh: import %s: line %d: " % (corrupt, tok + 2)).encode(), r.stderr)
        garbage = self.write("garbage.dump", b"\x00\x01 not a dump\n")
        r = self.run_cli("import", garbage)
        self.assertNotEqual(r.returncode, 0)
        r = self.run_cli("import", self.path("missing.dump"))
        self.assertEqual(r.returncode, 3)
        for merge in ([], ["--merge"]):
            r = self.run_cli("import", *(merge + [truncated]))
            self.assertNotEqual(r.returncode, 0)
        self.assertEqual(self.counts(), before)
        self.assertEqual(self.scores(), scores)
        # A missing dump does not create a database on its way to failing.
        self.db = self.path("never")
        self.assertEqual(self.run_cli("import", self.path("missing.dump")).returncode, 3)
        self.assertFalse(os.path.exists(self.db))

    def test_merge_needs_the_same_model(self):
        self.train_fixture()
        before = self.counts()
        other = self.path("other")
        self.ok("init", "--empty", db=False, env={"THRESH_DB": other})
        self.ok("train", "spam", db=False, stdin="other model\n", env={"THRESH_DB": other})
        dump = self.path("other.dump")
        self.ok("export", dump, db=False, env={"THRESH_DB": other})
        r = self.run_cli("import", "--merge", dump)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"thresh: import", r.stderr)
        self.assertEqual(self.counts(), before)


class TestPrune(CliTest):
    def test_prune_old_tokens(self):
        day = 86400
        now = int(time.time())
        # A database trained on the recent comment alone tells its token count.
        self.init_empty()
        self.ok("train", "ham", stdin="recent lovely garden words\n")
        recent_tokens = self.counts()["tokens"]
        shutil.rmtree(self.db)

        self.init_empty()
        self.ok("train", "spam", stdin="ancient cheap casino spam\n",
                env={"THRESH_NOW": str(now - 100 * day)})
        self.ok("train", "ham", stdin="recent lovely garden words\n")
        total = self.counts()["tokens"]
        self.assertGreater(total, recent_tokens)
        out, _ = self.ok("prune", "--older-than", "200")
        self.assertEqual(out, "pruned 0 tokens\n")
        out, _ = self.ok("prune", "--older-than", "30", "--min-count", "1")
        self.assertEqual(out, "pruned 0 tokens\n")  # every token was seen once
        out, _ = self.ok("prune", "--older-than", "30")
        m = re.match(r"^pruned (\d+) tokens\n$", out)
        self.assertIsNotNone(m, out)
        self.assertEqual(int(m.group(1)), total - recent_tokens)
        c = self.counts()
        self.assertEqual(c["tokens"], recent_tokens)
        out, _ = self.ok("prune", "--older-than", "0")
        self.assertEqual(out, "pruned 0 tokens\n")

    def test_prune_usage(self):
        self.init_empty()
        for args in (["prune"], ["prune", "--older-than", "x"], ["prune", "--older-than", "-1"],
                     ["prune", "--older-than", "3", "--min-count", "many"]):
            self.assertEqual(self.run_cli(*args).returncode, 3, args)


class TestSetGet(CliTest):
    def test_set_and_get(self):
        self.init_empty()
        out, _ = self.ok("get")
        values = dict(line.split(" ") for line in out.splitlines())
        self.assertEqual(set(values), PARAMS)
        self.assertEqual(self.ok("get", "reject_cutoff")[0], values["reject_cutoff"] + "\n")
        out, _ = self.ok("set", "hold_cutoff", "0.3")
        self.assertEqual(out, "")
        self.assertEqual(self.ok("get", "hold_cutoff")[0], "0.3\n")
        self.assertEqual(self.stats()["params"]["hold_cutoff"], 0.3)
        self.ok("set", "robx", "0.45")
        self.assertEqual(self.ok("get", "robx")[0], "0.45\n")
        for args in (["set", "hold_cutoff", "2"], ["set", "hold_cutoff", "1"],
                     ["set", "robx", "-1"], ["set", "nope", "1"], ["set", "robs", "abc"],
                     ["get", "nope"], ["set", "robs"]):
            r = self.run_cli(*args)
            self.assertEqual(r.returncode, 3, args)
            self.assertTrue(r.stderr.startswith(b"thresh: "), args)
        self.assertEqual(self.ok("get", "hold_cutoff")[0], "0.3\n")
        self.assertEqual(self.ok("get", "robx")[0], "0.45\n")


class TestModeration(CliTest):
    def test_check_json_fields_and_reasons(self):
        self.train_fixture()
        out, code = self.check_json('{"content": "a lovely garden", "honeypot": "filled"}', "--json")
        self.assertEqual((out["verdict"], code), ("reject", 2))
        self.assertIn("honeypot", out["reasons"])
        self.assertTrue(out["blatant"])
        out, code = self.check_json('{"content": "a lovely garden", "form_age": "0.5"}', "--json")
        self.assertEqual(out["verdict"], "hold")
        self.assertIn("too_fast", out["reasons"])
        links = "see http://a.example and http://b.example for my lovely garden"
        out, _ = self.check_json(json.dumps({"content": links}), "--json")
        self.assertIn("too_many_links", out["reasons"])

    def test_config_file_rules_and_errors(self):
        self.train_fixture()
        self.write("db/thresh.conf", "disallowed_words = garden\n[threshd]\nport = 9999\n")
        r = self.run_cli("check", stdin="a lovely garden\n")
        self.assertEqual(r.returncode, 2, r.stdout)
        self.assertIn(b"disallowed_word", r.stdout)
        out, _ = self.ok("config")
        self.assertRegex(out, r"(?m)^disallowed_words = garden  #")
        self.assertRegex(out, r"(?m)^\[threshd\]\nport = 9999$")
        self.assertEqual(self.ok("config", "threshd.port")[0], "9999\n")
        self.ok("config", "threshd.nothing", code=3)
        self.write("db/thresh.conf", "# comment\nrate_limit = fast\n")
        r = self.run_cli("check", stdin="a lovely garden\n")
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"thresh.conf:2: rate_limit: expected a number", r.stderr)

    def test_rotate_secret(self):
        self.init_empty()
        secret = os.path.join(self.db, "secret")
        self.assertEqual(os.stat(secret).st_mode & 0o777, 0o600)
        with open(secret, "rb") as f:
            before = f.read()
        self.ok("train", "--jsonl", self.write("a.jsonl",
                '{"label": "ham", "content": "hello", "email": "a@example.org"}\n'))
        out, _ = self.ok("rotate-secret")
        self.assertIn("dropped 1 author records, 1 identity tokens", out)  # email-domain:
        with open(secret, "rb") as f:
            after = f.read()
        self.assertNotEqual(after[:32], before)
        # the learned comments' digests keep their keys: the file holds them
        # beside the new secret, and the comment is still known
        self.assertEqual(len(after), 64)
        self.assertEqual(os.stat(secret).st_mode & 0o777, 0o600)
        line = '{"label": "ham", "content": "hello", "email": "a@example.org"}\n'
        out, _ = self.ok("train", "--jsonl", self.write("b.jsonl", line))
        self.assertEqual(self.summary(out), [1, 0, 1, 0, 0])
        out, _ = self.ok("rotate-secret", "--digests")
        # (a duplicate taught nothing new: no author record, no token)
        self.assertIn("dropped 0 author records, 0 identity tokens", out)
        self.assertIn("dropped 1 digests", out)
        with open(secret, "rb") as f:
            self.assertEqual(len(f.read()), 32)
        out, _ = self.ok("train", "--jsonl", self.write("c.jsonl", line))
        self.assertEqual(self.summary(out), [1, 1, 0, 0, 0])


KEY_LINE_RE = re.compile(r"^key ([a-z0-9._-]+): ([0-9a-f]{32}) \(added to (.+); shown only now\)$",
                         re.M)
NOT_A_NAME = re.compile(r"^thresh: sites: '.*' is not a site name: ")


@unittest.skipUnless(MODEL, "THRESH_MODEL not set: a site starts from the default model")
class TestSites(CliTest):
    """`thresh sites`: the sites of a threshd --sites folder, and its key file.

    The sites start from a small model made here (the fixture's comments),
    not the default one: every test makes DIR/.prior, and reading the
    default model's 124,000 tokens takes 5 s under valgrind
    (tests/robust/valgrind.sh runs these tests so)."""

    small_model = None

    @classmethod
    def setUpClass(cls):
        cls.model_dir = tempfile.mkdtemp(prefix="thresh-sites-model-")
        db = os.path.join(cls.model_dir, "db")
        tsv = os.path.join(cls.model_dir, "train.tsv")
        # words of their own: what the tests learn into a site stays new there
        model_spam = comments(["subscribe", "channel", "giveaway", "followers", "promo",
                               "crypto", "clickhere", "offer", "limited", "bonus"], 20, 3)
        model_ham = comments(["melody", "chorus", "memories", "beautiful", "voice", "guitar",
                              "lyrics", "concert", "childhood", "summer"], 20, 4)
        with open(tsv, "w") as f:
            f.writelines("spam\t%s\n" % t for t in model_spam)
            f.writelines("ham\t%s\n" % t for t in model_ham)
        cls.small_model = os.path.join(cls.model_dir, "small.dump")
        env = dict(os.environ, THRESH_MODEL=os.path.join(cls.model_dir, "none.dump"))
        for args in (["init", "--empty"], ["train", "--tsv", tsv], ["export", cls.small_model]):
            subprocess.run([BIN, "--db", db] + args, check=True, env=env, timeout=120,
                           stdout=subprocess.DEVNULL)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.model_dir, ignore_errors=True)

    def setUp(self):
        super().setUp()
        self.env["THRESH_MODEL"] = self.small_model
        self.dir = self.path("sites")
        self.keys = self.path("keys")

    def sites(self, *args, code=0, keys=True, **kw):
        argv = ["sites", "--sites", self.dir] + (["--keys", self.keys] if keys else []) + list(args)
        return self.ok(*argv, code=code, db=False, **kw)

    def add(self, name):
        """Add a site with a key; its key."""
        out, err = self.sites("add", name)
        self.assertEqual(err, "")
        lines = out.splitlines()
        self.assertEqual(lines[0], "created %s/%s from the default model" % (self.dir, name))
        m = KEY_LINE_RE.search(out)
        self.assertIsNotNone(m, out)
        self.assertEqual((m.group(1), m.group(3)), (name, self.keys))
        self.assertRegex(lines[-1], r"^next: send threshd SIGHUP")
        return m.group(2)

    def key_lines(self):
        with open(self.keys) as f:
            return f.read()

    def listing(self, keys=True):
        out, err = self.sites("list", "--json", keys=keys)
        return {d["site"]: d for d in json.loads(out)}, err

    def snapshot(self):
        """Every path under the test's folder, with each file's bytes and mode."""
        snap = {}
        for root, dirs, files in os.walk(self.tmp):
            for n in dirs + files:
                p = os.path.join(root, n)
                st = os.lstat(p)
                data = None
                if os.path.isfile(p) and not os.path.islink(p) and n != "lock.mdb":
                    with open(p, "rb") as f:
                        data = f.read()
                snap[p] = (st.st_mode, data)
        return snap

    def test_add_list_rename_remove(self):
        k1 = self.add("blog.example.org")
        st = os.stat(self.keys)
        self.assertEqual(st.st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(self.dir).st_mode & 0o777, 0o700)
        self.assertEqual(self.key_lines(), "%s blog.example.org\n" % k1)
        k2 = self.add("shop")
        self.assertNotEqual(k1, k2)
        self.assertEqual(self.key_lines(), "%s blog.example.org\n%s shop\n" % (k1, k2))
        # a comment learned into a site shows in its own counts, not the other's
        shop = os.path.join(self.dir, "shop")
        self.ok("--db", shop, "train", "spam", self.write("s.txt", "\n".join(SPAM[:3]) + "\n"),
                db=False)
        self.ok("--db", shop, "train", "ham", self.write("h.txt", HAM[0] + "\n"), db=False)
        d, err = self.listing()
        self.assertEqual(err, "")
        self.assertEqual(sorted(d), ["blog.example.org", "shop"])
        self.assertEqual((d["shop"]["spam_messages"], d["shop"]["ham_messages"],
                          d["shop"]["learned"], d["shop"]["keys"]), (3, 1, 4, 1))
        self.assertEqual((d["blog.example.org"]["spam_messages"],
                          d["blog.example.org"]["ham_messages"]), (0, 0))
        self.assertGreater(d["shop"]["tokens"], d["blog.example.org"]["tokens"])
        self.assertGreater(d["shop"]["bytes"], 0)
        self.assertEqual(set(d["shop"]), {"site", "spam_messages", "ham_messages", "tokens",
                                          "learned", "bytes", "keys"})
        # without --keys no key count; the plain table says the same
        d2, _ = self.listing(keys=False)
        self.assertNotIn("keys", d2["shop"])
        out, _ = self.sites("list")
        rows = [line.split() for line in out.splitlines()]
        self.assertEqual(rows[0], ["SITE", "SPAM", "HAM", "TOKENS", "LEARNED", "BYTES", "KEYS"])
        self.assertEqual(rows[2], ["shop", "3", "1", str(d["shop"]["tokens"]), "4",
                                   str(d["shop"]["bytes"]), "1"])
        self.assertNotIn(k1, out)
        # rename: the folder and its key lines; the key itself stays
        out, _ = self.sites("rename", "shop", "shop2")
        self.assertIn("renamed %s to %s/shop2\n" % (shop, self.dir), out)
        self.assertIn("gave 1 key of shop to shop2 in %s\n" % self.keys, out)
        self.assertIn("next: restart threshd", out)
        self.assertFalse(os.path.exists(shop))
        self.assertEqual(self.key_lines(), "%s blog.example.org\n%s shop2\n" % (k1, k2))
        self.assertEqual(self.listing()[0]["shop2"]["spam_messages"], 3)
        # remove: refused without --yes, saying what it would delete
        before = self.snapshot()
        r = self.run_cli("sites", "--sites", self.dir, "--keys", self.keys, "remove", "shop2",
                         db=False)
        self.assertEqual(r.returncode, 3)
        err = r.stderr.decode()
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertRegex(err, r"^thresh: sites: remove shop2 would delete %s/shop2 \(3 spam and "
                         r"1 ham comments learned, \d+ bytes\) and its 1 key of %s; give --yes"
                         % (re.escape(self.dir), re.escape(self.keys)))
        self.assertEqual(r.stdout, b"")
        self.assertEqual(self.snapshot(), before, "nothing changed")
        out, err = self.sites("remove", "shop2", "--yes")
        self.assertIn("removed %s/shop2 (3 spam and 1 ham comments learned" % self.dir, out)
        self.assertIn("removed 1 key of shop2 from %s\n" % self.keys, out)
        self.assertIn("next: send threshd SIGHUP", out)
        self.assertEqual(err, "")
        self.assertEqual(sorted(os.listdir(self.dir)), [".prior", "blog.example.org"],
                         "no leftovers")
        self.assertEqual(self.key_lines(), "%s blog.example.org\n" % k1)
        self.assertEqual(os.stat(self.keys).st_mode & 0o777, 0o600)
        self.assertEqual(sorted(self.listing()[0]), ["blog.example.org"])

    def test_bad_names_change_nothing(self):
        self.add("good")
        self.assertTrue(os.path.isdir(os.path.join(self.dir, ".prior")), "made by add")
        before = self.snapshot()
        bad = ["..", ".", ".prior", "A", "Blog", "a/b", "../good", "a" * 65, "", "a b", "é"]
        for name in bad:
            for args in (["add", name], ["remove", name, "--yes"], ["rename", "good", name],
                         ["rename", name, "good"]):
                r = self.run_cli("sites", "--sites", self.dir, "--keys", self.keys, *args,
                                 db=False)
                self.assertEqual(r.returncode, 3, (args, r.stderr))
                self.assertRegex(r.stderr.decode().splitlines()[0], NOT_A_NAME, args)
                self.assertEqual(r.stdout, b"", args)
        self.assertEqual(self.snapshot(), before)
        self.add("a" * 64)  # the longest name is a name

    def test_existing_and_missing_sites(self):
        self.add("one")
        self.add("two")
        before = self.snapshot()
        for args in (["add", "one"], ["rename", "one", "two"], ["rename", "three", "four"],
                     ["remove", "three", "--yes"]):
            r = self.run_cli("sites", "--sites", self.dir, "--keys", self.keys, *args, db=False)
            self.assertEqual(r.returncode, 3, (args, r.stderr))
            err = r.stderr.decode()
            self.assertEqual(len(err.splitlines()), 1, err)
            self.assertIn("(nothing was changed)", err)
        self.assertEqual(self.snapshot(), before)
        # keys in the file already for NEW: a rename would merge two sites
        with open(self.keys, "a") as f:
            f.write("lonely-key-0001 three\n")
        r = self.run_cli("sites", "--sites", self.dir, "--keys", self.keys, "rename", "one",
                         "three", db=False)
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"has keys of three already", r.stderr)
        self.assertTrue(os.path.isdir(os.path.join(self.dir, "one")))
        # ... and the site without a folder: a note in list, its keys removable
        d, err = self.listing()
        self.assertIn("1 key of site three, which has no folder yet", err)
        self.assertEqual(sorted(d), ["one", "two"])
        out, _ = self.sites("remove", "three", "--yes")
        self.assertIn("removed 1 key of three", out)
        self.assertNotIn("three", self.key_lines())

    def test_key_file_lines_mode_and_owner_kept(self):
        text = ("# the keys of threshd --sites\n\n"
                "  first-key-0001   old   \n"
                "\tsecond-key-002\tkeep\n"
                "first-key-0001 old\n"       # the same line twice: one key
                "third-key-0003 old")        # no newline at the end
        self.write("keys", text)
        os.chmod(self.keys, 0o640)
        os.mkdir(self.dir)
        for name in ("old", "keep"):
            self.ok("--db", os.path.join(self.dir, name), "init", db=False)
        self.assertEqual(self.listing()[0]["old"]["keys"], 2)
        self.sites("rename", "old", "new")
        self.assertEqual(self.key_lines(), text.replace(" old", " new"))
        self.assertEqual(os.stat(self.keys).st_mode & 0o777, 0o640)
        k = self.add("added")
        self.assertEqual(self.key_lines(), text.replace(" old", " new") + "\n%s added\n" % k)
        self.sites("remove", "new", "--yes")
        self.assertEqual(self.key_lines(),
                         "# the keys of threshd --sites\n\n\tsecond-key-002\tkeep\n%s added\n" % k)
        self.assertEqual(os.stat(self.keys).st_mode & 0o777, 0o640)
        self.assertEqual([n for n in os.listdir(self.tmp) if n.startswith("keys.")], [],
                         "no temporary file left")
        # a symbolic link to the key file stays a link; its target is rewritten
        os.rename(self.keys, self.path("real-keys"))
        os.symlink("real-keys", self.keys)
        self.sites("remove", "added", "--yes")
        self.assertTrue(os.path.islink(self.keys))
        self.assertNotIn(" added", self.key_lines())

    def test_a_site_without_keys_leaves_the_key_file_alone(self):
        self.add("keyed")
        self.sites("add", "bare", keys=False)
        ino = os.stat(self.keys).st_ino
        out, _ = self.sites("rename", "bare", "bare2")
        self.assertIn("no key of bare in %s\n" % self.keys, out)
        out, _ = self.sites("remove", "bare2", "--yes")
        self.assertIn("no key of bare2 in %s\n" % self.keys, out)
        self.assertEqual(os.stat(self.keys).st_ino, ino, "not rewritten")
        self.assertEqual(sorted(os.listdir(self.dir)), [".prior", "keyed"])

    @unittest.skipUnless(hasattr(os, "geteuid") and os.geteuid() == 0, "needs root")
    def test_root_gives_new_files_to_the_owner_of_dir(self):
        nobody = 65534
        os.mkdir(self.dir, 0o700)
        os.chown(self.dir, nobody, nobody)
        self.add("site")
        for root, dirs, files in os.walk(os.path.join(self.dir, "site")):
            for n in [root] + [os.path.join(root, f) for f in files]:
                st = os.lstat(n)
                self.assertEqual((st.st_uid, st.st_gid), (nobody, nobody), n)
        st = os.stat(self.keys)
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o777), (nobody, nobody, 0o600))
        # an existing key file keeps its own owner
        os.chown(self.keys, 0, nobody)
        os.chmod(self.keys, 0o640)
        self.add("other")
        st = os.stat(self.keys)
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o777), (0, nobody, 0o640))

    def test_a_key_file_threshd_would_refuse_is_refused(self):
        os.mkdir(self.dir)
        for text, why in (("short x\n", ":1: a key must be 8 to 256"),
                          ("okay-key-0001\n", ":1: a key without a site"),
                          ("okay-key-0001 Site\n", ":1: a site name is"),
                          ("okay-key-0001 a b\n", ":1: expected \"KEY SITE\""),
                          ("# c\nokay-key-0001 a\nokay-key-0001 b\n", ":3: a key given before")):
            self.write("keys", text)
            before = self.snapshot()
            for args in (["add", "new"], ["list"], ["remove", "a", "--yes"]):
                r = self.run_cli("sites", "--sites", self.dir, "--keys", self.keys, *args,
                                 db=False)
                self.assertEqual(r.returncode, 3, (text, args))
                self.assertIn((self.keys + why).encode(), r.stderr, (text, args))
            self.assertEqual(self.snapshot(), before, text)

    def test_a_site_is_made_as_threshd_makes_it(self):
        """A copy of DIR/.prior with a secret derived from .prior's and the
        name: two machines holding copies of one .prior make a site alike
        (a cluster's nodes), and a site's scores are the default model's."""
        self.add("one")
        other = self.path("other")
        os.mkdir(other, 0o700)
        shutil.copytree(os.path.join(self.dir, ".prior"), os.path.join(other, ".prior"))
        self.ok("sites", "--sites", other, "add", "one", db=False)
        self.ok("sites", "--sites", other, "add", "two", db=False)
        secret = {}
        for d, n in ((self.dir, "one"), (other, "one"), (other, "two")):
            with open(os.path.join(d, n, "secret"), "rb") as f:
                secret[(d, n)] = f.read()
        self.assertEqual(secret[(self.dir, "one")], secret[(other, "one")])
        self.assertNotEqual(secret[(other, "one")], secret[(other, "two")])
        with open(os.path.join(self.dir, ".prior", "secret"), "rb") as f:
            self.assertNotEqual(f.read(), secret[(self.dir, "one")], "not .prior's own")
        # scored as a database made from the default model
        made = self.path("made")
        self.ok("--db", made, "init", db=False)
        for text in (SPAM[0], HAM[0]):
            a = self.run_cli("--db", os.path.join(self.dir, "one"), "check", "--format", "json",
                             db=False, stdin=text + "\n")
            b = self.run_cli("--db", made, "check", "--format", "json", db=False,
                             stdin=text + "\n")
            self.assertIn(a.returncode, (0, 1, 2), a.stderr)
            self.assertEqual(json.loads(a.stdout)["score"], json.loads(b.stdout)["score"], text)

    def test_an_akismet_key_is_twelve_hex_digits(self):
        out, _ = self.sites("--akismet-key", "add", "wp")
        m = re.search(r"^key wp: ([0-9a-f]+) \(added to ", out, re.M)
        self.assertIsNotNone(m, out)
        self.assertRegex(m.group(1), r"^[0-9a-f]{12}$")
        self.assertEqual(self.key_lines(), "%s wp\n" % m.group(1))
        r = self.run_cli("sites", "--sites", self.dir, "--akismet-key", "list", db=False)
        self.assertEqual(r.returncode, 3)
        self.assertIn("--akismet-key is for add with --keys FILE", r.stderr.decode())

    def test_list_skips_what_is_not_a_site(self):
        self.add("real")
        for name in (".removed-x", "Upper", "empty"):
            os.mkdir(os.path.join(self.dir, name))
        self.write("sites/notes.txt", "x")
        self.write("sites/thresh.conf", "")
        os.mkdir(os.path.join(self.dir, "junk"))
        self.write("sites/junk/file", "x")
        out, err = self.sites("list", "--json")
        self.assertEqual([d["site"] for d in json.loads(out)], ["real"])
        notes = err.splitlines()
        self.assertEqual(len(notes), 4, err)
        for name, why in (("Upper", "not a site name"), ("empty", "not a thresh database"),
                          ("junk", "not a thresh database"), ("notes.txt", "not a folder")):
            self.assertTrue(any(n.startswith("thresh: note: %s/%s: " % (self.dir, name)) and
                                why in n for n in notes), (name, err))
        # no site at all: a header, or an empty array
        empty = self.path("none")
        os.mkdir(empty)
        out, _ = self.ok("sites", "--sites", empty, "list", db=False)
        self.assertEqual(out, "SITE  SPAM  HAM  TOKENS  LEARNED  BYTES\n")
        out, _ = self.ok("sites", "--sites", empty, "list", "--json", db=False)
        self.assertEqual(json.loads(out), [])

    def test_remove_follows_no_link(self):
        self.add("site")
        outside = self.path("outside")
        os.mkdir(outside)
        self.write("outside/precious", "keep me")
        # a link named like a site, and a link inside a site
        os.symlink(outside, os.path.join(self.dir, "link"))
        os.symlink(outside, os.path.join(self.dir, "site", "escape"))
        r = self.run_cli("sites", "--sites", self.dir, "remove", "link", "--yes", db=False)
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"a symbolic link", r.stderr)
        self.assertTrue(os.path.islink(os.path.join(self.dir, "link")))
        self.sites("remove", "site", "--yes")
        self.assertFalse(os.path.exists(os.path.join(self.dir, "site")))
        self.assertEqual(os.listdir(outside), ["precious"])
        # a folder that is not a database is not removed either
        os.mkdir(os.path.join(self.dir, "plain"))
        self.write("sites/plain/data", "x")
        r = self.run_cli("sites", "--sites", self.dir, "remove", "plain", "--yes", db=False)
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"not a thresh database", r.stderr)
        self.assertTrue(os.path.exists(self.path("sites/plain/data")))

    def test_usage(self):
        self.add("s1")
        before = self.snapshot()
        for args in ([], ["frob"], ["list", "x"], ["add"], ["rename", "s1"], ["add", "a", "b"],
                     ["add", "s2", "--json"], ["list", "--yes"], ["list", "--bogus"],
                     ["--keys", "", "list"], ["--sites", "", "list"]):
            r = self.run_cli("sites", "--sites", self.dir, *args, db=False)
            self.assertEqual(r.returncode, 3, (args, r.stderr))
            self.assertTrue(r.stderr.startswith(b"thresh: sites: "), (args, r.stderr))
            self.assertIn(b"usage: thresh sites", r.stderr)
        r = self.run_cli("sites", "list", db=False)
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"give --sites DIR or set THRESH_SITES", r.stderr)
        r = self.run_cli("--db", self.db, "sites", "--sites", self.dir, "list", db=False)
        self.assertEqual(r.returncode, 3)
        self.assertEqual(self.snapshot(), before)
        self.assertFalse(os.path.exists(self.db))
        # $THRESH_SITES, and a missing folder
        out, _ = self.ok("sites", "list", db=False, env={"THRESH_SITES": self.dir})
        self.assertIn("\ns1 ", out)
        r = self.run_cli("sites", "--sites", self.path("nope"), "list", db=False)
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"nope: No such file", r.stderr)

    @unittest.skipUnless(THRESHD and os.access(THRESHD, os.X_OK), "THRESHD_BIN not set")
    def test_threshd_serves_the_sites_with_their_keys(self):
        k1 = self.add("blog")
        err_path = self.path("threshd.err")
        with open(err_path, "wb") as err:
            proc = subprocess.Popen([THRESHD, "--sites", self.dir, "--keys", self.keys,
                                     "--port", "0", "--threads", "1"],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=err, env=self.env)

        def stderr():
            with open(err_path, "rb") as f:
                return f.read().decode("utf-8", "replace")

        def wait_for(pattern):
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                m = re.search(pattern, stderr())
                if m:
                    return m
                self.assertIsNone(proc.poll(), stderr())
                time.sleep(0.05)
            self.fail("no %r in threshd's stderr: %s" % (pattern, stderr()))

        def stats(key):
            req = urllib.request.Request("http://127.0.0.1:%d/v1/stats" % port,
                                         headers={"Authorization": "Bearer " + key})
            try:
                with urllib.request.urlopen(req, timeout=20) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as e:
                return e.code, None

        try:
            port = int(wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1))
            status, d = stats(k1)
            self.assertEqual((status, d["site"]), (200, "blog"))
            k2 = self.add("shop")
            self.assertNotEqual(stats(k2)[0], 200, "a new key waits for SIGHUP")
            proc.send_signal(signal.SIGHUP)
            wait_for(r"reloaded 2 API keys")
            status, d = stats(k2)
            self.assertEqual((status, d["site"], d["spam_messages"]), (200, "shop", 0))
            self.sites("remove", "blog", "--yes")
            proc.send_signal(signal.SIGHUP)
            wait_for(r"reloaded 1 API key\b")
            self.assertNotEqual(stats(k1)[0], 200, "a removed key is refused")
            self.assertEqual(stats(k2)[0], 200)
        finally:
            proc.terminate()
            proc.wait(20)


class TestDocs(CliTest):
    MAN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "thresh.1")

    @unittest.skipUnless(os.path.exists(MAN), "docs/thresh.1 not found")
    def test_man_page_matches_the_help(self):
        with open(self.MAN, encoding="utf-8") as f:
            man = f.read().replace("\\-", "-").replace("\\fI", "").replace("\\fR", "")
        for cmd in COMMANDS:
            self.assertRegex(man, r"(?m)^\.(TP\n)?\.?B[IR]* \"?%s\b" % cmd, cmd)
            out, _ = self.ok("help", cmd, db=False)
            for opt in set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", out)):
                self.assertIn(opt, man, "thresh %s: %s is not in docs/thresh.1" % (cmd, opt))
        out, _ = self.ok("--help", db=False)
        for word in re.findall(r"\b(?:THRESH_[A-Z]+|XDG_DATA_HOME|TMPDIR)\b", out):
            self.assertIn(word, man)


if __name__ == "__main__":
    if not BIN or not os.access(BIN, os.X_OK):
        sys.exit("test_cli.py: set THRESH_BIN to the thresh binary to test")
    unittest.main(verbosity=2)
