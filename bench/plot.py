#!/usr/bin/env python3
"""Plots wall time against corpus size from the comparison bench's results.

usage: plot.py RESULTS.jsonl... OUT.png   (run with the bench venv's python: needs matplotlib)
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {
    "pagesieve run": "pagesieve run (whole job)",
    "floor (read+decode+xxh3)": "floor: read + decode + xxh3",
    "datajuicer": "Data-Juicer simhash dedup (bodies only)",
    "simhash": "Data-Juicer parameters, simhash-pybind (bodies only)",
    "minhash": "datasketch MinHashLSH (bodies only)",
}


def main():
    rows = [json.loads(l) for f in sys.argv[1:-1] for l in open(f, encoding="utf-8")]
    rows.sort(key=lambda r: r["pages"])
    for r in rows:
        r.setdefault("shape", "templated")
    series = []
    for r in rows:
        if (r["tool"], r["shape"]) not in series:
            series.append((r["tool"], r["shape"]))
    colors = {}
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
    for t, shape in series:
        pts = sorted((r["pages"], r["wall"]) for r in rows if (r["tool"], r["shape"]) == (t, shape))
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        colors.setdefault(t, f"C{len(colors)}")
        style = dict(marker="o", color=colors[t], linestyle="-" if shape == "site" else "--",
                     label=f"{LABELS.get(t, t)}, {shape}")
        ax.plot(xs, ys, **style)
        ax2.plot(xs, [y / x * 1e6 for x, y in zip(xs, ys)], **style)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("pages in the corpus")
    ax.set_ylabel("wall time (s)")
    ax.set_title("Wall time, 2 cores")
    ax.grid(True, which="both", alpha=0.3)
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("pages in the corpus")
    ax2.set_ylabel("wall time per page (µs)")
    ax2.set_title("Time per page (flat = linear scaling)")
    ax2.grid(True, which="both", alpha=0.3)
    ax2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(sys.argv[-1], dpi=110)


if __name__ == "__main__":
    main()
