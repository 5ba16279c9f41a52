#!/usr/bin/env python3
"""Tests of the Python module plugin/python/thresh.py against a real libthresh
and real database folders.

    THRESH_LIB=build/src/lib/libthresh.so THRESH_BIN=build/src/cli/thresh \
        [THRESH_MODEL=build/models/default.dump] python3 tests/plugins/test_python.py

Every database is made with `thresh init --empty` and trained with
`thresh train --tsv` on a fixture this file writes, so the verdicts are
certain. THRESH_MODEL is only needed by the test of Database(create=True).
Python's standard library only.
"""
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # leave no __pycache__ in plugin/python
sys.path.insert(0, os.path.join(HERE, "..", "..", "plugin", "python"))
import thresh  # noqa: E402

BIN = os.environ.get("THRESH_BIN", "")
LIB = os.environ.get("THRESH_LIB", "")
MODEL = os.environ.get("THRESH_MODEL", "")

SPAM_WORDS = ["cheap", "pills", "casino", "viagra", "lottery", "winner", "prize", "bitcoin",
              "jackpot", "discount"]
HAM_WORDS = ["lovely", "article", "thanks", "recipe", "garden", "kitten", "weather", "poetry",
             "museum", "violin"]


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from fixtures import comments  # noqa: E402  (tests/fixtures.py)


SPAM = comments(SPAM_WORDS, 40, 1)
HAM = comments(HAM_WORDS, 40, 2)
SPAM_TEXT = "cheap viagra pills casino jackpot winner"
HAM_TEXT = "thanks for the lovely recipe from the garden"


def make_db(folder):
    """A database in folder/db: empty, trained on the fixture; returns its path."""
    db = os.path.join(folder, "db")
    tsv = os.path.join(folder, "fixture.tsv")
    with open(tsv, "w", encoding="utf-8") as f:
        for t in SPAM:
            f.write(f"spam\t{t}\n")
        for t in HAM:
            f.write(f"ham\t{t}\n")
    subprocess.run([BIN, "--db", db, "init", "--empty"], check=True, capture_output=True)
    subprocess.run([BIN, "--db", db, "train", "--tsv", tsv], check=True, capture_output=True)
    return db


@unittest.skipUnless(BIN, "THRESH_BIN is not set")
class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="thresh-py-")
        self.path = make_db(self.tmp)
        self.db = thresh.Database(self.path, library=LIB or None)
        self.n = 0

    def tearDown(self):
        self.db.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def email(self):
        """A new author each time, so no rate limit or author record interferes."""
        self.n += 1
        return f"author{self.n}@example.org"


class TestLoad(unittest.TestCase):
    def test_table_layout(self):
        # abi, size, 9 function pointers, 16 spare slots
        p = ctypes.sizeof(ctypes.c_void_p)
        self.assertEqual(ctypes.sizeof(thresh._Plugin), 8 + 9 * p + 16 * p)
        self.assertEqual(thresh._Plugin.spare.offset, 8 + 9 * p)

    def test_version(self):
        self.assertRegex(thresh.library_version(LIB or None), r"^\d+\.\d+\.\d+")

    def test_load_twice_same_library(self):
        self.assertIs(thresh.load(LIB or None), thresh.load(LIB or None))

    def test_wrong_abi_refused(self):
        cdll = thresh.load(LIB or None).cdll
        with self.assertRaises(thresh.Error) as cm:
            thresh._get_table(cdll, abi=99)
        self.assertEqual(cm.exception.code, thresh.EABI)
        self.assertEqual(cm.exception.code, -17)
        self.assertEqual(cm.exception.name, "THRESH_EABI")
        self.assertIn("ABI 99", str(cm.exception))
        with self.assertRaises(thresh.Error) as cm:
            thresh._get_table(cdll, abi=0)
        self.assertEqual(cm.exception.code, thresh.EABI)

    def test_larger_table_refused(self):
        cdll = thresh.load(LIB or None).cdll
        with self.assertRaises(thresh.Error) as cm:
            thresh._get_table(cdll, size=ctypes.sizeof(thresh._Plugin) + 8)
        self.assertEqual(cm.exception.code, thresh.EABI)

    def test_smaller_abi1_table_accepted(self):
        # an older ABI 1 integration without the spare slots is a prefix
        cdll = thresh.load(LIB or None).cdll
        t = thresh._get_table(cdll, size=thresh._Plugin.spare.offset)
        self.assertEqual(t.abi, 1)

    def test_missing_library(self):
        with self.assertRaises(OSError):
            thresh.load("/nonexistent/libthresh.so.0")

    def test_not_libthresh(self):
        libc = ctypes.util.find_library("c")
        with self.assertRaises(thresh.Error) as cm:
            thresh.load(libc)
        self.assertEqual(cm.exception.code, thresh.EABI)

    def test_is_field(self):
        for name in ["content", "comment_content", "author", "comment_author_email", "user_ip",
                     "ip", "user_agent", "referrer", "referer", "permalink", "comment_type",
                     "blog_lang", "honeypot", "form_age"]:
            self.assertTrue(thresh.is_field(name, LIB or None), name)
        for name in ["", "submit", "_wpnonce", "Content"]:
            self.assertFalse(thresh.is_field(name, LIB or None), name)


