#!/usr/bin/env python3
"""plot.py - an SVG chart of the ours/native ratios from `make bench`.

    python3 bench/plot.py build/bench/results.txt doc/perf-ratios.svg

Reads the "ratio MPI KEY VALUE" lines (ours/native) that bench/table.awk
prints at the end of results.txt and draws, for each MPI and message
size, our speed as a fraction of native: native/ours for ping-pong
latency (the same number as ours/native for ping-pong bandwidth), and
ours/native for windowed bandwidth, so 1.0 is native speed and higher is
better on every line.  Log2 y axis; the 0.8x bandwidth
target and the 1.0x line are marked.
Standard library only: the SVG is written by hand.
"""
import math
import sys

SIZES = [8, 1024, 65536, 1048576, 16777216]
SIZE_NAMES = ["8 B", "1 KiB", "64 KiB", "1 MiB", "16 MiB"]
# Ping-pong bandwidth is size / latency, so its ratio is the latency's
# inverted: one line serves both.
SERIES = [  # (key prefix, label, dash pattern, invert the ratio)
    ("lat", "ping-pong (latency, bandwidth)", "", True),
    ("bwwin", "windowed bandwidth", "5,3", False),
]
COLORS = {"mpich": "#1f77b4", "openmpi": "#d62728"}
W, H = 760, 440
LEFT, RIGHT, TOP, BOTTOM = 70, 250, 40, 60
YMIN, YMAX = 1 / 32, 2  # log2 axis range, ratios are clamped into it


def read_ratios(path):
    ratios = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 4 and parts[0] == "ratio":
                ratios[(parts[1], parts[2])] = float(parts[3])
    return ratios


def x_of(i):
    return LEFT + i * (W - LEFT - RIGHT) / (len(SIZES) - 1)


def y_of(r):
    r = min(max(r, YMIN), YMAX)
    frac = (math.log2(r) - math.log2(YMIN)) / (math.log2(YMAX) - math.log2(YMIN))
    return TOP + (1 - frac) * (H - TOP - BOTTOM)


def axes():
    out = []
    for e in range(int(math.log2(YMIN)), int(math.log2(YMAX)) + 1):
        r = 2.0 ** e
        y = y_of(r)
        label = f"{r:g}x" if r >= 1 else f"1/{int(1 / r)}x"
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" '
                   f'stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    for i, name in enumerate(SIZE_NAMES):
        out.append(f'<text x="{x_of(i):.1f}" y="{H - BOTTOM + 18}" '
                   f'text-anchor="middle">{name}</text>')
    for r, label in ((1.0, "1.0x (native)"), (0.8, "0.8x bw target")):
        y = y_of(r)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" '
                   f'stroke="#888" stroke-dasharray="1,0"/>')
        out.append(f'<text x="{W - RIGHT + 4}" y="{y + 4:.1f}" fill="#666">{label}</text>')
    out.append(f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 15}" '
               f'text-anchor="middle">message size</text>')
    return out


def lines(ratios, mpis):
    out = []
    legend_y = TOP + 40
    for mpi in mpis:
        for key, label, dash, invert in SERIES:
            pts = []
            for i, size in enumerate(SIZES):
                r = ratios.get((mpi, f"{key}_{size}"))
                if r:
                    pts.append((x_of(i), y_of(1 / r if invert else r)))
            if not pts:
                continue
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            style = f'stroke="{COLORS.get(mpi, "#000")}" fill="none" stroke-width="2"'
            if dash:
                style += f' stroke-dasharray="{dash}"'
            out.append(f'<polyline points="{path}" {style}/>')
            for x, y in pts:
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" '
                           f'fill="{COLORS.get(mpi, "#000")}"/>')
            lx = W - RIGHT + 10
            out.append(f'<line x1="{lx}" y1="{legend_y}" x2="{lx + 24}" y2="{legend_y}" '
                       f'{style}/>')
            out.append(f'<text x="{lx + 30}" y="{legend_y + 4}">{mpi}: {label}</text>')
            legend_y += 18
    return out


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: plot.py RESULTS.txt OUT.svg\n")
        return 64
    ratios = read_ratios(sys.argv[1])
    if not ratios:
        sys.stderr.write(f"dmtcp_mpi: error: no ratio lines ({sys.argv[1]}): "
                         "run make bench first\n")
        return 1
    mpis = sorted({m for m, _ in ratios})
    body = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
            f'font-family="sans-serif" font-size="11">',
            f'<rect width="{W}" height="{H}" fill="white"/>',
            f'<text x="{LEFT}" y="{TOP - 15}" font-size="14">dmtcp_mpi as a fraction of native '
            f'speed, 2 ranks (log scale, higher is better)</text>']
    body += axes() + lines(ratios, mpis) + ["</svg>"]
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write("\n".join(body) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
