#!/usr/bin/env python3
"""plot_job.py - an SVG bar chart of the job checkpoint benchmark's ratios.

    python3 bench/plot_job.py build/bench/job_ckpt.txt doc/performance-job.svg

Reads the "ratio KEY VALUE" lines that bench/job_ckpt.sh prints last and
draws one bar per ratio, grouped by what it measures, each group with its
target marked: job checkpoint / slowest rank's engine time (<= 1.2),
restart under the other MPI / under the same MPI (<= 1.1), raw, with
each MPI's own start-up subtracted, and with the launcher held fixed (an
image of the other MPI against one of the launcher's own), and runtime
with the checkpoint bookkeeping / without it (<= 1.02).  A bar at or
below its target is green, above it red.
Standard library only: the SVG is written by hand.
"""
import html
import sys

GROUPS = [  # (key prefix, title, target)
    ("job_over_slowest_", "job checkpoint / slowest rank", 1.2),
    ("restart_other_over_same_", "restart other MPI / same MPI", 1.1),
    ("restart_net_other_over_same_", "the same, each MPI's own start-up taken off", 1.1),
    ("restart_cross_under_", "the same launcher, image of the other MPI / its own", 1.1),
    ("bookkeeping_", "runtime with / without bookkeeping", 1.02),
]
W, BAR_H, GAP, LEFT, RIGHT, TOP = 760, 22, 14, 250, 40, 40
XMAX = 2.0  # ratios are clamped to [0, XMAX]


def read_ratios(path):
    ratios = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "ratio":
                ratios.append((parts[1], float(parts[2])))
    return ratios


def x_of(r):
    return LEFT + min(max(r, 0.0), XMAX) / XMAX * (W - LEFT - RIGHT)


def label_of(key, prefix):
    rest = key[len(prefix):]
    if rest.isdigit():
        return f"{rest} ranks"
    return {"coll": "collective kernel", "p2p": "point-to-point kernel"}.get(rest, rest)


def rows(ratios):
    """Bars and group titles, top to bottom, as (kind, text, value, target)."""
    out = []
    for prefix, title, target in GROUPS:
        mine = [(k, v) for k, v in ratios if k.startswith(prefix)]
        if not mine:
            continue
        out.append(("title", f"{title} (target <= {target:g})", None, target))
        for k, v in mine:
            out.append(("bar", label_of(k, prefix), v, target))
    return out


def svg(ratios):
    rs = rows(ratios)
    h = TOP + len(rs) * (BAR_H + GAP) + 50
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}" '
           f'font-family="sans-serif" font-size="13">',
           f'<rect width="{W}" height="{h}" fill="white"/>',
           f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="15">'
           f'dmtcp_mpi: checkpoint of a whole job, ratios (lower is better)</text>']
    for i in range(0, int(XMAX * 4) + 1):
        r = i / 4
        x = x_of(r)
        out.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{h - 40}" stroke="#eee"/>')
        out.append(f'<text x="{x:.1f}" y="{h - 24}" text-anchor="middle">{r:g}x</text>')
    y = TOP
    for kind, text, value, target in rs:
        if kind == "title":
            out.append(f'<text x="10" y="{y + BAR_H - 6}" font-weight="bold">'
                       f'{html.escape(text)}</text>')
            tx = x_of(target)
        else:
            color = "#2ca02c" if value <= target else "#d62728"
            out.append(f'<text x="{LEFT - 8}" y="{y + BAR_H - 6}" text-anchor="end">'
                       f'{html.escape(text)}</text>')
            out.append(f'<rect x="{LEFT}" y="{y}" width="{x_of(value) - LEFT:.1f}" '
                       f'height="{BAR_H}" fill="{color}"/>')
            out.append(f'<text x="{x_of(value) + 4:.1f}" y="{y + BAR_H - 6}">{value:.2f}</text>')
            out.append(f'<line x1="{tx:.1f}" y1="{y - 3}" x2="{tx:.1f}" y2="{y + BAR_H + 3}" '
                       f'stroke="black" stroke-dasharray="4,2"/>')
        y += BAR_H + GAP
    out.append(f'<text x="{W / 2}" y="{h - 6}" text-anchor="middle">'
               f'dashed line: target</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: plot_job.py RESULTS SVG")
    ratios = read_ratios(sys.argv[1])
    if not ratios:
        sys.exit(f"plot_job.py: no 'ratio KEY VALUE' lines in {sys.argv[1]}")
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write(svg(ratios))


if __name__ == "__main__":
    main()