class TestOpen(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="thresh-py-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_missing_db_is_enoent(self):
        with self.assertRaises(thresh.Error) as cm:
            thresh.Database(os.path.join(self.tmp, "nothing"), library=LIB or None)
        self.assertEqual(cm.exception.code, thresh.ENOENT)
        self.assertEqual(cm.exception.code, -8)
        self.assertTrue(cm.exception.message)

    def test_error_is_exception_with_text(self):
        try:
            thresh.Database(os.path.join(self.tmp, "nothing"), library=LIB or None)
        except Exception as e:  # noqa: BLE001 - what a caller would catch
            self.assertIsInstance(e, thresh.Error)
            self.assertIn("THRESH_ENOENT", str(e))

    @unittest.skipUnless(MODEL and BIN, "THRESH_MODEL is not set")
    def test_create_from_default_model(self):
        path = os.path.join(self.tmp, "new")
        old = os.environ.get("THRESH_MODEL")
        os.environ["THRESH_MODEL"] = MODEL
        try:
            with thresh.Database(path, create=True, library=LIB or None) as db:
                r = db.check(content="Check out my channel, subscribe and win a free iPhone "
                                     "http://free-prizes.example.com", email="x@spam.example")
                self.assertIn(r.verdict, thresh.VERDICTS)
                self.assertGreater(r.score, 0.5)
        finally:
            if old is None:
                del os.environ["THRESH_MODEL"]
        self.assertTrue(os.path.isdir(path))

    @unittest.skipUnless(BIN, "THRESH_BIN is not set")
    def test_config_argument(self):
        path = make_db(self.tmp)
        conf = os.path.join(self.tmp, "other.conf")
        with open(conf, "w") as f:
            f.write("disallowed_words = rhubarb\n")
        with thresh.Database(path, config=conf, library=LIB or None) as db:
            r = db.check(content="thanks for the lovely rhubarb recipe", email="c@example.org")
        self.assertEqual(r.verdict, "reject")
        self.assertIn("disallowed_word", r.reasons)

    @unittest.skipUnless(BIN, "THRESH_BIN is not set")
    def test_bad_config_is_econfig(self):
        path = make_db(self.tmp)
        conf = os.path.join(self.tmp, "bad.conf")
        with open(conf, "w") as f:
            f.write("no_such_key = 1\n")
        with self.assertRaises(thresh.Error) as cm:
            thresh.Database(path, config=conf, library=LIB or None)
        self.assertEqual(cm.exception.code, thresh.ECONFIG)
        self.assertIn("no_such_key", cm.exception.message)


class TestCheck(Base):
    def test_spam_is_rejected(self):
        r = self.db.check(content=SPAM_TEXT, author="Spammer", email=self.email())
        self.assertIsInstance(r, thresh.Result)
        self.assertEqual(r.verdict, "reject")
        self.assertTrue(r.is_spam)
        self.assertGreater(r.score, 0.5)
        self.assertIn("bayes", r.reasons)
        self.assertEqual(r.retry_after, 0.0)

    def test_ham_is_accepted(self):
        r = self.db.check(content=HAM_TEXT, author="Reader", email=self.email(),
                          url="https://reader.example.org/", ip="192.0.2.7",
                          user_agent="Mozilla/5.0", referrer="https://blog.example.org/post",
                          permalink="https://blog.example.org/post", type="comment", lang="en")
        self.assertEqual(r.verdict, "accept", r)
        self.assertLess(r.score, 0.5)
        self.assertEqual(r.reasons, [])
        self.assertFalse(r.blatant)

    def test_akismet_names_and_mapping(self):
        a = self.db.check(content=SPAM_TEXT, email=self.email())
        b = self.db.check({"comment_content": SPAM_TEXT, "comment_author_email": self.email()})
        c = self.db.check({"comment_content": SPAM_TEXT}, user_ip="198.51.100.9")
        self.assertAlmostEqual(a.score, b.score)
        self.assertAlmostEqual(a.score, c.score)

    def test_none_is_skipped(self):
        a = self.db.check(content=HAM_TEXT, email=self.email(), url=None, author=None)
        b = self.db.check(content=HAM_TEXT, email=self.email())
        self.assertAlmostEqual(a.score, b.score)

    def test_honeypot_rejects(self):
        r = self.db.check(content=HAM_TEXT, email=self.email(), honeypot="http://bot.example")
        self.assertEqual(r.verdict, "reject")
        self.assertIn("honeypot", r.reasons)
        self.assertTrue(r.blatant)

    def test_form_age_number(self):
        r = self.db.check(content=HAM_TEXT, email=self.email(), form_age=1)
        self.assertEqual(r.verdict, "hold")
        self.assertIn("too_fast", r.reasons)
        r = self.db.check(content=HAM_TEXT, email=self.email(), form_age=30.5)
        self.assertEqual(r.verdict, "accept", r)

    def test_rate_limit_from_one_email(self):
        email = self.email()
        results = [self.db.check(content=f"{HAM_TEXT} {i}", email=email) for i in range(4)]
        for r in results[:3]:
            self.assertNotIn("rate_limited", r.reasons)
        self.assertIn("rate_limited", results[3].reasons)
        self.assertEqual(results[3].verdict, "reject")
        self.assertGreater(results[3].retry_after, 0)
        self.assertLessEqual(results[3].retry_after, 60)
        # another author is not limited
        self.assertNotIn("rate_limited", self.db.check(content=HAM_TEXT, email=self.email()).reasons)

    def test_readonly_keeps_no_rate_state(self):
        self.db.close()
        self.db = thresh.Database(self.path, readonly=True, library=LIB or None)
        email = self.email()
        for _ in range(6):
            r = self.db.check(content=HAM_TEXT, email=email)
            self.assertNotIn("rate_limited", r.reasons)
        with self.assertRaises(thresh.Error) as cm:
            self.db.learn("ham", content=HAM_TEXT)
        self.assertEqual(cm.exception.code, thresh.EREADONLY)

    def test_threads_share_one_database(self):
        errors, scores = [], []
        lock = threading.Lock()

        def work(t):
            try:
                for i in range(50):
                    r = self.db.check(content=SPAM_TEXT if i % 2 else HAM_TEXT,
                                      email=f"t{t}-{i}@example.org")
                    with lock:
                        scores.append((i % 2, r.score))
            except Exception as e:  # noqa: BLE001
                errors.append(e)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(scores), 400)
        self.assertEqual(len({round(s, 9) for k, s in scores if k}), 1)
        self.assertEqual(len({round(s, 9) for k, s in scores if not k}), 1)


