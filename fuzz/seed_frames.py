#!/usr/bin/env python3
"""Writes the `frame` target's seed corpus from capture files.

Usage: seed_frames.py OUT_DIR CAPTURE...

Each seed is in the `frame` input layout (fuzz/harness.rs): a link byte (the
capture's link type, as an index of harness::LINKS), an options byte, then
per frame a two-byte little-endian length, a timing byte and the bytes.
One seed per capture holds its first frames (up to 4096 bytes, the target's
-max_len); one seed per distinct frame holds that frame alone.
"""
import hashlib
import os
import struct
import sys

MAX_LEN = 4096

# LINKTYPE value -> index in harness::LINKS (6: not decoded).
LINKS = {1: 0, 113: 1, 276: 2, 0: 3, 108: 4, 12: 5, 14: 5, 101: 5, 228: 5, 229: 5}


def link_index(dlt):
    return LINKS.get(dlt, 6)


def classic(data):
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\x34\xcd\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d", b"\xa1\xb2\xcd\x34"):
        e = ">"
    else:
        return
    hdr = 24 if magic in (b"\x34\xcd\xb2\xa1", b"\xa1\xb2\xcd\x34") else 16
    link = link_index(struct.unpack(e + "I", data[20:24])[0] & 0x03FFFFFF)
    at = 24
    while at + hdr <= len(data):
        cap = struct.unpack(e + "I", data[at + 8 : at + 12])[0]
        at += hdr
        if cap > len(data) - at:
            return
        yield link, data[at : at + cap]
        at += cap


def pcapng(data):
    e = "<"
    at = 0
    links = []
    while at + 12 <= len(data):
        kind = data[at : at + 4]
        if kind == b"\x0a\x0d\x0d\x0a":
            e = "<" if data[at + 8 : at + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            links = []
        kind = struct.unpack(e + "I", kind)[0]
        total = struct.unpack(e + "I", data[at + 4 : at + 8])[0]
        if total < 12 or at + total > len(data):
            return
        body = data[at + 8 : at + total - 4]
        if kind == 1 and len(body) >= 2:
            links.append(link_index(struct.unpack(e + "H", body[0:2])[0]))
        elif kind in (2, 6) and len(body) >= 20:
            iface = struct.unpack(e + ("H" if kind == 2 else "I"), body[0 : 2 if kind == 2 else 4])[0]
            cap = struct.unpack(e + "I", body[12:16])[0]
            yield (links[iface] if iface < len(links) else 6), body[20 : 20 + cap]
        elif kind == 3 and len(body) >= 4:
            yield (links[0] if links else 6), body[4:]
        at += total


def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        return list(pcapng(data))
    return list(classic(data))


def record(frame, timing=1):
    frame = frame[:0xFFFF]
    return struct.pack("<HB", len(frame), timing) + frame


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seeds = set()
    for path in sys.argv[2:]:
        fs = frames(path)
        if not fs:
            continue
        # The first frame's link; width 80, colour off, payload hex dumps.
        whole = bytes([fs[0][0], 0x05])
        for link, f in fs:
            if link != fs[0][0]:
                continue
            r = record(f)
            if len(whole) + len(r) > MAX_LEN:
                break
            whole += r
        seeds.add(whole)
        # The same frames read as every link type in turn.
        seeds.add(bytes([7]) + whole[1:])
        # Alone: whole-frame hex dumps, width 132.
        for link, f in fs:
            seeds.add(bytes([link, 0x16]) + record(f))
    for s in seeds:
        name = hashlib.sha1(s).hexdigest()
        with open(os.path.join(out, name), "wb") as f:
            f.write(s)
    print(f"{len(seeds)} frame seeds in {out}")


if __name__ == "__main__":
    main()
