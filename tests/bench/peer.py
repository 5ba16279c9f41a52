#!/usr/bin/env python3
"""peer.py - two builds of thresh timed against each other, turn by turn.

    python3 tests/bench/peer.py BUILD_A BUILD_B [--rounds N] [--lib-seconds S]

For each build folder (its src/cli/thresh and tests/bench/thresh-libscore),
a model of both corpora (models/youtube and models/sms, every line, in one
`thresh train --tsv` of an empty database, as compare.py's "both corpora"
model) is made with that build. Then, N rounds, the builds taking turns (A
then B in odd rounds, B then A in even ones, so neither always runs first):

  - the library: thresh-libscore --check on that model and those comments,
    for at least S seconds: thresh_view_check (the fastest pass and the
    median pass) and thresh_check (one read transaction per comment);
  - the command: `thresh check --tsv` of every comment, wall and CPU time
    (the fastest of three runs).

It prints, per build, the fastest of the N rounds (what the machine does
when nothing else gets in the way; the median beside it) and B against A.
The machine is shared, so only figures of one run are compared. Python's
standard library only.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPORA = [os.path.join(ROOT, "models", "youtube", "youtube-spam-collection.tsv"),
           os.path.join(ROOT, "models", "sms", "sms-spam-collection.tsv")]


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def make_model(build, tmp, name, tsv):
    thresh = os.path.join(build, "src", "cli", "thresh")
    db = os.path.join(tmp, name)
    env = dict(os.environ, THRESH_MODEL=os.path.join(tmp, "none.dump"))
    for args in (["init", "--empty"], ["train", "--tsv", tsv]):
        subprocess.run([thresh, "--db", db] + args, check=True, env=env,
                       stdout=subprocess.DEVNULL)
    out = subprocess.run([thresh, "--db", db, "stats", "--json"], check=True, env=env,
                         capture_output=True, text=True).stdout
    return db, json.loads(out)["tokens"]


def libscore(build, db, tsv, seconds):
    exe = os.path.join(build, "tests", "bench", "thresh-libscore")
    out = subprocess.run([exe, "--min-seconds", str(seconds), "--check", db, tsv], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def check_tsv(build, db, tsv, n, times=3):
    """The fastest of a few runs of the command (one is a tenth of a second)."""
    thresh = os.path.join(build, "src", "cli", "thresh")
    best = {"per_second": 0, "cpu_per_second": 0}
    for _ in range(times):
        with open(tsv, "rb") as f, open(os.devnull, "wb") as null:
            c0, t0 = child_cpu(), time.monotonic()
            subprocess.run([thresh, "--db", db, "check", "--tsv", "-"], stdin=f, stdout=null,
                           check=False)
            wall, cpu = time.monotonic() - t0, child_cpu() - c0
        best = {"per_second": max(best["per_second"], n / wall),
                "cpu_per_second": max(best["cpu_per_second"], n / cpu)}
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--lib-seconds", type=float, default=2)
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    builds = {"A": os.path.abspath(args.a), "B": os.path.abspath(args.b)}
    with tempfile.TemporaryDirectory(prefix="thresh-peer-") as tmp:
        tsv = os.path.join(tmp, "all.tsv")
        with open(tsv, "w", encoding="utf-8") as out:
            for c in CORPORA:
                with open(c, encoding="utf-8") as f:
                    out.writelines(line for line in f if line.strip())
        with open(tsv, encoding="utf-8") as f:
            n = sum(1 for _ in f)
        dbs, tokens = {}, {}
        for k, b in builds.items():
            dbs[k], tokens[k] = make_model(b, tmp, "db-" + k, tsv)
        runs = {k: [] for k in builds}
        for r in range(args.rounds):
            order = ["A", "B"] if r % 2 == 0 else ["B", "A"]
            for k in order:
                lib = libscore(builds[k], dbs[k], tsv, args.lib_seconds)
                cmd = check_tsv(builds[k], dbs[k], tsv, n)
                runs[k].append({"view_best": lib["per_second_best"], "view": lib["per_second"],
                                "view_cpu": lib["cpu_per_second"],
                                "check": lib["check_per_second"], "cmd": cmd["per_second"],
                                "cmd_cpu": cmd["cpu_per_second"]})
                print("round %d %s: view %.0f/s (best pass %.0f), thresh_check %.0f/s, "
                      "check --tsv %.0f/s (%.0f/s of CPU)" % (
                          r + 1, k, lib["per_second"], lib["per_second_best"],
                          lib["check_per_second"], cmd["per_second"], cmd["cpu_per_second"]),
                      file=sys.stderr)
    figures = {}
    for k in builds:
        figures[k] = {m: {"best": max(x[m] for x in runs[k]),
                          "median": statistics.median(x[m] for x in runs[k])}
                      for m in runs[k][0]}
    names = [("view_best", "thresh_view_check, fastest pass", True),
             ("view", "thresh_view_check, median pass", False),
             ("view_cpu", "thresh_view_check, by CPU time", False),
             ("check", "thresh_check", False),
             ("cmd", "check --tsv (wall)", False),
             ("cmd_cpu", "check --tsv (CPU)", False)]
    print("%d comments of both corpora; model A %d tokens (%s), B %d tokens (%s); %d rounds, "
          "builds taking turns; load average %s" % (
              n, tokens["A"], args.a, tokens["B"], args.b, args.rounds,
              " ".join(open("/proc/loadavg").read().split()[:3])))
    print("| figure, comments a second | A fastest | B fastest | B / A | A median | B median |")
    print("|---|---:|---:|---:|---:|---:|")
    for m, label, _ in names:
        a, b = figures["A"][m], figures["B"][m]
        print("| %s | %.0f | %.0f | %.3f | %.0f | %.0f |" % (
            label, a["best"], b["best"], b["best"] / a["best"], a["median"], b["median"]))
    for k in builds:
        us = 1e6 / figures[k]["view_best"]["best"]
        print("%s: %.2f us a comment through thresh_view_check (fastest pass of the fastest round)"
              % (k, us))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"n": n, "tokens": tokens, "runs": runs, "figures": figures}, f, indent=1)


if __name__ == "__main__":
    main()
