#!/usr/bin/env python3
"""make-many-streams.py — a pcap with very many TCP streams, for measuring
what replay keeps per stream (scripts/bench-streams.sh).

    make-many-streams.py KIND COUNT OUT.pcap

KIND
  syn     COUNT streams of one SYN each that is never answered (a port scan,
          a SYN flood): 1 frame per stream, 70 bytes per record; 1,000,000
          streams make a 70 MB file.
  closed  COUNT whole connections, one after another: handshake, a 100-byte
          request, a 200-byte reply, FIN each way, each FIN acknowledged
          (8 frames per stream).
  mixed   the two interleaved: stream i is `closed` when i is even, `syn`
          when odd.

Every stream has its own 4-tuple: the clients are 127.1.0.0/16 and ports
1024-60999, the server 127.0.0.1:80 (a file only: nothing is sent).
Frames are Ethernet/IPv4/TCP with real IP and TCP checksums.

Time: the SYNs of `syn` come 1 µs apart (a flood). A `closed` or `mixed`
file opens 1,000 connections a second, as a busy web server does, each
frame of a connection 10 µs after the one before: the capture spans
COUNT / 1000 seconds, so most connections are long closed (past
TIME_WAIT) before the file ends.
"""

import struct
import sys

ETH = bytes.fromhex("020000000002" "020000000001" "0800")
SERVER = (bytes([127, 0, 0, 1]), 80)
SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def frame(src, dst, seq, ack, flags, payload=b""):
    (sip, sport), (dip, dport) = src, dst
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    pseudo = sip + dip + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
    csum = checksum(pseudo + tcp + payload)
    tcp = tcp[:16] + struct.pack("!H", csum) + tcp[18:]
    total = 20 + len(tcp) + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 6, 0, sip, dip)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ETH + ip + tcp + payload


def client_of(i):
    spread, port = divmod(i, 60000)
    if spread >= 65536:
        sys.exit("make-many-streams: COUNT is at most 3,932,160,000")
    return bytes([127, 1, spread >> 8, spread & 0xFF]), 1024 + port


def syn_stream(i):
    c = client_of(i)
    yield frame(c, SERVER, 1000 + i, 0, SYN)


def closed_stream(i):
    c, s = client_of(i), SERVER
    cs, ss = 1000 + i, 5000 + i  # initial sequence numbers
    req, rep = b"q" * 100, b"r" * 200
    yield frame(c, s, cs, 0, SYN)
    yield frame(s, c, ss, cs + 1, SYN | ACK)
    yield frame(c, s, cs + 1, ss + 1, ACK)
    yield frame(c, s, cs + 1, ss + 1, PSH | ACK, req)
    yield frame(s, c, ss + 1, cs + 101, PSH | ACK, rep)
    yield frame(c, s, cs + 101, ss + 201, FIN | ACK)
    yield frame(s, c, ss + 201, cs + 102, FIN | ACK)
    yield frame(c, s, cs + 102, ss + 202, ACK)


def streams(kind, count):
    """(microseconds, frame) in file order."""
    interval = 1 if kind == "syn" else 1000
    for i in range(count):
        if kind == "syn" or (kind == "mixed" and i % 2):
            frames = syn_stream(i)
        else:
            frames = closed_stream(i)
        for k, data in enumerate(frames):
            yield i * interval + 10 * k, data


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("syn", "closed", "mixed"):
        sys.exit(__doc__.strip().splitlines()[2].strip())
    kind, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for usec, data in streams(kind, count):
            sec, us = divmod(usec, 1_000_000)
            f.write(struct.pack("<IIII", 1_700_000_000 + sec, us, len(data), len(data)))
            f.write(data)


if __name__ == "__main__":
    main()
