"""Task placement study of the FPGA-SoC pipeline: every preprocessing/postprocessing step on the
PS or the PL (16 placements), simulated with `prunesim simulate --arch fpga-soc`, written as a CSV,
a Markdown table and a plot (throughput and end-to-end latency per placement).

    /usr/bin/python3 scripts/plot_placement.py [--prunesim build/bin/prunesim]
        [--tables zoo/hsi_unet/unet_pruned.pwt] [--input zoo/hsi_unet/frames.npy]
        [--mode cycle] [--out fpga_soc_placement] [--set k=v ...]

Writes OUT.csv, OUT.md and OUT.png, by default in the working directory (never into the
repository's docs/). The plot marks each placement's bottleneck stage (the bar's label) and
starts its axes near the smallest value, so the differences between placements show.
"""
import argparse
import csv
import itertools
import json
import os
import subprocess
import sys
import tempfile

STEPS = ["demosaic", "normalise", "crop", "argmax"]


def main():
    root = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    ap = argparse.ArgumentParser()
    ap.add_argument("--prunesim", default=os.path.join(root, "build", "bin", "prunesim"))
    ap.add_argument("--tables", default=os.path.join(root, "zoo", "hsi_unet", "unet_pruned.pwt"))
    ap.add_argument("--input", default=os.path.join(root, "zoo", "hsi_unet", "frames.npy"))
    ap.add_argument("--mode", default="cycle")
    ap.add_argument("--out", default="fpga_soc_placement",
                    help="output stem, relative to the working directory")
    ap.add_argument("--set", action="append", default=[])
    a = ap.parse_args()
    if os.path.dirname(a.out):
        os.makedirs(os.path.dirname(a.out), exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for combo in itertools.product(["pl", "ps"], repeat=len(STEPS)):
            rep = os.path.join(tmp, "r.json")
            cmd = [a.prunesim, "simulate", "--arch", "fpga-soc", "--tables", a.tables,
                   "--input", a.input, "--mode", a.mode, "--report", rep]
            for s, p in zip(STEPS, combo):
                cmd += ["--set", "place.%s=%s" % (s, p)]
            for s in a.set:
                cmd += ["--set", s]
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                sys.exit("prunesim failed: %s\n%s" % (" ".join(cmd), res.stderr))
            j = json.load(open(rep))
            label = "".join("H" if p == "pl" else "S" for p in combo)
            rows.append({
                "placement": label,
                **{s: p for s, p in zip(STEPS, combo)},
                "throughput_fps": j["throughput_fps"],
                "latency_ms": j["latency_s"] * 1e3,
                "inference_ms": j["inference_s"] * 1e3,
                "power_w": j["power_w"],
                "energy_mj": j["energy_j"] * 1e3,
                "lut": j["resources"]["total"]["lut"],
                "dsp": j["resources"]["total"]["dsp"],
                "bottleneck": max(j["stages"], key=lambda s: s["service_s"])["name"],
                "bit_exact": j["bit_exact"],
            })
            print("%s  %8.1f frames/s  %8.3f ms  %.3f W  %s" % (
                label, rows[-1]["throughput_fps"], rows[-1]["latency_ms"], rows[-1]["power_w"],
                rows[-1]["bottleneck"]), flush=True)
    with open(a.out + ".csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    with open(a.out + ".md", "w") as f:
        f.write("| placement | demosaic | normalise | crop | argmax | frames/s | latency (ms) "
                "| power (W) | energy (mJ/frame) | LUT | bottleneck stage |\n")
        f.write("|---|---|---|---|---|---:|---:|---:|---:|---:|---|\n")
        for r in rows:
            f.write("| %s | %s | %s | %s | %s | %.1f | %.3f | %.3f | %.3f | %d | %s |\n" % (
                r["placement"], r["demosaic"].upper(), r["normalise"].upper(), r["crop"].upper(),
                r["argmax"].upper(), r["throughput_fps"], r["latency_ms"], r["power_w"],
                r["energy_mj"], r["lut"], r["bottleneck"]))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    labels = [r["placement"] for r in rows]
    # One colour per bottleneck stage, so the placements that move the bottleneck stand out.
    stages = sorted({r["bottleneck"] for r in rows})
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colour = {st: palette[k % len(palette)] for k, st in enumerate(stages)}
    fig, ax = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    for k, (key, unit) in enumerate((("throughput_fps", "throughput (frames/s)"),
                                     ("latency_ms", "end-to-end latency (ms)"))):
        vals = [r[key] for r in rows]
        ax[k].bar(labels, vals, color=[colour[r["bottleneck"]] for r in rows])
        ax[k].set_ylabel(unit)
        # Axes from just below the smallest bar: the placements differ by a few per cent, which
        # a zero-based axis hides.
        lo, hi = min(vals), max(vals)
        pad = (hi - lo) * 0.15 or hi * 0.05
        ax[k].set_ylim(max(0.0, lo - pad), hi + pad)
        ax[k].grid(True, axis="y", alpha=0.3)
        if hi - lo <= 1e-9 * abs(hi):
            # Every placement the same: say so rather than crown one of them.
            ax[k].text(0.5, 0.5, "all %d placements: %.4g" % (len(vals), hi),
                       transform=ax[k].transAxes, ha="center", va="center", fontsize=10)
        else:
            best = max(range(len(vals)), key=lambda i: vals[i] if k == 0 else -vals[i])
            ax[k].annotate("best", (best, vals[best]), textcoords="offset points",
                           xytext=(0, 4), ha="center", fontsize=8)
    ax[1].set_xlabel("placement of demosaic, normalise, crop, argmax (H = PL kernel, S = PS)")
    ax[0].legend(handles=[plt.Rectangle((0, 0), 1, 1, color=colour[st]) for st in stages],
                 labels=["bottleneck: " + st for st in stages], fontsize=8, loc="best")
    fig.suptitle("FPGA-SoC HSI pipeline: task placement (%s, %s mode)" % (
        os.path.basename(a.tables), a.mode))
    fig.tight_layout()
    fig.savefig(a.out + ".png", dpi=110)
    print("wrote %s.csv, %s.md, %s.png" % (a.out, a.out, a.out))


if __name__ == "__main__":
    main()
