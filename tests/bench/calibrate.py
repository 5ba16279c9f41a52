#!/usr/bin/env python3
"""calibrate.py - choose the score's calibration and the cutoffs for a new
site, by nested leave-one-video-out, and report how the choice does on the
video it never saw.

    python3 tests/bench/calibrate.py --thresh build/src/cli/thresh

A new site is a video whose comments the default model never saw. For every
video V of the YouTube Spam Collection and every other video U, a default
model is built with the build's own recipe (models/build-model.sh, the
corpora and weights of models/meson.build) from the YouTube comments of
neither U nor V, and scores U: the inner scores of V. From them alone:

  calibration  nb_scale and nb_shift: a logistic regression of the label on
               the classifier's raw value x (its score with scale 1 and
               shift 0 is sigmoid(x)), so the score is the probability that
               a comment of a new site is spam;
  reject       the lowest cutoff at which the comments rejected (the score
               at or over it, on at least reject_min_tokens seen tokens)
               hold at most 0.5% of the ham pooled and 1% of any one video's;
  hold         the highest cutoff, not over reject, at which at most 3% of
               the spam is accepted pooled and 5% of any one video's (the
               score under it and no link rule).

Then V is scored by the model without V alone (the outer score) and judged
with what its inner scores chose: V's labels choose nothing about V. The
report gives those nested figures per video and pooled, and the values the
same procedure picks from all five videos' outer scores, which are what
thresh ships (src/lib/model.c). Everything goes through the thresh command
as a site uses it; two checks a comment tell the rules apart: with both
cutoffs at 0 the verdict shows whether the model has seen enough of it to
reject (reject) or not (hold), with both at 1 whether the link rule holds
it. Python 3 standard library only; about 30 seconds on 2 cores.
"""
import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import newsite as ns  # noqa: E402  (the benchmark's own readers and runner)

HAM_REJECTED_POOLED = 0.5   # % of ham, pooled
HAM_REJECTED_VIDEO = 1.0    # % of any one video's ham
SPAM_ACCEPTED = 3.0         # % of spam, pooled
SPAM_ACCEPTED_VIDEO = 5.0   # % of any one video's spam


def sigmoid(z):
    return 1 / (1 + math.exp(-z)) if z > -700 else 0.0


def fit_logistic(xs, ys, iters=50):
    """(a, b) of P(y=1) = sigmoid(a x + b) by Newton's method."""
    a, b = 1.0, 0.0
    for _ in range(iters):
        ga = gb = haa = hab = hbb = 0.0
        for x, y in zip(xs, ys):
            p = sigmoid(a * x + b)
            w = p * (1 - p)
            ga += (y - p) * x
            gb += (y - p)
            haa += w * x * x
            hab += w * x
            hbb += w
        det = haa * hbb - hab * hab
        if det <= 0:
            break
        da = (hbb * ga - hab * gb) / det
        db = (haa * gb - hab * ga) / det
        a, b = a + da, b + db
        if abs(da) < 1e-10 and abs(db) < 1e-10:
            break
    return a, b


class Scores:
    """Raw values of one video's comments under one model, with what the
    rules need: the label, seen enough to reject, held by the link rule."""

    def __init__(self, video, labels, xs, can_reject, links):
        self.video, self.labels, self.xs = video, labels, xs
        self.can_reject, self.links = can_reject, links


def score_video(th, work, tag, corpora, video_items, name):
    """Build the model of corpora, score video_items with it (two runs)."""
    dump = work / f"{tag}.dump"
    th.build_model(dump, corpora)
    labels = [lab for lab, _ in video_items]
    tsv = work / f"{tag}.tsv"
    ns.write_tsv(tsv, video_items)
    out = {}
    for run, cut in (("gate", "0"), ("links", "1")):
        db = work / f"{tag}-{run}"
        th.new_db(db, dump)
        order = ("hold_cutoff", "reject_cutoff") if cut == "0" else ("reject_cutoff", "hold_cutoff")
        for name_, value in (("nb_scale", "1"), ("nb_shift", "0"), ("blatant_cutoff", "1"),
                             (order[0], cut), (order[1], cut)):
            th._run(["--db", db, "set", name_, value])
        out[run] = th.check(db, tsv, len(video_items))
    scores, gate = out["gate"]
    _, links = out["links"]
    xs = [math.log(s / (1 - s)) if 0 < s < 1 else (-30.0 if s <= 0 else 30.0) for s in scores]
    reject, hold = ns.VERDICTS["reject"], ns.VERDICTS["hold"]
    return Scores(name, labels, xs, [v == reject for v in gate], [v == hold for v in links])


