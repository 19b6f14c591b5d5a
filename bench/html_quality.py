#!/usr/bin/env python3
"""html_quality.py HTML_DIR TEXT_OUT HTML_OUT [N]: how well trafilatura finds the answer
body of the site's HTML pages, against pagesieve on the same pages.

TEXT_OUT is pagesieve's output over the pages saved as text (the reference bodies), HTML_OUT
its output over HTML_DIR. For N pages (default 1000) with a kept article in both, each
extractor's text is split into lines and scored against the reference body's lines:
recall (body lines found) and precision (lines found that are body lines, not related
snippets or boilerplate). Prints a Markdown table row per extractor, with the time a page.
Needs trafilatura (pip install trafilatura lxml_html_clean)."""
import json, os, sys, time

import trafilatura

html_dir, text_out, html_out = sys.argv[1:4]
n = int(sys.argv[4]) if len(sys.argv) > 4 else 1000


def bodies(out):
    return {r['source']: r['text'] for r in map(json.loads, open(os.path.join(out, 'articles.jsonl'), encoding='utf-8'))}


ref, ours = bodies(text_out), bodies(html_out)
sources = sorted(s for s in ref if s in ours)[:n]


def norm(line):
    return ''.join(line.split())


def score(body, got):
    want = {norm(l) for l in body.split('\n') if norm(l)}
    have = [norm(l) for l in got.split('\n') if norm(l)]
    found = sum(1 for w in want if any(w == h for h in have))
    right = sum(1 for h in have if h in want)
    return found / max(len(want), 1), right / max(len(have), 1)


rows = []
t = time.perf_counter()
traf = {s: trafilatura.extract(open(os.path.join(html_dir, s), encoding='utf-8').read(),
                              include_comments=False, include_tables=True, favor_recall=True) or ''
        for s in sources}
t_traf = (time.perf_counter() - t) / max(len(sources), 1)
for name, got, per_page in [('trafilatura %s (favor_recall)' % trafilatura.__version__, traf, t_traf),
                            ('pagesieve (HTML path)', {s: ours[s] for s in sources}, None)]:
    rec = prec = 0.0
    for s in sources:
        r, p = score(ref[s], got[s])
        rec += r
        prec += p
    k = max(len(sources), 1)
    ms = '%.2f' % (per_page * 1000) if per_page is not None else 'see the run table'
    rows.append('| %s | %d | %.3f | %.3f | %s |' % (name, len(sources), rec / k, prec / k, ms))
print('| extractor | pages | body recall | precision | ms a page |')
print('|---|---|---|---|---|')
print('\n'.join(rows))
