#!/usr/bin/env python3
"""mkcorpus.py - write the image-reader corpus (tests/ckpt/corpus/).

Small images built field by field to the layout of ckpt/image.h:
good-*.img must be accepted by `dmtcp_mpi_restart --info`, bad-*.img
refused with exit 71 and one line.  They seed the fuzzer (make
fuzz-image) and are replayed by tests/ckpt/run.sh.  Inputs the fuzzer
found interesting can be added as bad-*.img / good-*.img by hand.

    python3 tests/ckpt/mkcorpus.py [OUTDIR]
"""
import os
import struct
import sys

M = (1 << 64) - 1
P1, P2, P3, P4, P5 = (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F,
                      0x165667B19E3779F9, 0x85EBCA77C2B2AE63,
                      0x27D4EB2F165667C5)
PAGE = 4096


def rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M


def rnd(acc, v):
    return (rotl((acc + v * P2) & M, 31) * P1) & M


def xxh64(data, seed=0):
    """XXH64 as specified; the same function as ckpt/hash.c."""
    n, i = len(data), 0
    if n >= 32:
        v = [(seed + P1 + P2) & M, (seed + P2) & M, seed, (seed - P1) & M]
        while i + 32 <= n:
            for k in range(4):
                v[k] = rnd(v[k], struct.unpack_from('<Q', data, i + 8 * k)[0])
            i += 32
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) +
             rotl(v[3], 18)) & M
        for k in range(4):
            h = ((h ^ rnd(0, v[k])) * P1 + P4) & M
    else:
        h = (seed + P5) & M
    h = (h + n) & M
    while i + 8 <= n:
        h ^= rnd(0, struct.unpack_from('<Q', data, i)[0])
        h = (rotl(h, 27) * P1 + P4) & M
        i += 8
    if i + 4 <= n:
        h ^= (struct.unpack_from('<I', data, i)[0] * P1) & M
        h = (rotl(h, 23) * P2 + P3) & M
        i += 4
    while i < n:
        h ^= (data[i] * P5) & M
        h = (rotl(h, 11) * P1) & M
        i += 1
    h ^= h >> 33
    h = (h * P2) & M
    h ^= h >> 29
    h = (h * P3) & M
    h ^= h >> 32
    return h


HDR = '<8sIIHBBIQQIIQQIIQ65s23s64sQ'
SEC = '<IIQQQQII'
SEC_PROC, SEC_THREADS, SEC_FDS, SEC_REGIONS, SEC_EXTENTS, SEC_STRINGS, \
    SEC_DATA = range(1, 8)


def proc(strings_cwd=0, strings_exe=5, leader=0):
    p = struct.pack('<QQ6QQQQQ4IIIIIII', 0x600000, 0x600000, *([0] * 6),
                    0x7f0000001000, 0x7f0000002000, 0, 0, 0, 0, 0, 0,
                    0o22, 0, strings_cwd, strings_exe, leader, 0)
    return p + bytes(64 * 32)


def thread():
    return struct.pack('<IIQQQQQIIQQQ16s', 42, 2, 0x7f0000010000,
                       0x7f0000010000 + 720, 0, 0, 0, 0, 0,
                       0x7f0000020000, 0x7f0000003000, 0, b'app')


def image(npages=2, codec=0, tweak=None):
    strings = b'/tmp\0/bin/app\0'
    fds = struct.pack('<iIiiQQiI', 1, 1, 1, 0, 0, 0, -1, 0xffffffff)
    region = struct.pack('<QQIIIIQ', 0x10000, 0x20000, 3, 1, 0,
                         0xffffffff, 0)
    extents = struct.pack('<QQ', 0x10000, npages * PAGE)
    data = bytes((i * 7) & 0xff for i in range(npages * PAGE))
    blob = bytearray(PAGE)
    table = []

    def put(kind, payload, align=8, ext=(0, 0)):
        while len(blob) % align:
            blob.append(0)
        table.append([kind, 0, len(blob), len(payload), len(payload),
                      xxh64(payload), ext[0], ext[1]])
        blob.extend(payload)

    for kind, payload in ((SEC_PROC, proc()), (SEC_THREADS, thread()),
                          (SEC_FDS, fds), (SEC_REGIONS, region),
                          (SEC_EXTENTS, extents), (SEC_STRINGS, strings)):
        put(kind, payload)
    put(SEC_DATA, data, PAGE, (0, 1))
    table[-1][4] = len(data)
    if tweak:
        tweak(table, blob)
    while len(blob) % 8:
        blob.append(0)
    toff = len(blob)
    tab = b''.join(struct.pack(SEC, *e) for e in table)
    size = toff + len(tab)
    hdr = [b'DMTCPMPI', 1, 240, 62, 8, 1, PAGE, size, toff, len(table), 0,
           xxh64(tab), 0, 42, 1, len(data), b'6.1.0', b'2.36', b'host', 0]
    raw = struct.pack(HDR, *hdr)
    hdr[-1] = xxh64(raw)
    blob[0:240] = struct.pack(HDR, *hdr)
    return bytes(blob) + tab


def flip(img, off):
    b = bytearray(img)
    b[off] ^= 0x5a
    return bytes(b)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), 'corpus')
    os.makedirs(out, exist_ok=True)
    good = image()

    def two_data_sections(table, blob):
        first = table[-1]
        first[3] = first[4] = PAGE
        first[5] = xxh64(bytes(blob[first[2]:first[2] + PAGE]))
        table.append([SEC_DATA, 0, first[2] + PAGE, PAGE, PAGE,
                      xxh64(bytes(blob[first[2] + PAGE:first[2] + 2 * PAGE])),
                      1, 0])

    files = {
        'good-minimal.img': good,
        'good-one-page.img': image(npages=1),
        'bad-truncated.img': good[:len(good) // 2],
        'bad-header-only.img': good[:240],
        'bad-empty.img': b'',
        'bad-magic.img': b'NOTANIMG' + good[8:],
        'bad-version.img': good[:8] + struct.pack('<I', 2) + good[12:],
        'bad-arch.img': good[:16] + struct.pack('<H', 183) + good[18:],
        'bad-header-hash.img': flip(good, 100),
        'bad-data.img': flip(good, PAGE + 4000 + 2184),
        'bad-table.img': flip(good, len(good) - 10),
        'bad-extra-extent-count.img': image(tweak=two_data_sections),
        'bad-codec.img': image(tweak=lambda t, b: t[-1].__setitem__(1, 9)),
    }
    for name, data in files.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
