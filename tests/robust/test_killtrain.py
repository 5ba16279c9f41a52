#!/usr/bin/env python3
"""Crash consistency: `thresh train` killed with SIGKILL at random moments.

    THRESH_BIN=build/src/cli/thresh THRESH_PROBE=build/tests/robust/thresh-probe \
        python3 tests/robust/test_killtrain.py

Thirty rounds (fewer when THRESH_ROBUST_SECONDS, default 60, runs out): each
round starts `thresh train --tsv` on the next 40 batches of 1000 spam
comments, kills it with SIGKILL after 0 to 0.6 s (while it opens, learns or
commits), then checks that the database opens (`thresh stats`, and a
read-only snapshot by thresh-probe) and holds exactly whole batches:
spam_messages a multiple of 1000, never less than before, learned ==
spam_messages, the word in every comment counted spam_messages times, each
committed batch's own word counted 1000 times and the next batch's not at
all. The next round goes on from the first batch that is not in.
"""
import json
import os
import random
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import robustlib as rl  # noqa: E402

ROUNDS = 30
AHEAD = 40  # batches in each round's file: more than a round can learn


class KillTrain(unittest.TestCase):
    def test_sigkill_leaves_whole_batches(self):
        rl.need_tools(self)
        seed = int(os.environ.get("THRESH_ROBUST_SEED", str(int(time.time()))))
        rnd = random.Random(seed)
        deadline = rl.Deadline(rl.BUDGET)
        with rl.TempDir("thresh-killtrain-") as tmp:
            db = os.path.join(tmp, "db")
            r = rl.cli(tmp, db, "init", "--empty")
            self.assertEqual(r.returncode, 0, r.stderr)
            done = 0  # batches in
            rounds = kills = 0
            while rounds < ROUNDS and deadline.left() > 3:
                rounds += 1
                data = os.path.join(tmp, "round.tsv")
                rl.write_batches(data, 0, done, AHEAD)
                p = subprocess.Popen([rl.BIN, "--db", db, "train", "--batch", str(rl.BATCH), "--tsv", data],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     env=rl.env(tmp))
                wait = rnd.uniform(0.0, 0.6)
                time.sleep(wait)
                p.send_signal(signal.SIGKILL)
                _, err = p.communicate(timeout=60)
                if p.returncode == -signal.SIGKILL:
                    kills += 1
                else:
                    self.fail("round %d (seed %d): train ended by itself (%d): %s"
                              % (rounds, seed, p.returncode, err.decode(errors="replace")))

                what = "round %d (seed %d, killed after %.3f s)" % (rounds, seed, wait)
                st = rl.cli(tmp, db, "stats", "--json")
                self.assertEqual(st.returncode, 0, "%s: the database does not open: %s"
                                 % (what, st.stderr.decode(errors="replace")))
                stats = json.loads(st.stdout)
                words = ["common"] + ["bm0x%d" % b for b in range(max(0, done - 1), done + AHEAD)]
                s = rl.probe(db, *words)
                spam = s["spam"]
                self.assertEqual(stats["spam_messages"], spam, what)
                self.assertEqual(spam % rl.BATCH, 0, "%s: %d comments is not whole batches"
                                 % (what, spam))
                self.assertGreaterEqual(spam, done * rl.BATCH, "%s: comments were lost" % what)
                self.assertEqual(s["ham"], 0, what)
                self.assertEqual(s["learned"], spam, what)
                self.assertEqual(s["words"]["common"], [spam, 0],
                                 "%s: the word in every comment" % what)
                now = spam // rl.BATCH
                for b in range(max(0, done - 1), done + AHEAD):
                    want = [rl.BATCH, 0] if b < now else [0, 0]
                    self.assertEqual(s["words"]["bm0x%d" % b], want,
                                     "%s: batch %d (%d batches in)" % (what, b, now))
                done = now
            print("%d rounds, %d kills, %d batches (%d comments) in at the end, seed %d"
                  % (rounds, kills, done, done * rl.BATCH, seed))
            self.assertGreaterEqual(rounds, 5, "too few rounds in the time budget")


if __name__ == "__main__":
    unittest.main(verbosity=2)
