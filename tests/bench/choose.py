#!/usr/bin/env python3
"""choose.py - choose among configurations of thresh by leave-one-set-out on
newsite runs, so that no set is judged by a choice made on it.

    python3 tests/bench/choose.py --run base= --run p100='--set prior_comments=100'
    python3 tests/bench/choose.py --run old='--thresh build/src/cli/thresh' \\
                                  --run new='--thresh build-exp/src/cli/thresh'
    python3 tests/bench/choose.py base=out-a/newsite.json p100=out-b/newsite.json

A configuration is a name and either the JSON summary of a newsite.py run
(NAME=FILE.json) or the newsite.py options that make one (--run NAME='OPTIONS':
another build with --thresh, parameters with --set or --conf, another recipe
with --recipe-corpora); --common OPTIONS are added to every run (default:
--no-bogofilter --no-cross, which choosing thresh's parameters does not need).

For every configuration and set, the objective is the set's own figure (for a
shuffled set, the mean over its seeds) of one row of the report (default:
thresh default+site), averaged over --ks (default: every k > 0 of the runs).
Then, for each set S in turn:

  choose  among the configurations that meet every --max / --min constraint
          on every set but S, the one with the best mean objective over the
          sets but S (when none meets them, the best of all, flagged);
  judge   S with that choice: its objective, and whether S itself meets the
          constraints.

The mean over S of the judged objective is the leave-one-set-out estimate of
what choosing this way gives a site never seen; beside it, the configuration
best on all sets (what to ship) and its in-sample mean, which flatters it.
Markdown on standard output; --json FILE writes every figure. Python 3
standard library only.
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

LOWER_IS_BETTER = {"ham_rejected", "ham_held", "spam_accepted", "spam_held"}
METRICS = ("auc", "ham_rejected", "ham_held", "spam_accepted", "spam_held")


def log(msg):
    print(f"[choose] {msg}", file=sys.stderr, flush=True)


def parse_k(x):
    x = x.strip()
    return x if x == "all" else int(x)


def parse_bound(spec):
    """METRIC[@K]=VALUE -> (metric, k or None, value)."""
    lhs, eq, value = spec.partition("=")
    metric, at, k = lhs.partition("@")
    if not eq or metric not in METRICS:
        raise argparse.ArgumentTypeError(
            f"{spec!r}: expected METRIC[@K]=VALUE, METRIC one of {', '.join(METRICS)}")
    try:
        return metric, parse_k(k) if at else None, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{spec!r}: expected METRIC[@K]=VALUE")


def run_newsite(name, options, common, out_root):
    out = out_root / name
    cmd = [sys.executable, str(HERE / "newsite.py")] + shlex.split(options) + \
        shlex.split(common) + ["--json", "--out", str(out)]
    log(f"{name}: {shlex.join(cmd[1:])}")
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if p.returncode:
        sys.exit(f"choose.py: {name}: newsite.py failed (exit {p.returncode}):\n"
                 f"{p.stderr.decode(errors='replace')[-3000:]}")
    return out / "newsite.json"


class Config:
    def __init__(self, name, path):
        self.name = name
        self.path = Path(path)
        self.summary = json.loads(self.path.read_text())
        self.rows = {(r["filter"], r["config"], r["set"], r["k"]): r
                     for r in self.summary["rows"]}


def value(cfg, row, s, ks, metric):
    """The mean over ks of set s's metric in cfg, or None when a k lacks it."""
    vals = []
    for k in ks:
        r = cfg.rows.get((row[0], row[1], s, k))
        if r is None or r.get(metric) is None:
            continue
        vals.append(r[metric])
    return sum(vals) / len(vals) if vals else None


def meets(cfg, row, s, ks, bounds):
    """Whether set s meets every bound in cfg; the bounds it fails."""
    failed = []
    for metric, k, limit, kind in bounds:
        for kk in ([k] if k is not None else ks):
            r = cfg.rows.get((row[0], row[1], s, kk))
            x = None if r is None else r.get(metric)
            if x is None:
                continue
            if (kind == "max" and x > limit) or (kind == "min" and x < limit):
                failed.append(f"{metric}@{kk} {x:.4g}")
    return not failed, failed


def mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


def better(metric):
    return (lambda a, b: a < b) if metric in LOWER_IS_BETTER else (lambda a, b: a > b)


