#!/usr/bin/env python3
"""The recall-curve pairs (written by `cargo run --release --example recall_curve`) through
the peers, each pair on its own, as pagesieve decides them:

  datajuicer  Data-Juicer's DocumentSimhashDeduplicator with its Chinese settings (character
              tokens, window 6, lowercase, 6 blocks, Hamming distance 4): the op's own
              compute_hash gives each text's simhash; a pair is merged when the two are
              within 4 bits (what its find_all over the blocks returns).
  minhash     datasketch MinHashLSH, 128 permutations, character 5-grams, threshold 0.7:
              a pair is merged when the second text's query returns the first.

usage: recall_peers.py PAIRS.jsonl [datajuicer|minhash ...]
Prints the recall table (rows: length bucket, columns: Jaccard bucket) and precision.
"""
import json
import sys

LENGTHS = [(50, 200), (200, 500), (500, 2000), (2000, 10000)]
JACCARDS = [(0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.0)]


def bucket(v, edges, closed_last=False):
    for i, (lo, hi) in enumerate(edges):
        if lo <= v < hi or (closed_last and i == len(edges) - 1 and v == hi):
            return i
    return None


def datajuicer():
    from data_juicer.ops.deduplicator.document_simhash_deduplicator import DocumentSimhashDeduplicator
    from data_juicer.utils.constant import HashKeys

    op = DocumentSimhashDeduplicator(tokenization="character", window_size=6, lowercase=True,
                                     num_blocks=6, hamming_distance=4)

    def decide(a, b):
        ha = int(op.compute_hash({"text": a})[HashKeys.simhash])
        hb = int(op.compute_hash({"text": b})[HashKeys.simhash])
        return bin(ha ^ hb).count("1") <= 4

    return decide


def minhash():
    from datasketch import MinHash, MinHashLSH

    def sign(t):
        m = MinHash(num_perm=128)
        grams = {t[k:k + 5] for k in range(max(1, len(t) - 4))}
        m.update_batch([g.encode("utf-8") for g in grams])
        return m

    def decide(a, b):
        lsh = MinHashLSH(threshold=0.7, num_perm=128)
        lsh.insert("a", sign(a))
        return "a" in lsh.query(sign(b))

    return decide


def table(name, pairs, decided):
    cells = [[[0, 0] for _ in JACCARDS] for _ in LENGTHS]
    neg = [0, 0]
    for p, hit in zip(pairs, decided):
        if not p["positive"]:
            neg[0] += hit
            neg[1] += 1
            continue
        li, ji = bucket(p["chars"], LENGTHS), bucket(p["jaccard"], JACCARDS, True)
        if li is not None and ji is not None:
            cells[li][ji][0] += hit
            cells[li][ji][1] += 1
    print(f"### {name}\n")
    print("| length \\ Jaccard |" + "".join(f" {lo:.1f}–{hi:.1f} |" for lo, hi in JACCARDS))
    print("|---|" + "---|" * len(JACCARDS))
    for (lo, hi), row in zip(LENGTHS, cells):
        print(f"| {lo}–{hi} chars |" + "".join(
            f" {(f / t if t else 1):.3f} ({f}/{t}) |" for f, t in row))
    tp = sum(f for row in cells for f, _ in row)
    prec = tp / (tp + neg[0]) if tp + neg[0] else 1.0
    print(f"\nprecision {prec:.4f} ({tp} planted duplicates merged, {neg[0]} of {neg[1]} hard "
          f"negatives merged)\n")


def main():
    path = sys.argv[1]
    methods = sys.argv[2:] or ["datajuicer", "minhash"]
    with open(path, encoding="utf-8") as f:
        pairs = [json.loads(line) for line in f]
    names = {
        "datajuicer": "Data-Juicer DocumentSimhashDeduplicator (character, window 6, 6 blocks, distance 4)",
        "minhash": "datasketch MinHashLSH (128 permutations, 5-grams, threshold 0.7)",
    }
    for m in methods:
        decide = {"datajuicer": datajuicer, "minhash": minhash}[m]()
        table(names[m], pairs, [decide(p["a"], p["b"]) for p in pairs])


if __name__ == "__main__":
    main()
