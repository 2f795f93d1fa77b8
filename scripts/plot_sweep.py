#!/usr/bin/python3
"""Draws a `prunesim sweep` CSV in four panels: energy per inference (uJ), average power (uW) and
fidelity against the sparsity reached (counted against the original model, so channel pruning
plots where it removed weights), and fidelity against energy with the Pareto front (energy min,
fidelity max) drawn as a step line. One colour per scheme (and per value of each swept --set
parameter); Pareto points ringed.

Usage: /usr/bin/python3 scripts/plot_sweep.py SWEEP.csv OUT.png [--min-fidelity F]
  --min-fidelity F  draw the threshold below which `sweep --min-fidelity` kept points off the
                    Pareto front (the pareto column already reflects it)

Run with Debian's /usr/bin/python3 (python3-matplotlib); `prunesim sweep --plot` does. The PNG
is written to a temporary name and renamed, like every prunesim output.
"""
import csv
import math
import os
import signal
import sys

import matplotlib

matplotlib.use("Agg")  # no display: a file is all we want
import matplotlib.pyplot as plt  # noqa: E402

# Columns every sweep CSV has; anything between scheme_options and pareto is a swept parameter.
FIXED = ["scheme", "sparsity_target", "sparsity_actual", "params", "macs", "fidelity",
         "fidelity_metric", "fidelity_oneshot", "cycles",
         "latency_s", "energy_j", "power_w", "area_mm2", "storage_bytes", "file_bytes",
         "scheme_options", "pareto", "error"]

LINES = ["-", "--", "-."]  # dotted is the one-shot curve's

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
    except (TypeError, ValueError):
        return math.nan


def read_csv(src, needed, kind, die):
    """The header and rows of a prunesim CSV; die() when it cannot be read or lacks a column."""
    try:
        with open(src, newline="") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            rows = list(reader)
    except OSError as e:
        die("%s: %s" % (src, e.strerror))
    missing = [c for c in needed if c not in header]
    if missing:
        die("%s: not a %s CSV (missing columns: %s)" % (src, kind, ", ".join(missing)))
    return header, rows


def save_png(fig, out, die, **kw):
    """Writes fig to a temporary name beside out and renames it into place."""
    tmp = "%s.tmp.%d.png" % (out, os.getpid())

    # prunesim stops this script with SIGTERM when it is interrupted: no temporary file stays.
    def on_term(signum, frame):
        if os.path.exists(tmp):
            os.remove(tmp)
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    try:
        fig.savefig(tmp, format="png", dpi=110, **kw)
        os.replace(tmp, out)
    except OSError as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        die("%s: %s" % (out, e.strerror))


def ring(ax, xs, ys):
    ax.scatter(xs, ys, s=240, facecolors="none", edgecolors="black", linewidths=1.5, zorder=5)


