#!/usr/bin/env python3
"""render_html.py TEXT_DIR HTML_DIR: every text page of a corpus in the site's layout
rendered as a noisy HTML page (head with a script and a style, nav, the title as <h1>, one
<p> a line with inline tags, each related block a <div> with its title a link, footer), for
the HTML benchmarks. Standard library only."""
import html, os, sys

src, dst = sys.argv[1], sys.argv[2]
HEAD = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>{t} - 健康问答</title>'
        '<link rel="canonical" href="https://qa.example.org/q/{n}.html">'
        '<script>var t = "<p>x</p>"; if (a < b) {{}}</script><style>p > b {{ color: red }}</style>'
        '</head><body><nav><a href="/">首页</a> | <a href="/yb">医保</a></nav><main><h1>{t}</h1>\n')
TAIL = '</main><footer>版权所有</footer></body></html>\n'


def esc(s):
    out, prev = [], True
    for c in s:
        out.append('&nbsp;' if c == ' ' and prev else html.escape(c, quote=False))
        prev = c == ' '
    return ''.join(out)


def is_date(l):
    t = l.strip()[-10:]
    return len(t) == 10 and t.count('-') == 2


def render(text, n):
    lines = [l for l in text.split('\n') if l.strip()]
    if not lines:
        return text
    out = [HEAD.format(t=esc(lines[0]), n=n)]
    related, i = False, 1
    while i < len(lines):
        l = lines[i]
        if l.strip() == '相关推荐':
            related = True
            out.append('<h2>%s</h2>\n' % esc(l))
            i += 1
            continue
        if related and i + 2 < len(lines) and is_date(lines[i + 2]):
            out.append('<div class="rec"><a href="../r/%d.html">%s</a><p>%s</p><span>%s</span></div>\n'
                       % (i, esc(l), esc(lines[i + 1]), esc(lines[i + 2])))
            i += 3
            continue
        half = len(l) // 2
        out.append('<p><span>%s</span><b>%s</b></p>\n' % (esc(l[:half]), esc(l[half:])))
        i += 1
    out.append(TAIL)
    return ''.join(out)


n = 0
for root, _, files in os.walk(src):
    for f in sorted(files):
        p = os.path.join(root, f)
        rel = os.path.relpath(p, src)
        try:
            text = open(p, encoding='utf-8').read()
        except (UnicodeDecodeError, OSError):
            continue
        os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
        with open(os.path.join(dst, rel), 'w', encoding='utf-8') as o:
            o.write(render(text, n))
        n += 1
print(n, 'pages rendered')
