#!/usr/bin/python3
"""Draws the hypervolume against the evaluations spent of several `prunesim search --front`
JSON files (one line each, labelled by algorithm and seed; EMO-DIR runs as nsga2 --divide K):
how bench/search_compare.sh's runs compare at equal evaluations.

Usage: /usr/bin/python3 scripts/plot_search_hv.py OUT.png FRONT.json [FRONT.json ...]
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from plot_sweep import save_png  # noqa: E402


def die(msg):
    sys.stderr.write("plot_search_hv.py: error: %s\n" % msg)
    sys.exit(2)


def main(argv):
    if len(argv) < 3:
        die("usage: plot_search_hv.py OUT.png FRONT.json [FRONT.json ...]")
    out, files = argv[1], argv[2:]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    styles = {"nsga2": ("tab:blue", "-"), "random": ("tab:gray", "--"),
              "emo-dir": ("tab:green", "-.")}
    seen = set()
    for f in files:
        try:
            with open(f) as fh:
                j = json.load(fh)
        except (OSError, ValueError) as e:
            die("%s: %s" % (f, e))
        algo = "emo-dir" if j.get("divide", 1) > 1 else j["algo"]
        color, ls = styles.get(algo, ("black", ":"))
        xs = [h["evaluations"] for h in j["history"]]
        ys = [h["hypervolume"] for h in j["history"]]
        label = None if algo in seen else ("EMO-DIR (--divide %d)" % j["divide"]
                                           if algo == "emo-dir" else algo)
        seen.add(algo)
        ax.plot(xs, ys, color=color, linestyle=ls, linewidth=1.4, label=label)
    ax.set_xlabel("fitness calls (evaluations)")
    ax.set_ylabel("hypervolume (normalised to the dense model)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title("hypervolume at equal evaluations, one line per seed")
    save_png(fig, out, die, bbox_inches="tight")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