def pick(configs, sets, row, ks, metric, bounds):
    """The best configuration on these sets: (config, mean objective,
    whether it meets the bounds on all of them)."""
    cand = []
    for c in configs:
        ok = all(meets(c, row, s, ks, bounds)[0] for s in sets)
        m = mean(value(c, row, s, ks, metric) for s in sets)
        if m is not None:
            cand.append((c, m, ok))
    if not cand:
        return None, None, False
    feasible = [x for x in cand if x[2]] or cand
    b = better(metric)
    best = feasible[0]
    for x in feasible[1:]:
        if b(x[1], best[1]):
            best = x
    return best


def fmt(metric, x):
    if x is None:
        return "–"
    return f"{x:.4f}" if metric == "auc" else f"{x:.2f}%"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("given", nargs="*", metavar="NAME=FILE.json",
                    help="a configuration: the JSON summary of a newsite.py run")
    ap.add_argument("--run", action="append", default=[], metavar="NAME=OPTIONS",
                    help="a configuration: run newsite.py with these options (repeatable)")
    ap.add_argument("--common", default="--no-bogofilter --no-cross", metavar="OPTIONS",
                    help="options added to every --run (default: --no-bogofilter --no-cross)")
    ap.add_argument("--out", default=None, metavar="DIR",
                    help="where the runs' reports go (default: a scratch folder)")
    ap.add_argument("--objective", default="auc", choices=METRICS,
                    help="the figure to optimise (default auc; the rates are minimised)")
    ap.add_argument("--row", default="thresh,default+site", metavar="FILTER,CONFIG",
                    help="the report's row judged (default thresh,default+site)")
    ap.add_argument("--ks", default=None, metavar="LIST",
                    help="the k averaged in the objective (default: every k > 0 of the runs)")
    ap.add_argument("--max", action="append", default=[], type=parse_bound,
                    metavar="METRIC[@K]=VALUE",
                    help="a constraint on every set the choice is made on, at K (default: "
                         "at every k of --ks), e.g. ham_rejected@0=1 (repeatable)")
    ap.add_argument("--min", action="append", default=[], type=parse_bound,
                    metavar="METRIC[@K]=VALUE", help="the same, a lower bound")
    ap.add_argument("--json", default=None, metavar="FILE", help="write every figure here")
    ap.add_argument("--expect", default=None, metavar="NAME",
                    help="exit 1 unless NAME is chosen for every held-out set and to ship "
                         "(for the smoke test)")
    args = ap.parse_args()

    pairs = []
    for spec in args.given:
        name, eq, path = spec.partition("=")
        if not eq or not name:
            ap.error(f"{spec!r}: expected NAME=FILE.json")
        pairs.append((name, path))
    tmp = None
    if args.run:
        out_root = Path(args.out) if args.out else Path(
            tmp := tempfile.mkdtemp(prefix="thresh-choose-"))
        for spec in args.run:
            name, eq, options = spec.partition("=")
            if not eq or not name or "/" in name:
                ap.error(f"--run {spec!r}: expected NAME=OPTIONS (a name without /)")
            pairs.append((name, run_newsite(name, options, args.common, out_root)))
    names = [n for n, _ in pairs]
    if len(pairs) < 2 or len(set(names)) != len(names):
        ap.error("give two configurations or more, with distinct names")
    configs = [Config(n, p) for n, p in pairs]
    row = tuple(x.strip() for x in args.row.split(",", 1))
    if len(row) != 2:
        ap.error("--row: expected FILTER,CONFIG")

    # The sets and ks every configuration has.
    sets = [s for s in configs[0].summary["sets"]
            if all(s in c.summary["sets"] for c in configs[1:])]
    for c in configs:
        extra = set(c.summary["sets"]) - set(sets)
        if extra:
            log(f"{c.name}: sets not in every configuration, left out: {', '.join(sorted(extra))}")
    all_ks = [k for k in configs[0].summary["ks"]
              if all(k in c.summary["ks"] for c in configs[1:])]
    if args.ks:
        ks = [parse_k(x) for x in args.ks.split(",") if x.strip()]
        missing = [k for k in ks if k not in all_ks]
        if missing:
            ap.error(f"--ks: k = {missing} not in every run (they have {all_ks})")
    else:
        ks = [k for k in all_ks if k != 0] or all_ks
    if len(sets) < 2:
        ap.error("leave-one-set-out needs two sets or more in every run")
    for c in configs[1:]:
        for key in ("seeds", "max_scored", "all_share"):
            if c.summary.get(key) != configs[0].summary.get(key):
                log(f"WARNING: {c.name} has {key} {c.summary.get(key)}, "
                    f"{configs[0].name} {configs[0].summary.get(key)}: not the same protocol")
    bounds = [(m, k, v, "max") for m, k, v in args.max] + \
             [(m, k, v, "min") for m, k, v in args.min]
    metric = args.objective

    out = []
    w = out.append
    ks_text = ", ".join(str(k) for k in ks)
    w("## Leave-one-set-out choice")
    w("")
    w(f"- configurations: " + "; ".join(
        f"{c.name} ({c.path}: {c.summary.get('version', '?')}"
        + (f", --set {' '.join(c.summary['set'])}" if c.summary.get("set") else "")
        + (f", --conf {'; '.join(c.summary['conf'])}" if c.summary.get("conf") else "") + ")"
        for c in configs))
    w(f"- objective: {metric} of {row[0]} {row[1]}, "
      f"{'lowest' if metric in LOWER_IS_BETTER else 'highest'} wins, the mean over "
      f"k = {ks_text} of each set's own figure")
    if bounds:
        w("- constraints on every set the choice is made on: " + ", ".join(
            f"{m}{'@' + str(k) if k is not None else ''} {'<=' if kind == 'max' else '>='} {v:g}"
            for m, k, v, kind in bounds))
    w("")
    w(f"### The objective per set ({metric}, mean over k = {ks_text})")
    w("")
    w("| configuration | " + " | ".join(sets) + " | mean |")
    w("|---|" + "---:|" * (len(sets) + 1))
    table = {}
    for c in configs:
        vals = [value(c, row, s, ks, metric) for s in sets]
        table[c.name] = dict(zip(sets, vals))
        marks = []
        for s, v in zip(sets, vals):
            ok, _ = meets(c, row, s, ks, bounds)
            marks.append(fmt(metric, v) + ("" if ok else " ✗"))
        w(f"| {c.name} | " + " | ".join(marks) + f" | {fmt(metric, mean(vals))} |")
    w("")
    if bounds:
        w("✗: the set does not meet a constraint under that configuration.")
        w("")
    w("### Each set judged by the choice made on the others")
    w("")
    w("| held-out set | chosen on the others | their mean | meets the constraints there "
      f"| the set's {metric} under the choice | the set's best (in-sample) "
      "| the set meets the constraints |")
    w("|---|---|---:|---|---:|---|---|")
    loso = []
    for s in sets:
        others = [t for t in sets if t != s]
        c, m, ok = pick(configs, others, row, ks, metric, bounds)
        if c is None:
            continue
        got = value(c, row, s, ks, metric)
        best, bv, _ = pick(configs, [s], row, ks, metric, [])
        sok, failed = meets(c, row, s, ks, bounds)
        loso.append({"set": s, "chosen": c.name, "chosen_mean_on_others": m,
                     "others_meet_constraints": ok, "value": got,
                     "best_in_sample": best.name if best else None, "best_value": bv,
                     "meets_constraints": sok, "failed": failed})
        w(f"| {s} | {c.name} | {fmt(metric, m)} | {'yes' if ok else 'no, none does'} "
          f"| {fmt(metric, got)} | {best.name if best else '–'} ({fmt(metric, bv)}) "
          f"| {'yes' if sok else 'no: ' + ', '.join(failed)} |")
    est = mean(x["value"] for x in loso)
    ship, ship_m, ship_ok = pick(configs, sets, row, ks, metric, bounds)
    w("")
    w(f"Leave-one-set-out estimate (the mean over the held-out sets): **{fmt(metric, est)}**. "
      f"Chosen on all {len(sets)} sets (what to ship): **{ship.name}**, in-sample mean "
      f"{fmt(metric, ship_m)}{'' if ship_ok else ' (no configuration meets the constraints)'}; "
      "the in-sample figure flatters the choice, the estimate does not.")
    text = "\n".join(out)
    print(text, flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({
            "configurations": {c.name: str(c.path) for c in configs},
            "objective": metric, "row": list(row), "ks": ks, "sets": sets,
            "constraints": [{"metric": m, "k": k, "value": v, "kind": kind}
                            for m, k, v, kind in bounds],
            "table": table, "leave_one_set_out": loso, "estimate": est,
            "ship": {"name": ship.name, "mean": ship_m, "meets_constraints": ship_ok},
        }, indent=1) + "\n")
    if tmp and not args.out:
        log(f"the runs' reports are in {tmp}")
    if args.expect:
        got = {x["chosen"] for x in loso} | {ship.name}
        if got != {args.expect}:
            log(f"--expect {args.expect}: chose {', '.join(sorted(got))}")
            return 1
        log(f"--expect {args.expect}: chosen for every held-out set and to ship")
    return 0


if __name__ == "__main__":
    sys.exit(main())