def verdicts(s, a, b, hold, reject):
    out = []
    for x, can, link in zip(s.xs, s.can_reject, s.links):
        p = sigmoid(a * x + b)
        if p >= reject and can:
            out.append("reject")
        elif p >= hold or p >= reject or link:
            out.append("hold")
        else:
            out.append("accept")
    return out


def rates(labels, verds):
    ham = [v for lab, v in zip(labels, verds) if not lab]
    spam = [v for lab, v in zip(labels, verds) if lab]
    pct = lambda xs, w: 100.0 * sum(v == w for v in xs) / max(len(xs), 1)
    return {"ham_rejected": pct(ham, "reject"), "ham_held": pct(ham, "hold"),
            "spam_accepted": pct(spam, "accept"), "spam_held": pct(spam, "hold"),
            "n": len(labels), "spam": len(spam)}


def within(sets, verdicts_of, label, verdict, video_max, pooled_max):
    """Whether the comments of one label given one verdict (in %) stay within
    video_max on every set and within pooled_max over all of them."""
    hit = tot = 0
    ok = True
    for s in sets:
        v = verdicts_of(s)
        xs = [vv for lab, vv in zip(s.labels, v) if bool(lab) == label]
        k = sum(vv == verdict for vv in xs)
        hit += k
        tot += len(xs)
        if 100.0 * k / max(len(xs), 1) > video_max:
            ok = False
    return ok and 100.0 * hit / max(tot, 1) <= pooled_max


def choose(sets):
    """Calibration and cutoffs from a list of Scores (see the docstring)."""
    xs = [x for s in sets for x in s.xs]
    ys = [y for s in sets for y in s.labels]
    a, b = fit_logistic(xs, ys)
    probs = sorted({round(sigmoid(a * x + b), 4) for x in xs} | {1.0})
    reject = next((r for r in probs
                   if within(sets, lambda s: verdicts(s, a, b, 0.0, r), False, "reject",
                             HAM_REJECTED_VIDEO, HAM_REJECTED_POOLED)), 1.0)
    hold = next((h for h in reversed([p for p in probs if p <= reject])
                 if within(sets, lambda s: verdicts(s, a, b, h, reject), True, "accept",
                           SPAM_ACCEPTED_VIDEO, SPAM_ACCEPTED)), 0.0)
    return a, b, hold, reject