def main(argv):
    args = argv[1:]
    min_fid = math.nan
    if "--min-fidelity" in args:
        k = args.index("--min-fidelity")
        if k + 1 >= len(args) or not math.isfinite(num(args[k + 1])):
            die("--min-fidelity: needs a number")
        min_fid = num(args[k + 1])
        del args[k:k + 2]
    title = None
    if "--title" in args:
        k = args.index("--title")
        if k + 1 >= len(args):
            die("--title: needs a name")
        title = args[k + 1]
        del args[k:k + 2]
    if len(args) != 2:
        die("usage: plot_sweep.py SWEEP.csv OUT.png [--min-fidelity F]")
    src, out = args
    header, rows = read_csv(src, ("scheme", "sparsity_actual", "fidelity", "energy_j", "power_w",
                                  "pareto"), "sweep", die)
    params = [c for c in header if c not in FIXED]
    ok = [r for r in rows if not r.get("error") and r.get("energy_j")]
    if not ok:
        die("%s: no successful point to plot" % src)

    # One curve per scheme and combination of swept parameter values, in order of appearance.
    curves = {}
    for r in ok:
        key = (r["scheme"],) + tuple(r[p] for p in params)
        curves.setdefault(key, []).append(r)

    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    ax_e, ax_p = axes[0]
    ax_f, ax_fe = axes[1]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    markers = "osD^v<>ph*"
    handles = []
    any_once = False
    for k, (key, pts) in enumerate(curves.items()):
        pts.sort(key=lambda r: num(r["sparsity_actual"]))
        label = key[0] + "".join(" %s=%s" % (p, v) for p, v in zip(params, key[1:]))
        c = colors[k % len(colors)]
        # Curves often share points (every scheme's dense point; schemes that prune alike): each
        # curve has its own marker and line style, and later curves draw smaller markers on top,
        # so a point two curves share shows both.
        m = markers[k % len(markers)]
        style = dict(color=c, linestyle=LINES[k % len(LINES)],
                     markersize=max(4.0, 10.0 - 2.0 * (k % 4)), zorder=2 + k)
        x = [num(r["sparsity_actual"]) for r in pts]
        e_uj = [1e6 * num(r["energy_j"]) for r in pts]
        p_uw = [1e6 * num(r["power_w"]) for r in pts]
        fid = [num(r["fidelity"]) for r in pts]
        (h,) = ax_e.plot(x, e_uj, marker=m, label=label, **style)
        handles.append(h)
        ax_p.plot(x, p_uw, marker=m, **style)
        # SNDR of a model against itself is +inf: leave such points off the fidelity axes.
        fx = [(a, b, e) for a, b, e in zip(x, fid, e_uj) if math.isfinite(b)]
        if fx:
            ax_f.plot([a for a, _, _ in fx], [b for _, b, _ in fx], marker=m, **style)
            ax_fe.plot([e for _, _, e in fx], [b for _, b, _ in fx], marker=m, alpha=0.8,
                       **dict(style, linestyle="none"))
        # With --finetune the one-shot fidelity (before recovery) is drawn dotted beside it.
        once = [(a, num(r.get("fidelity_oneshot", ""))) for a, r in zip(x, pts)]
        once = [(a, b) for a, b in once if math.isfinite(b)]
        if once:
            any_once = True
            ax_f.plot([a for a, _ in once], [b for _, b in once], "x:", color=c, alpha=0.7)
        par = [r for r in pts if r["pareto"] == "1"]
        if par:
            ring(ax_e, [num(r["sparsity_actual"]) for r in par],
                 [1e6 * num(r["energy_j"]) for r in par])
            pf = [r for r in par if math.isfinite(num(r["fidelity"]))]
            ring(ax_f, [num(r["sparsity_actual"]) for r in pf], [num(r["fidelity"]) for r in pf])

    # The front over every curve: fidelity against energy, as the step a designer walks along.
    front = sorted(((1e6 * num(r["energy_j"]), num(r["fidelity"])) for r in ok
                    if r["pareto"] == "1" and math.isfinite(num(r["fidelity"]))))
    if front:
        ring(ax_fe, [e for e, _ in front], [f for _, f in front])
        ax_fe.step([e for e, _ in front], [f for _, f in front], where="post", color="black",
                   linewidth=1, alpha=0.7)

    metrics = sorted({r["fidelity_metric"] for r in ok})
    fid_label = " / ".join(METRIC_LABEL.get(m, m) for m in metrics)
    if math.isfinite(min_fid):
        for ax in (ax_f, ax_fe):
            ax.axhline(min_fid, color="red", linestyle="--", linewidth=1)
    ax_e.set_ylabel("energy per inference (µJ)")
    ax_p.set_ylabel("average power (µW)")
    ax_f.set_ylabel(fid_label)
    ax_fe.set_ylabel(fid_label)
    for ax in (ax_e, ax_p, ax_f):
        ax.set_xlabel("sparsity reached (fraction of the original model's weights removed)")
    ax_fe.set_xlabel("energy per inference (µJ)")
    ax_e.set_title("energy against sparsity")
    ax_p.set_title("power against sparsity")
    ax_f.set_title("fidelity against sparsity")
    ax_fe.set_title("fidelity against energy: Pareto front (black step)")
    for ax in axes.flat:
        ax.grid(True, alpha=0.3)
    # The legend goes under the panels, in as many columns as fit, so a sweep over --set values
    # with many curves never clips it or hides a point.
    extra = [plt.Line2D([], [], color="black", marker="o", markersize=12, markerfacecolor="none",
                        linestyle="none", label="Pareto: energy min, fidelity max")]
    if any_once:
        extra.append(plt.Line2D([], [], color="gray", marker="x", linestyle=":",
                                label="one-shot, before fine-tuning (int8)"))
    if math.isfinite(min_fid):
        extra.append(plt.Line2D([], [], color="red", linestyle="--",
                                label="--min-fidelity %g" % min_fid))
    allh = handles + extra
    ncol = min(len(allh), 4)
    rows_needed = (len(allh) + ncol - 1) // ncol
    bottom = min(0.35, 0.04 + 0.035 * rows_needed)
    fig.legend(handles=allh, loc="lower center", ncol=ncol, fontsize=8, frameon=False)
    fig.suptitle("prunesim sweep: %s" % os.path.basename(title or src))
    fig.tight_layout(rect=(0, bottom, 1, 0.97))

    save_png(fig, out, die)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
