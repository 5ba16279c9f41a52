#!/usr/bin/env python3
"""Concurrency: several processes train and several read one database folder.

    THRESH_BIN=build/src/cli/thresh THRESH_PROBE=build/tests/robust/thresh-probe \
        python3 tests/robust/test_concurrent.py

Three `thresh train --tsv` processes each learn 6 batches of 1000 spam
comments of their own into one empty database (whose 4 MiB map must grow
several times on the way), while two thresh-probe --watch readers take
snapshot after snapshot and check in every one that no batch is half there
(each batch's own word counts 1000 or 0, the word in every comment counts
exactly spam_messages, learned == spam_messages, counts never go back) and
that thresh_check works, and a third reader runs `thresh check --format
json` again and again. At the end the counts are exact: 18000 comments,
every batch word 1000 times. Rate limits exact across processes are proved
by tests/robust/test_concurrency.c (ratelimit/exact_across_processes).
"""
import json
import os
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import robustlib as rl  # noqa: E402

WRITERS = 3
BATCHES = 6
READERS = 2


class Concurrent(unittest.TestCase):
    def test_trainers_and_readers(self):
        rl.need_tools(self)
        total = WRITERS * BATCHES * rl.BATCH
        with rl.TempDir("thresh-concurrent-") as tmp:
            db = os.path.join(tmp, "db")
            r = rl.cli(tmp, db, "init", "--empty")
            self.assertEqual(r.returncode, 0, r.stderr)
            files = []
            for w in range(WRITERS):
                files.append(os.path.join(tmp, "w%d.tsv" % w))
                rl.write_batches(files[-1], w, 0, BATCHES)
            budget = max(rl.BUDGET, 20)
            watchers = [subprocess.Popen(
                [rl.PROBE, "--watch", str(budget), "--writers", str(WRITERS),
                 "--batch", str(rl.BATCH), "--total", str(total), db],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(READERS)]

            checks = {"n": 0, "bad": []}
            stop = threading.Event()

            def checker():
                while not stop.is_set():
                    c = subprocess.run([rl.BIN, "--db", db, "check", "--format", "json"],
                                       input=b"common words in a comment", stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, env=rl.env(tmp), timeout=60)
                    checks["n"] += 1
                    try:
                        ok = c.returncode in (0, 1, 2) and json.loads(c.stdout)["verdict"]
                    except ValueError:
                        ok = False
                    if not ok:
                        checks["bad"].append((c.returncode, c.stdout, c.stderr))

            th = threading.Thread(target=checker)
            th.start()
            try:
                trainers = [subprocess.Popen([rl.BIN, "--db", db, "train", "--batch", str(rl.BATCH), "--tsv", f],
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                             env=rl.env(tmp)) for f in files]
                outs = [p.communicate(timeout=budget + 60) for p in trainers]
            finally:
                stop.set()
                th.join()
            for p, (out, err) in zip(trainers, outs):
                self.assertEqual(p.returncode, 0, err.decode(errors="replace"))
                self.assertIn(b"%d learned" % (BATCHES * rl.BATCH), out)
            for w in watchers:
                out, err = w.communicate(timeout=budget + 60)
                print("reader:", out.decode().strip())
                self.assertEqual(w.returncode, 0, (out + err).decode(errors="replace"))
            self.assertEqual(checks["bad"], [], "thresh check failed while training")
            print("thresh check ran %d times while training" % checks["n"])

            words = ["common"] + ["bm%dx%d" % (w, b) for w in range(WRITERS)
                                  for b in range(BATCHES + 1)]
            s = rl.probe(db, *words)
            self.assertEqual((s["spam"], s["ham"], s["learned"]), (total, 0, total))
            self.assertEqual(s["words"]["common"], [total, 0])
            for w in range(WRITERS):
                for b in range(BATCHES + 1):
                    self.assertEqual(s["words"]["bm%dx%d" % (w, b)],
                                     [rl.BATCH if b < BATCHES else 0, 0], "bm%dx%d" % (w, b))
            self.assertGreater(s["map_size"], 4 << 20, "the map grew while readers read")


if __name__ == "__main__":
    unittest.main(verbosity=2)
