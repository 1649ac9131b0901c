#!/usr/bin/env python3
"""make-fragment-captures.py - the edge cases of IP fragment reassembly, as
captures of real loopback TCP, written to captures/encap/.

The inner packets are those of captures/hello-ethernet.pcap (IPv4) and
captures/hello-ipv6.pcap, byte for byte, as in
scripts/make-encap-captures.py (whose helpers this script loads, so both
cut the same way): frames without TCP payload stay whole; each of the two
segments with payload (32-byte TCP header + "hello", 37 bytes) becomes the
fragments listed for its case below, each record with the segment's
timestamp. IPv4 fragments keep the segment's ID, clear DF, get a correct
header checksum; IPv6 fragments carry a Fragment header (next header 6,
identification 0x00c0ffee + frame index). Deterministic: the same bytes
every run.

A fragment is (first byte, end byte, more fragments, change, captured):
bytes [first, end) of the 37-byte segment; change "upper" turns the
fragment's share of the payload "hello" into "HELLO" (so which copy of
overlapping bytes the reassembly kept shows in tcp.payload); captured
(when not None) cuts the record after that many bytes of the fragment's
data, as a snaplen would (the record's original length stays whole).

  case             first segment                   second segment
  out-of-order     C, A, B                         B, C, A
  duplicate        A, A, B, C (before completion)  A, B, C, C (after it)
  overlap          C, C' upper (same offset), A, B C, X upper = [24, 37) MF, A
  incomplete       A, B (last missing)             A, C (middle missing)
  snaplen          A cut after 20 TCP bytes, B, C  A, B, C cut after 2 bytes
with A = [0, 24) MF, B = [24, 32) MF, C = [32, 37) the usual pieces.

Usage: python3 scripts/make-fragment-captures.py   (writes every file)
"""

import importlib.util
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "encap", os.path.join(HERE, "make-encap-captures.py"))
encap = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(encap)

A, B, C = (0, 24, True, None, None), (24, 32, True, None, None), (32, 37, False, None, None)
C_UPPER = (32, 37, False, "upper", None)
X_UPPER = (24, 37, True, "upper", None)
A_CUT = (0, 24, True, None, 20)
C_CUT = (32, 37, False, None, 2)

CASES = [
    ("out-of-order", [C, A, B], [B, C, A]),
    ("duplicate", [A, A, B, C], [A, B, C, C]),
    ("overlap", [C, C_UPPER, A, B], [C, X_UPPER, A]),
    ("incomplete", [A, B], [A, C]),
    ("snaplen", [A_CUT, B, C], [A, B, C_CUT]),
]


def data_of(segment, piece, header_len):
    """The fragment's bytes, with its share of the payload upper-cased if asked."""
    first, end, _, change, _ = piece
    data = bytearray(segment[first:end])
    if change == "upper":
        for i in range(max(first, header_len), end):
            data[i - first] = segment[i] ^ 0x20 if 0x61 <= segment[i] <= 0x7A else segment[i]
    return bytes(data)


def ipv4_fragment(inner, piece):
    ihl = (inner.ip[0] & 0x0F) * 4
    segment = inner.ip[ihl:]
    first, _, more, _, _ = piece
    data = data_of(segment, piece, inner.tcp_header_len)
    hdr = bytearray(inner.ip[:ihl])
    hdr[2:4] = struct.pack("!H", ihl + len(data))
    hdr[6:8] = struct.pack("!H", (0x2000 if more else 0) | (first // 8))
    hdr[10:12] = b"\x00\x00"
    hdr[10:12] = struct.pack("!H", encap.checksum(bytes(hdr)))
    return encap.eth(inner, encap.ETH_IPV4) + bytes(hdr) + data


def ipv6_fragment(inner, piece):
    segment = inner.ip[40:]
    first, _, more, _, _ = piece
    data = data_of(segment, piece, inner.tcp_header_len)
    frag = struct.pack("!BBHI", encap.IP_TCP, 0, first | int(more), 0x00C0FFEE + inner.index)
    hdr = bytearray(inner.ip[:40])
    hdr[4:6] = struct.pack("!H", len(frag) + len(data))
    hdr[6] = encap.IP_FRAG
    return encap.eth(inner, encap.ETH_IPV6) + bytes(hdr) + frag + data


def records(frames, fragment, plans):
    """(ts_sec, ts_frac, captured bytes, original length) for every record."""
    out, segments = [], 0
    for sec, frac, inner in frames:
        if inner.payload_len == 0:
            out.append((sec, frac, inner.frame, len(inner.frame)))
            continue
        for piece in plans[segments]:
            first, end, _, _, captured = piece
            assert first % 8 == 0 and end - first > 0
            frame = fragment(inner, piece)
            cut = len(frame) if captured is None else len(frame) - (end - first) + captured
            out.append((sec, frac, frame[:cut], len(frame)))
        segments += 1
    assert segments == len(plans), "the input has %d segments with payload" % segments
    return out


def write(name, header, e, recs):
    parts = [header]
    for sec, frac, frame, orig in recs:
        parts.append(struct.pack(e + "IIII", sec, frac, len(frame), orig))
        parts.append(frame)
    path = os.path.join(encap.OUT, name)
    with open(path, "wb") as f:
        f.write(b"".join(parts))
    print("wrote captures/encap/%s (%d frames, %d bytes)"
          % (name, len(recs), os.path.getsize(path)))


def main():
    os.makedirs(encap.OUT, exist_ok=True)
    families = [("ipv4", "hello-ethernet.pcap", ipv4_fragment),
                ("ipv6", "hello-ipv6.pcap", ipv6_fragment)]
    for family, source, fragment in families:
        header, e, frames = encap.inners(os.path.join(encap.IN, source))
        for case, first, second in CASES:
            recs = records(frames, fragment, [first, second])
            write("%s-fragments-%s.pcap" % (family, case), header, e, recs)


if __name__ == "__main__":
    main()
