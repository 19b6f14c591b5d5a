#!/usr/bin/env python3
"""Peers for the comparison bench, fed the clean article bodies pagesieve extracted.

usage: peers.py METHOD PAGESIEVE_OUTPUT_DIR RESULT.json

METHOD:
  datajuicer  Data-Juicer's own DocumentSimhashDeduplicator (py-data-juicer), Chinese
           settings: character tokens, window 6, lowercase, 6 blocks, Hamming distance 4;
           run as Data-Juicer runs it (compute_hash through datasets.map, then process)
  simhash  simhash-pybind with Data-Juicer's document_simhash_deduplicator parameters for
           Chinese: character tokens, window 6, lowercase, MD5-64 shingle hashes, 6 blocks,
           Hamming distance 4 (what Data-Juicer calls internally)
  minhash  datasketch MinHashLSH, 128 permutations, character 5-grams, threshold 0.7

Both get the texts already cleaned by pagesieve (so they do less work than pagesieve:
no reading, decoding, segmentation or snippet handling). Writes the time, peak RSS and
source -> cluster representative mapping; clusters are union-find over the pairs found,
represented by the smallest source.
"""
import json
import resource
import sys
import time


def load(out):
    docs = []
    for name in ("articles.jsonl", "dropped.jsonl"):
        with open(f"{out}/{name}", encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                if name == "dropped.jsonl" and r["kind"] != "article":
                    continue
                docs.append((r["source"], r["text"]))
    docs.sort()
    return docs


def clusters(n, pairs):
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return [find(i) for i in range(n)]


def run_simhash(texts):
    import simhash

    fps = []
    for t in texts:
        tokens = list(t.lower())
        hashes = [simhash.unsigned_hash("".join(s).encode("utf-8")) for s in simhash.shingle(tokens, window=6)]
        fps.append(simhash.compute(hashes))
    by_fp = {}
    for i, f in enumerate(fps):
        by_fp.setdefault(f, []).append(i)
    pairs = []
    for a, b in simhash.find_all(set(fps), 6, 4):
        for i in by_fp[a]:
            for j in by_fp[b]:
                pairs.append((i, j))
    for same in by_fp.values():
        pairs.extend((same[0], j) for j in same[1:])
    return pairs


def run_datajuicer(texts):
    import datasets
    import numpy as np
    import simhash
    from data_juicer.ops.deduplicator.document_simhash_deduplicator import DocumentSimhashDeduplicator
    from data_juicer.utils.constant import HashKeys

    datasets.disable_caching()
    datasets.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    t0 = time.perf_counter()
    op = DocumentSimhashDeduplicator(tokenization="character", window_size=6, lowercase=True,
                                     num_blocks=6, hamming_distance=4)
    ds = datasets.Dataset.from_dict({"text": texts, "idx": list(range(len(texts)))})
    ds = ds.map(op.compute_hash)
    kept, _ = op.process(ds)
    secs = time.perf_counter() - t0
    # Data-Juicer returns only the kept samples. Its clusters, rebuilt the way it builds
    # them (outside the timing): connected components of the matching hashes, the first
    # sample of each kept.
    hashes = ds[HashKeys.simhash]
    first = {}
    for i, h in enumerate(hashes):
        first.setdefault(h, i)
    pairs = [(first[h], i) for i, h in enumerate(hashes) if first[h] != i]
    for x, y in simhash.find_all(np.uint64(hashes), 6, 4):
        pairs.append((first[str(x)], first[str(y)]))
    kept_idx = set(kept["idx"])
    return pairs, secs, kept_idx


def run_minhash(texts):
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=0.7, num_perm=128)
    pairs = []
    for i, t in enumerate(texts):
        m = MinHash(num_perm=128)
        grams = {t[k:k + 5] for k in range(max(1, len(t) - 4))}
        m.update_batch([g.encode("utf-8") for g in grams])
        for j in lsh.query(m):
            pairs.append((j, i))
        lsh.insert(i, m)
    return pairs


def main():
    method, out, result = sys.argv[1:4]
    docs = load(out)
    texts = [t for _, t in docs]
    t0 = time.perf_counter()
    kept_idx = None
    if method == "datajuicer":
        pairs, secs, kept_idx = run_datajuicer(texts)
    else:
        pairs = {"simhash": run_simhash, "minhash": run_minhash}[method](texts)
        secs = time.perf_counter() - t0
    reps = clusters(len(docs), pairs)
    if kept_idx is not None and kept_idx != set(reps):
        print(f"warning: rebuilt clusters keep {len(set(reps))}, Data-Juicer kept {len(kept_idx)}",
              file=sys.stderr)
    mapping = {docs[i][0]: docs[r][0] for i, r in enumerate(reps)}
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open(result, "w", encoding="utf-8") as f:
        json.dump({"method": method, "docs": len(docs), "seconds": secs, "peak_rss_mb": rss_mb,
                   "clusters": mapping}, f)


if __name__ == "__main__":
    main()
