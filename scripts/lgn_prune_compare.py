#!/usr/bin/python3
"""Similarity against greedy pruning of a logic-gate network at the same gate budgets: runs
`prunesim lgn prune --similarity|--greedy --gates N` on the ranking data for every budget, scores
each pruned network with `prunesim lgn eval` on the held-out data, writes a CSV and a plot of
top-1 against gate count (docs/logic-networks.md, "Similarity and greedy pruning").

Usage: /usr/bin/python3 scripts/lgn_prune_compare.py --prunesim build/bin/prunesim --net NET.lgn
         --data X_train.npy --labels y_train.npy --eval-data X_test.npy --eval-labels y_test.npy
         --gates 4000,3000,2000 --out OUT_PREFIX [--rounds K] [--title TEXT] [--finetune SPEC]
With --finetune (an `lgn prune --finetune` spec, e.g. "epochs=20,threads=1") every pass also runs
with fine-tuning after it, as the rows and curves "similarity + ft" and "greedy + ft".
--replot --out OUT_PREFIX [--title T] redraws OUT_PREFIX.png from OUT_PREFIX.csv.
Writes OUT_PREFIX.csv and OUT_PREFIX.png (each through a temporary name, renamed at the end).
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

import matplotlib

matplotlib.use("Agg")  # no display: a file is all we want
import matplotlib.pyplot as plt  # noqa: E402


def run_json(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("lgn_prune_compare: %s failed: %s" % (" ".join(cmd), r.stderr.strip()))
    return json.loads(r.stdout)


def evaluate(a, net):
    return run_json([a.eval_prunesim or a.prunesim, "lgn", "eval", net, "--data", a.eval_data, "--labels",
                     a.eval_labels, "--json"])["top1"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--replot", action="store_true", help="only redraw OUT.png from OUT.csv")
    for k in ["prunesim", "net", "data", "labels", "eval-data", "eval-labels", "gates"]:
        p.add_argument("--" + k, default="")
    p.add_argument("--title", default="")
    p.add_argument("--rounds", default="1", help="lgn prune --rounds (re-rank this many times)")
    p.add_argument("--similarity-score", default="outputs", choices=["outputs", "hamming"],
                   help="lgn prune --similarity-score")
    p.add_argument("--finetune", default="", help="also run every pass with lgn prune --finetune SPEC")
    p.add_argument("--eval-prunesim", default="", help="prunesim that runs `lgn eval` (default --prunesim)")
    a = p.parse_args()
    if a.replot:
        with open(a.out + ".csv", newline="") as f:
            plot(list(csv.DictReader(f)), a)
        return
    missing = [k for k in ["prunesim", "net", "data", "labels", "eval_data", "eval_labels", "gates"]
               if not getattr(a, k)]
    if missing:
        p.error("missing --" + ", --".join(m.replace("_", "-") for m in missing))
    budgets = [int(g) for g in a.gates.split(",")]
    rows = [{"pass": "original", "budget": "", "gates": None, "top1": evaluate(a, a.net),
             "top1_train": "", "runtime_s": ""}]
    with tempfile.TemporaryDirectory() as tmp:
        variants = [("similarity", ""), ("greedy", "")]
        if a.finetune:
            variants += [("similarity", a.finetune), ("greedy", a.finetune)]
        for kind, ft in variants:
            label = kind + (" + ft" if ft else "")
            for g in budgets:
                out = os.path.join(tmp, "%s_%d%s.lgn" % (kind, g, "_ft" if ft else ""))
                cmd = [a.prunesim, "lgn", "prune", a.net, "--" + kind, "--gates", str(g), "--data",
                       a.data, "--labels", a.labels, "-o", out, "--json", "--rounds", a.rounds]
                if kind == "similarity":
                    cmd += ["--similarity-score", a.similarity_score]
                if ft:
                    cmd += ["--finetune", ft, "--quiet"]
                j = run_json(cmd)
                if rows[0]["gates"] is None:
                    rows[0]["gates"] = j["gates_simplified"]
                after = j["finetune"] if ft else j
                gates = j["finetune"]["gates"] if ft else j["gates_after"]
                rows.append({"pass": label, "budget": g, "gates": gates, "top1": evaluate(a, out),
                             "top1_train": after["top1_after"], "runtime_s": j["runtime_s"]})
                print("%-17s budget %6d: %6d gates, top-1 %.4f (test), %.4f (ranking data)" % (
                    label, g, gates, rows[-1]["top1"], after["top1_after"]), flush=True)
    tmp_csv = a.out + ".csv.tmp"
    with open(tmp_csv, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp_csv, a.out + ".csv")
    plot(rows, a)



def plot(rows, a):
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    styles = [("similarity", "o--", "C0"), ("greedy", "s--", "C1"),
              ("similarity + ft", "o-", "C0"), ("greedy + ft", "s-", "C1")]
    for kind, style, colour in styles:
        pts = sorted((int(r["gates"]), float(r["top1"])) for r in rows if r["pass"] == kind)
        if pts:
            ax.plot([x for x, _ in pts], [100 * y for _, y in pts], style, color=colour,
                    label=kind, mfc="none" if "ft" not in kind else colour)
    ax.axhline(100 * float(rows[0]["top1"]), color="grey", lw=0.8, ls=":",
               label="unpruned (%d gates)" % int(rows[0]["gates"]))
    ax.set_xscale("log")  # the budgets span two decades; the small ones matter most
    ax.set_xlabel("gates after pruning (two-input gates, log scale)")
    ax.set_ylabel("top-1 on held-out data (%)")
    ax.set_title(a.title or os.path.basename(a.net or a.out))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    tmp_png = a.out + ".tmp.png"
    fig.savefig(tmp_png, dpi=120)
    os.replace(tmp_png, a.out + ".png")


if __name__ == "__main__":
    main()
