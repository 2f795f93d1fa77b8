#!/usr/bin/python3
"""Draws a `prunesim sweep` CSV: energy per inference (uJ) and power (uW) against sparsity in
the top panel, fidelity against sparsity in the bottom one; one curve per scheme (and per value
of each swept --set parameter), Pareto points (energy min, fidelity max) ringed.

Usage: /usr/bin/python3 scripts/plot_sweep.py SWEEP.csv OUT.png

Run with Debian's /usr/bin/python3 (python3-matplotlib); `prunesim sweep --plot` does. The PNG
is written to a temporary name and renamed, like every prunesim output.
"""
import csv
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")  # no display: a file is all we want
import matplotlib.pyplot as plt  # noqa: E402

# Columns every sweep CSV has; anything between scheme_options and pareto is a swept parameter.
FIXED = ["scheme", "sparsity_target", "sparsity_actual", "fidelity", "fidelity_metric",
         "fidelity_oneshot", "cycles",
         "latency_s", "energy_j", "power_w", "area_mm2", "storage_bytes", "file_bytes",
         "scheme_options", "pareto", "error"]

METRIC_LABEL = {
    "top1_pct": "top-1 accuracy (%)",
    "miou_pct": "mIoU (%)",
    "sndr_db_vs_targets": "SNDR vs targets (dB)",
    "sndr_db_vs_dense_float": "SNDR vs dense float model (dB)",
}


def die(msg):
    sys.stderr.write("plot_sweep.py: error: %s\n" % msg)
    sys.exit(2)


def num(s):
    try:
        return float(s)
    except ValueError:
        return math.nan


def main(argv):
    if len(argv) != 3:
        die("usage: plot_sweep.py SWEEP.csv OUT.png")
    src, out = argv[1], argv[2]
    try:
        with open(src, newline="") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            rows = list(reader)
    except OSError as e:
        die("%s: %s" % (src, e.strerror))
    missing = [c for c in ("scheme", "sparsity_actual", "fidelity", "energy_j", "power_w", "pareto")
               if c not in header]
    if missing:
        die("%s: not a sweep CSV (missing columns: %s)" % (src, ", ".join(missing)))
    params = [c for c in header if c not in FIXED]
    ok = [r for r in rows if not r.get("error") and r.get("energy_j")]
    if not ok:
        die("%s: no successful point to plot" % src)

    # One curve per scheme and combination of swept parameter values, in order of appearance.
    curves = {}
    for r in ok:
        key = (r["scheme"],) + tuple(r[p] for p in params)
        curves.setdefault(key, []).append(r)

    fig, (ax_e, ax_f) = plt.subplots(2, 1, figsize=(10, 8), sharex=True)
    ax_p = ax_e.twinx()
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (key, pts) in enumerate(curves.items()):
        pts.sort(key=lambda r: num(r["sparsity_actual"]))
        label = key[0] + "".join(" %s=%s" % (p, v) for p, v in zip(params, key[1:]))
        c = colors[k % len(colors)]
        x = [num(r["sparsity_actual"]) for r in pts]
        e_uj = [1e6 * num(r["energy_j"]) for r in pts]
        p_uw = [1e6 * num(r["power_w"]) for r in pts]
        fid = [num(r["fidelity"]) for r in pts]
        ax_e.plot(x, e_uj, "o-", color=c, label=label)
        ax_p.plot(x, p_uw, "s--", color=c, alpha=0.6)
        # SNDR of a model against itself is +inf: leave such points off the fidelity axis.
        fx = [(a, b) for a, b in zip(x, fid) if math.isfinite(b)]
        if fx:
            ax_f.plot([a for a, _ in fx], [b for _, b in fx], "o-", color=c, label=label)
        # With --finetune the one-shot fidelity (before recovery) is drawn dotted beside it.
        once = [(a, num(r.get("fidelity_oneshot", ""))) for a, r in zip(x, pts)]
        once = [(a, b) for a, b in once if math.isfinite(b)]
        if once:
            ax_f.plot([a for a, _ in once], [b for _, b in once], "x:", color=c, alpha=0.7)
        par = [r for r in pts if r["pareto"] == "1"]
        if par:
            px = [num(r["sparsity_actual"]) for r in par]
            ax_e.scatter(px, [1e6 * num(r["energy_j"]) for r in par], s=160, facecolors="none",
                         edgecolors="black", linewidths=1.5, zorder=5)
            pf = [(num(r["sparsity_actual"]), num(r["fidelity"])) for r in par
                  if math.isfinite(num(r["fidelity"]))]
            ax_f.scatter([a for a, _ in pf], [b for _, b in pf], s=160, facecolors="none",
                         edgecolors="black", linewidths=1.5, zorder=5)

    metrics = sorted({r["fidelity_metric"] for r in ok})
    ax_e.set_ylabel("energy per inference (µJ), solid")
    ax_p.set_ylabel("power (µW), dashed")
    ax_f.set_ylabel(" / ".join(METRIC_LABEL.get(m, m) for m in metrics))
    ax_f.set_xlabel("sparsity reached (fraction of weights removed)")
    ax_e.grid(True, alpha=0.3)
    ax_f.grid(True, alpha=0.3)
    # One legend for the curves (colour = scheme and swept values) outside the axes, so it never
    # hides a point; the energy panel's legend only explains the line styles and the rings.
    handles, labels = ax_e.get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(0.80, 0.5), fontsize=8,
               title="curves", title_fontsize=8)
    style = [
        plt.Line2D([], [], color="gray", marker="o", linestyle="-", label="energy (left axis)"),
        plt.Line2D([], [], color="gray", marker="s", linestyle="--", alpha=0.6,
                   label="power (right axis)"),
        plt.Line2D([], [], color="black", marker="o", markersize=12, markerfacecolor="none",
                   linestyle="none", label="Pareto: energy min, fidelity max"),
    ]
    if any(math.isfinite(num(r.get("fidelity_oneshot", ""))) for r in ok):
        ax_f.legend(handles=[
            plt.Line2D([], [], color="gray", marker="o", linestyle="-", label="fine-tuned (int8)"),
            plt.Line2D([], [], color="gray", marker="x", linestyle=":",
                       label="one-shot, before fine-tuning (int8)")], fontsize=8, loc="best")
    ax_e.legend(handles=style, fontsize=8, loc="best")
    ax_e.set_title("prunesim sweep: %s" % os.path.basename(src))
    fig.tight_layout(rect=(0, 0, 0.80, 1))

    tmp = "%s.tmp.%d.png" % (out, os.getpid())
    try:
        fig.savefig(tmp, format="png", dpi=110)
        os.replace(tmp, out)
    except OSError as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        die("%s: %s" % (out, e.strerror))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
