#!/usr/bin/env python3
"""Prints the comparison bench's results as the markdown table of BENCHMARKS.md, then the
targets of the performance issue computed from the same run.

usage: table.py RESULTS.jsonl...
"""
import json
import sys

NAMES = {
    "datajuicer": "Data-Juicer DocumentSimhashDeduplicator (character, window 6, 6 blocks, "
                  "distance 4), clean bodies only",
    "simhash": "Data-Juicer parameters with simhash-pybind, clean bodies only",
    "minhash": "datasketch MinHashLSH (128 perm, 5-grams, 0.7), clean bodies only",
    "floor (read+decode+xxh3)": "floor: read + decode + xxh3 (`examples/floor.rs`)",
}


def main():
    rows = [json.loads(l) for f in sys.argv[1:] for l in open(f, encoding="utf-8")]
    for r in rows:
        r.setdefault("shape", "templated")
    for shape in sorted({r["shape"] for r in rows}, reverse=True):
        print(f"### corpus: {shape}\n")
        table([r for r in rows if r["shape"] == shape])
        print()


def table(rows):
    rows.sort(key=lambda r: r["pages"])
    print("| tool | pages | input MB | wall s | dedup-only s | CPU s | pages/s | MB/s | "
          "peak RSS MiB | precision | recall | F1 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        s = r["score"] or {}
        f = lambda k: f"{s[k]:.3f}" if k in s else "—"
        dedup = f"{r['dedup_s']:.2f}" if "dedup_s" in r else "—"
        print(f"| {NAMES.get(r['tool'], r['tool'])} | {r['pages']:,} | {r['mb']:,} | "
              f"{r['wall']:.2f} | {dedup} | {r['user'] + r['sys']:.2f} | "
              f"{r['pages'] / r['wall']:,.0f} | {r['mb'] / r['wall']:.1f} | "
              f"{r['rss_kib'] / 1024:,.0f} | {f('precision')} | {f('recall')} | {f('f1')} |")

    print()
    print("| pages | pagesieve pages/s | × Data-Juicer (its dedup time only) | wall ÷ floor | "
          "µs per page | peak RSS MiB | F1 pagesieve / Data-Juicer |")
    print("|---|---|---|---|---|---|---|")
    by = {(r["tool"], r["pages"]): r for r in rows}
    sizes = sorted({r["pages"] for r in rows})
    base = None
    for n in sizes:
        ps = by.get(("pagesieve run", n))
        fl = by.get(("floor (read+decode+xxh3)", n))
        dj = by.get(("datajuicer", n)) or by.get(("simhash", n))
        if not ps:
            continue
        us = ps["wall"] / n * 1e6
        base = base or us
        ratio = f"{(n / ps['wall']) / (n / dj['dedup_s']):.1f}×" if dj else "—"
        f1 = f"{ps['score']['f1']:.3f} / {dj['score']['f1']:.3f}" if dj else f"{ps['score']['f1']:.3f} / —"
        floor = f"{ps['wall'] / fl['wall']:.1f}×" if fl else "—"
        print(f"| {n:,} | {n / ps['wall']:,.0f} | {ratio} | {floor} | {us:,.0f} "
              f"({us / base - 1:+.0%}) | {ps['rss_kib'] / 1024:,.0f} | {f1} |")


if __name__ == "__main__":
    main()