def auc(scores, labels):
    pairs = sorted(zip(scores, labels))
    n1 = sum(labels)
    n0 = len(labels) - n1
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        avg = (i + j + 1) / 2.0
        rank_sum += avg * sum(lab for _, lab in pairs[i:j])
        i = j
    return (rank_sum - n1 * (n1 + 1) / 2.0) / max(n1 * n0, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--thresh", default=str(ns.ROOT / "build" / "src" / "cli" / "thresh"))
    ap.add_argument("--json", help="write the chosen values and the nested figures here")
    ap.add_argument("--weights", metavar="W,W...",
                    help="what a comment of each corpus of the recipe counts as, in its order "
                         "(default: models/meson.build's); 0 leaves a corpus out")
    ap.add_argument("--show-ham", type=int, default=0, metavar="N",
                    help="also list the N ham comments that score highest (shipped values)")
    args = ap.parse_args()
    recipe, _ = ns.recipe_corpora_from_meson()
    weights = [ns.RECIPE_WEIGHTS.get(Path(p).resolve(), "1") for p in recipe]
    if args.weights:
        weights = args.weights.split(",")
        if len(weights) != len(recipe):
            ap.error(f"--weights: {len(recipe)} weights, one per corpus of the recipe")
    yt_idx = next(i for i, p in enumerate(recipe) if Path(p).resolve() == ns.YOUTUBE_TSV.resolve())
    videos = [ns.read_video(p) for p in sorted(ns.MODELS.glob("youtube/Youtube0*.csv"))]
    for v in videos:
        ns.order_video(v, "last")
    with tempfile.TemporaryDirectory(prefix="thresh-calibrate-") as tmp:
        work = Path(tmp)
        th = ns.Thresh(args.thresh, work, [], [], ns.RECIPE)

        def corpora_without(skip):
            yt = work / ("yt-without-" + "-".join(sorted(v.name for v in skip)) + ".tsv")
            with open(yt, "wb") as f:
                for o in videos:
                    if o not in skip:
                        for line in o.lines:
                            f.write(line + b"\n")
            c = list(recipe)
            c[yt_idx] = yt
            return [(p, w) for p, w in zip(c, weights) if float(w) > 0]

        items = {v.name: [(it[0], it[1]) for it in v.items] for v in videos}
        outer = {}
        inner = {v.name: [] for v in videos}
        for v in videos:
            ns.log(f"outer: {v.name}")
            outer[v.name] = score_video(th, work, f"o-{v.name}", corpora_without([v]),
                                        items[v.name], v.name)
            for u in videos:
                if u is not v:
                    inner[v.name].append(score_video(th, work, f"i-{v.name}-{u.name}",
                                                     corpora_without([u, v]), items[u.name], u.name))
    rows = []
    pooled_labels, pooled_verds, pooled_p = [], [], []
    for v in videos:
        a, b, h, r = choose(inner[v.name])
        s = outer[v.name]
        vd = verdicts(s, a, b, h, r)
        p = [sigmoid(a * x + b) for x in s.xs]
        m = rates(s.labels, vd)
        m.update(video=v.name, auc=auc(p, s.labels), nb_scale=a, nb_shift=b, hold=h, reject=r)
        rows.append(m)
        pooled_labels += s.labels
        pooled_verds += vd
        pooled_p += p
    pm = rates(pooled_labels, pooled_verds)
    pm.update(video="all five", auc=auc(pooled_p, pooled_labels))
    a, b, h, r = choose([outer[v.name] for v in videos])
    all_p = [(sigmoid(a * x + b), lab) for v in videos for x, lab in zip(outer[v.name].xs,
                                                                          outer[v.name].labels)]
    max_ham = max(p for p, lab in all_p if not lab)
    print("### Nested leave-one-video-out (k = 0): each video judged by what the other four chose\n")
    print("| video | n (spam) | nb_scale | nb_shift | hold | reject | AUC | ham rejected % | "
          "ham held % | spam accepted % | spam held % |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for m in rows + [pm]:
        cal = (f"{m['nb_scale']:.3f} | {m['nb_shift']:.3f} | {m['hold']:.4f} | {m['reject']:.4f}"
               if "hold" in m else "| | |")
        print(f"| {m['video']} | {m['n']} ({m['spam']}) | {cal} | {m['auc']:.4f} | "
              f"{m['ham_rejected']:.2f} | {m['ham_held']:.2f} | {m['spam_accepted']:.2f} | "
              f"{m['spam_held']:.2f} |")
    print(f"\n### Chosen from all five videos' outer scores (what thresh ships)\n")
    print(f"nb_scale {a:.4f}, nb_shift {b:.4f}, hold_cutoff {h:.4f}, reject_cutoff {r:.4f}; "
          f"the highest score of any ham: {max_ham:.4f}")
    if args.show_ham:
        texts = {v.name: [it[1] for it in v.items] for v in videos}
        ham = sorted(((sigmoid(a * x + b), v.name, can, texts[v.name][i])
                      for v in videos for i, (x, lab, can) in enumerate(zip(
                          outer[v.name].xs, outer[v.name].labels, outer[v.name].can_reject))
                      if not lab), reverse=True)[:args.show_ham]
        print("\n| score | video | enough seen to reject | text |\n|---:|---|---|---|")
        for p, name, can, t in ham:
            print(f"| {p:.4f} | {name} | {'yes' if can else 'no'} | "
                  f"{t.decode(errors='replace')[:120].replace('|', '/')} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"nested": rows, "pooled": pm, "ship": {
            "nb_scale": a, "nb_shift": b, "hold_cutoff": h, "reject_cutoff": r,
            "max_ham_score": max_ham}}, indent=1) + "\n")


if __name__ == "__main__":
    main()