class TestLearn(Base):
    NEW = "zorblax frobnicate quuxly wibblefest"

    def test_learn_changes_later_verdicts(self):
        before = self.db.check(content=self.NEW, email=self.email())
        self.assertNotEqual(before.verdict, "reject")
        variants = [f"{self.NEW} offer{i}" for i in range(6)]
        for v in variants:
            self.db.learn("spam", content=v)
        after = self.db.check(content=self.NEW, email=self.email())
        self.assertEqual(after.verdict, "reject", after)
        self.assertGreater(after.score, before.score)
        # unlearning takes exactly that back
        for v in variants:
            self.db.unlearn("spam", content=v)
        again = self.db.check(content=self.NEW, email=self.email())
        self.assertAlmostEqual(again.score, before.score, places=9)

    def test_learn_ham_moves_spam(self):
        before = self.db.check(content=self.NEW, email=self.email())
        variants = [f"{self.NEW} note{i}" for i in range(6)]
        for v in variants:
            self.db.learn("spam", {"comment_content": v})
            self.db.learn("spam", {"comment_content": v})  # a duplicate counts once
        spammy = self.db.check(content=self.NEW, email=self.email())
        for v in variants:
            self.db.learn("ham", {"comment_content": v})  # moves it
        hammy = self.db.check(content=self.NEW, email=self.email())
        self.assertGreater(spammy.score, before.score)
        self.assertLess(hammy.score, before.score)
        self.assertNotEqual(hammy.verdict, "reject")

    def test_bad_label(self):
        for label in ["Spam", "", None, 1]:
            with self.assertRaises(ValueError):
                self.db.learn(label, content=HAM_TEXT)

    def test_unlearn_not_learned_is_harmless(self):
        before = self.db.check(content=HAM_TEXT, email=self.email())
        self.db.unlearn("spam", content="never learned this one")
        after = self.db.check(content=HAM_TEXT, email=self.email())
        self.assertAlmostEqual(before.score, after.score)


