#!/usr/bin/python3
"""Draws a `prunesim search` points CSV in two panels: fidelity against energy per inference (uJ)
and fidelity against latency (ms). Every evaluated point is a dot coloured by the generation it
was first evaluated in (grey crosses: points that miss a constraint); the front the search
returned (the `front` column, non-dominated on its objectives and feasible) is ringed and joined
in energy / latency order; the constraint lines are drawn: the fidelity floor in both panels, the
latency budget in the latency panel.

Usage: /usr/bin/python3 scripts/plot_search.py POINTS.csv OUT.png [--min-fidelity F]
       [--latency-budget S] [--title NAME]

Run with Debian's /usr/bin/python3 (python3-matplotlib); `prunesim search --plot` does. The PNG
is written to a temporary name and renamed, like every prunesim output.
"""
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")  # no display: a file is all we want
import matplotlib.pyplot as plt  # noqa: E402

# The sweep plot's axis names and number parsing (scripts/ is on sys.path: this file's folder).
from plot_sweep import METRIC_LABEL, num, read_csv, save_png  # noqa: E402

def die(msg):
    sys.stderr.write("plot_search.py: error: %s\n" % msg)
    sys.exit(2)


def take(args, flag, conv):
    if flag not in args:
        return None
    k = args.index(flag)
    if k + 1 >= len(args):
        die("%s: needs a value" % flag)
    v = conv(args[k + 1])
    del args[k:k + 2]
    return v


def main(argv):
    args = argv[1:]
    min_fid = take(args, "--min-fidelity", num)
    budget = take(args, "--latency-budget", num)
    title = take(args, "--title", str)
    if len(args) != 2:
        die("usage: plot_search.py POINTS.csv OUT.png [--min-fidelity F] [--latency-budget S]")
    src, out = args
    header, rows = read_csv(src, ("generation", "fidelity", "energy_j", "latency_s", "feasible",
                                  "front"), "search", die)
    ok = [r for r in rows if not r.get("error") and r.get("energy_j")]
    if not ok:
        die("%s: no successful point to plot" % src)
    metric = ok[0]["fidelity_metric"]
    gens = [int(r["generation"]) for r in ok]
    gmax = max(gens) if gens else 0

    fig, (ax_e, ax_l) = plt.subplots(1, 2, figsize=(13, 5.5))
    panels = ((ax_e, "energy_j", 1e6, "energy per inference (uJ)"),
              (ax_l, "latency_s", 1e3, "latency per inference (ms)"))
    feas = [r for r in ok if r["feasible"] == "1"]
    infeas = [r for r in ok if r["feasible"] != "1"]
    front = [r for r in ok if r["front"] == "1"]
    for ax, col, scale, label in panels:
        if infeas:
            ax.scatter([scale * num(r[col]) for r in infeas], [num(r["fidelity"]) for r in infeas],
                       marker="x", s=18, color="0.6", label="misses a constraint", zorder=2)
        sc = ax.scatter([scale * num(r[col]) for r in feas], [num(r["fidelity"]) for r in feas],
                        c=[int(r["generation"]) for r in feas], cmap="viridis", vmin=0,
                        vmax=max(1, gmax), s=16, label="feasible point", zorder=3)
        # The returned front: ringed, joined in this panel's x order (a 2-D view of a front of
        # up to four objectives, so it need not be monotone here).
        fr = sorted(front, key=lambda r: num(r[col]))
        if fr:
            xs = [scale * num(r[col]) for r in fr]
            ys = [num(r["fidelity"]) for r in fr]
            ax.plot(xs, ys, color="black", linewidth=1, zorder=4)
            ax.scatter(xs, ys, s=90, facecolors="none", edgecolors="red", linewidths=1.5,
                       label="front (%d)" % len(fr), zorder=5)
        # --finetune: each front point after recovery, joined to its one-shot self by an arrow.
        tuned = [r for r in fr if r.get("fidelity_finetuned")]
        if tuned:
            tcol = "energy_j_finetuned" if col == "energy_j" else col
            for r in tuned:
                ax.annotate("", xy=(scale * num(r[tcol]), num(r["fidelity_finetuned"])),
                            xytext=(scale * num(r[col]), num(r["fidelity"])),
                            arrowprops=dict(arrowstyle="->", color="tab:blue", lw=0.8),
                            zorder=5)
            ax.scatter([scale * num(r[tcol]) for r in tuned],
                       [num(r["fidelity_finetuned"]) for r in tuned], marker="*", s=110,
                       color="tab:blue", label="front, fine-tuned (%d)" % len(tuned), zorder=6)
        if min_fid is not None and math.isfinite(min_fid):
            ax.axhline(min_fid, color="tab:red", linestyle="--", linewidth=1,
                       label="fidelity floor %g %s" % (min_fid, "dB" if "sndr" in metric else "%"))
        if col == "latency_s" and budget is not None and math.isfinite(budget):
            ax.axvline(scale * budget, color="tab:orange", linestyle="--", linewidth=1,
                       label="latency budget %g ms" % (scale * budget))
        ax.set_xlabel(label)
        ax.set_ylabel(METRIC_LABEL.get(metric, metric))
        ax.grid(True, alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    cb = fig.colorbar(sc, ax=[ax_e, ax_l], shrink=0.9, pad=0.02)
    cb.set_label("generation first evaluated")
    ax_e.set_title("fidelity vs energy")
    ax_l.set_title("fidelity vs latency")
    fig.suptitle("%s: %d points, %d feasible, %d on the front" %
                 (title or os.path.basename(src), len(ok), len(feas), len(front)))
    save_png(fig, out, die, bbox_inches="tight")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
