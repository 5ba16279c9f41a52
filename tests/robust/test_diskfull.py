#!/usr/bin/env python3
"""Resource exhaustion: a database on a file system that fills up.

    THRESH_BIN=build/src/cli/thresh THRESH_PROBE=build/tests/robust/thresh-probe \
        python3 tests/robust/test_diskfull.py

Mounts a 4 MiB tmpfs on a temporary folder (skipped, saying why, when the
test may not mount: it needs root, or CAP_SYS_ADMIN in a container), makes
an empty database there beside a 1 MiB filler file, and trains batch after
batch of 1000 comments until the file system is full. Then:
  - `thresh train` fails with exit status 3 and says "no space left on the
    device" (THRESH_EFULL), naming the batch that was not stored;
  - the database still opens (`thresh stats`, `thresh check`), and holds
    exactly the batches stored before (its counts are those of the last
    successful batch, each batch word 1000 or 0);
  - once the filler is removed, training goes on and stores the next batch.
The tmpfs is unmounted at the end, whatever happened.
"""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import robustlib as rl  # noqa: E402

SIZE = "4m"


def mount_tmpfs(path):
    """None when mounted, else why not."""
    if os.geteuid() != 0:
        return "not root: mounting a small tmpfs needs root (or CAP_SYS_ADMIN)"
    try:
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % SIZE, "tmpfs", path],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    except OSError as e:
        return "cannot run mount: %s" % e
    if r.returncode != 0:
        return "mount -t tmpfs is not permitted here: %s" % r.stdout.decode(errors="replace").strip()
    return None


class DiskFull(unittest.TestCase):
    def test_full_disk_keeps_committed_batches(self):
        rl.need_tools(self)
        with rl.TempDir("thresh-diskfull-") as tmp:
            mnt = os.path.join(tmp, "small")
            os.mkdir(mnt)
            why = mount_tmpfs(mnt)
            if why:
                self.skipTest(why)
            try:
                self.fill_and_check(tmp, mnt)
            finally:
                subprocess.run(["umount", "-l", mnt], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=30)

    def fill_and_check(self, tmp, mnt):
        db = os.path.join(mnt, "db")
        filler = os.path.join(mnt, "filler")
        r = rl.cli(tmp, db, "init", "--empty")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(filler, "wb") as f:
            f.write(b"\0" * (1 << 20))
        data = os.path.join(tmp, "batch.tsv")  # outside the small file system
        stored = 0
        for b in range(200):
            rl.write_batches(data, 0, b, 1)
            r = rl.cli(tmp, db, "train", "--batch", str(rl.BATCH), "--tsv", data)
            if r.returncode != 0:
                break
            stored += 1
        else:
            self.fail("200 batches fit in %s" % SIZE)
        err = r.stderr.decode(errors="replace")
        print("full after %d batches: %s" % (stored, err.strip()))
        self.assertGreater(stored, 0, "not even one batch fit: %s" % err)
        self.assertEqual(r.returncode, 3, err)
        self.assertIn("no space left on the device", err)
        self.assertIn("the batch was not stored", err)

        # the database opens and holds exactly the batches stored
        st = rl.cli(tmp, db, "stats", "--json")
        self.assertEqual(st.returncode, 0, st.stderr)
        self.assertEqual(json.loads(st.stdout)["spam_messages"], stored * rl.BATCH)
        words = ["common"] + ["bm0x%d" % b for b in range(stored + 1)]
        s = rl.probe(db, *words)
        self.assertEqual((s["spam"], s["learned"]), (stored * rl.BATCH, stored * rl.BATCH))
        self.assertEqual(s["words"]["common"], [stored * rl.BATCH, 0])
        for b in range(stored + 1):
            self.assertEqual(s["words"]["bm0x%d" % b], [rl.BATCH if b < stored else 0, 0])
        c = subprocess.run([rl.BIN, "--db", db, "check"], input=b"common words",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=rl.env(tmp), timeout=60)
        self.assertIn(c.returncode, (0, 1, 2), c.stderr)

        # room again: the next batch goes in
        os.unlink(filler)
        rl.write_batches(data, 0, stored, 1)
        r = rl.cli(tmp, db, "train", "--batch", str(rl.BATCH), "--tsv", data)
        self.assertEqual(r.returncode, 0, r.stderr)
        s = rl.probe(db, "common", "bm0x%d" % stored)
        self.assertEqual(s["spam"], (stored + 1) * rl.BATCH)
        self.assertEqual(s["words"]["bm0x%d" % stored], [rl.BATCH, 0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
