#!/usr/bin/env python3
"""Scores duplicate decisions against the labels `pagesieve synth` planted (the same
definitions as src/quality.rs): recall per tier (a planted copy in its base page's
cluster), precision of drop decisions (member -> representative in the same label group),
hard negatives merged.

usage: score.py LABELS.jsonl (--pagesieve OUT_DIR | --clusters RESULT.json)
Prints one JSON object.
"""
import json
import sys


def pagesieve_clusters(out):
    ids, cl = {}, {}
    with open(f"{out}/articles.jsonl", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            ids[r["id"]] = r["source"]
            cl[r["source"]] = r["source"]
    with open(f"{out}/dropped.jsonl", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["kind"] == "article":
                cl[r["source"]] = ids[r["duplicate_of"]]
    return cl


def score(labels, cl):
    group = {l["source"]: l["group"] for l in labels}
    tiers = {t: [0, 0] for t in ("exact", "near_a", "near_b")}
    neg = [0, 0]
    for l in labels:
        b = l.get("base")
        if not b or l["source"] not in cl or b not in cl:
            continue
        same = cl[l["source"]] == cl[b]
        if l["role"] == "negative":
            neg[0] += 1
            neg[1] += same
        elif l["role"] in tiers:
            tiers[l["role"]][0] += 1
            tiers[l["role"]][1] += same
    decisions = [(s, k) for s, k in cl.items() if s != k]
    correct = sum(group.get(s) == group.get(k) for s, k in decisions)
    p = correct / len(decisions) if decisions else 1.0
    found = sum(v[1] for v in tiers.values())
    total = sum(v[0] for v in tiers.values())
    r = found / total if total else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f1,
            "recall_tiers": {t: (v[1] / v[0] if v[0] else 1.0) for t, v in tiers.items()},
            "decisions": len(decisions), "negatives_merged": neg[1], "negatives": neg[0]}


def main():
    labels = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
    if sys.argv[2] == "--pagesieve":
        cl = pagesieve_clusters(sys.argv[3])
    else:
        cl = json.load(open(sys.argv[3], encoding="utf-8"))["clusters"]
    print(json.dumps(score(labels, cl)))


if __name__ == "__main__":
    main()