class TestErrors(Base):
    def assertCode(self, code, fn, *a, **kw):
        with self.assertRaises(thresh.Error) as cm:
            fn(*a, **kw)
        self.assertEqual(cm.exception.code, code, cm.exception)
        self.assertTrue(cm.exception.message)
        return cm.exception

    def test_surrogate_is_clean_eutf8(self):
        for fn in (self.db.check, lambda **kw: self.db.learn("spam", **kw)):
            e = self.assertCode(thresh.EUTF8, fn, content="ok \ud800 ok")
            self.assertIn("content", e.message)
        self.assertCode(thresh.EUTF8, self.db.check, content=HAM_TEXT, author="\udcff")

    def test_invalid_utf8_bytes_is_eutf8(self):
        self.assertCode(thresh.EUTF8, self.db.check, content=b"caf\xe9")
        self.assertCode(thresh.EUTF8, self.db.check, content=b"\xed\xa0\x80")  # CESU surrogate

    def test_nul_is_enul(self):
        self.assertCode(thresh.ENUL, self.db.check, content="a\0b")
        self.assertCode(thresh.ENUL, self.db.check, content=b"a\0b")

    def test_unknown_field_is_efield(self):
        e = self.assertCode(thresh.EFIELD, self.db.check, content=HAM_TEXT, submit="Post")
        self.assertIn("submit", e.message)

    def test_too_big_is_etoobig(self):
        self.assertCode(thresh.ETOOBIG, self.db.check, content="a" * 65537)
        self.assertCode(thresh.ETOOBIG, self.db.check, content=HAM_TEXT, author="a" * 4097)

    def test_bad_form_age_is_einval(self):
        self.assertCode(thresh.EINVAL, self.db.check, content=HAM_TEXT, form_age="soon")

    def test_bad_type(self):
        with self.assertRaises(TypeError):
            self.db.check(content=["a list"])

    def test_failed_learn_stores_nothing(self):
        before = self.db.check(content=TestLearn.NEW, email=self.email())
        for _ in range(5):
            self.assertCode(thresh.EUTF8, self.db.learn, "spam", content=TestLearn.NEW,
                            author=b"\xff")
        after = self.db.check(content=TestLearn.NEW, email=self.email())
        self.assertAlmostEqual(before.score, after.score)

    def test_closed(self):
        self.db.close()
        self.db.close()
        with self.assertRaises(ValueError):
            self.db.check(content=HAM_TEXT)
        with thresh.Database(self.path, library=LIB or None) as db:
            self.assertEqual(db.check(content=SPAM_TEXT, email=self.email()).verdict, "reject")
        self.assertIn("closed", repr(db))

    def test_fork_refused(self):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                self.db.check(content=HAM_TEXT)
            except RuntimeError:
                code = 0
            except BaseException:  # noqa: BLE001
                code = 2
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        # the parent's handle still works
        self.assertEqual(self.db.check(content=SPAM_TEXT, email=self.email()).verdict, "reject")


class TestReload(Base):
    def setUp(self):
        super().setUp()
        # the library re-reads the configuration file found at open: make one
        self.conf = os.path.join(self.path, "thresh.conf")
        with open(self.conf, "w") as f:
            f.write("hold_links = 2\n")
        self.db.close()
        self.db = thresh.Database(self.path, library=LIB or None)

    def test_reload_reads_thresh_conf(self):
        text = "thanks for the lovely rhubarb recipe"
        self.assertNotIn("disallowed_word", self.db.check(content=text, email=self.email()).reasons)
        with open(self.conf, "w") as f:
            f.write("disallowed_words = rhubarb\n")
        self.db.reload()
        r = self.db.check(content=text, email=self.email())
        self.assertEqual(r.verdict, "reject")
        self.assertIn("disallowed_word", r.reasons)

    def test_bad_reload_keeps_config(self):
        with open(self.conf, "w") as f:
            f.write("disallowed_words = rhubarb\n")
        self.db.reload()
        with open(self.conf, "w") as f:
            f.write("rate_limit = many\n")
        with self.assertRaises(thresh.Error) as cm:
            self.db.reload()
        self.assertEqual(cm.exception.code, thresh.ECONFIG)
        self.assertIn("thresh.conf", cm.exception.message)
        r = self.db.check(content="rhubarb", email=self.email())
        self.assertIn("disallowed_word", r.reasons)


if __name__ == "__main__":
    unittest.main(verbosity=2)
