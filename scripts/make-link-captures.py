#!/usr/bin/env python3
"""make-link-captures.py - real loopback TCP re-wrapped in the link headers
of other link types, written to captures/ (so every test that lists
captures/ checks them, with the fixtures scripts/tshark-fixtures.sh and
scripts/pdml-fixtures.py make).

The IP packets are copied byte for byte from captures/hello-ethernet.pcap
(one `tcplab trace --send hello` exchange on lo, IPv4, 10 frames,
nanosecond timestamps): its 14-byte Ethernet header is stripped and one
link header put in its place; timestamps are kept. The output is
deterministic (no clock, no randomness). The client is the side that sends
the first SYN; where a header names an end, the client's is 1 and the
server's 2.

  file                      LINKTYPE   link header before the IPv4 packet
  hello-ppp.pcap            9 PPP      ff 03 00 21: address 0xff, control
                                       0x03, protocol 0x0021 IPv4 (RFC 1661,
                                       RFC 1662 section 3.1)
  hello-chdlc.pcap          104 C_HDLC 0f 00 08 00: address 0x0f (unicast),
                                       control 0, protocol EtherType 0x0800
  hello-null-ethertype.pcap 0 NULL     00 00 08 00: two zero bytes and the
                                       EtherType, as old Linux libpcap wrote
                                       loopback frames (the Ethernet header
                                       with its addresses cut off); Wireshark
                                       takes a header above 1500 as an
                                       EtherType (packet-null.c)
  hello-nflog.pcap          239 NFLOG  family 2 (AF_INET), version 0,
                                       resource id 0 (big endian), then the
                                       TLVs the kernel sends for `iptables
                                       -j NFLOG --nflog-prefix tcplab` on the
                                       output hook, lengths and types in
                                       little-endian (the capturing host's
                                       order), each padded to 4 bytes:
                                         PACKET_HDR  hw protocol 0x0800 (big
                                                     endian), hook 3 (local
                                                     out), 1 pad byte
                                         PREFIX      "tcplab" and its NUL
                                         IFINDEX_OUTDEV 1 (lo, big endian)
                                         UID 1000, GID 1000 (big endian)
                                         PAYLOAD     the IPv4 packet
                                       The last TLV's padding is left out so
                                       that the frame ends where the IP packet
                                       does (the link header length the tests
                                       derive is the captured length minus the
                                       IP length).
  hello-ipoib.pcap          242 IPOIB  44 bytes as tcpdump's ipoib.pcap has
                                       them: 20 zero bytes, the destination
                                       address (QPN flags 0, QPN 0x000048,
                                       port GID fe80::<end>), EtherType 0x0800,
                                       2 reserved zero bytes (RFC 4391 sec. 6)
  hello-arcnet.pcap         129 ARCNET_LINUX  source ID, destination ID
                                       (0x01 client, 0x02 server), 2 offset
                                       bytes 00 00, protocol ID 0xd4 (RFC 1201
                                       IP), split flag 0, sequence (big
                                       endian) = frame index + 1

Usage: python3 scripts/make-link-captures.py   (then the two fixture scripts)
"""

import importlib.util
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CAPTURES = os.path.join(ROOT, "captures")
SOURCE = "hello-ethernet.pcap"
ETH_HDR_LEN = 14


# The input is read as make-encap-captures.py reads it (one reader for both).
_spec = importlib.util.spec_from_file_location(
    "encap", os.path.join(os.path.dirname(os.path.abspath(__file__)), "make-encap-captures.py"))
_encap = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_encap)
read_pcap = _encap.read_pcap


def write_pcap(name, header, e, linktype, records):
    _encap.write_pcap(name, header, e, records, out=CAPTURES, linktype=linktype)


# ---- link headers: each takes (frame index, end 1 or 2, IP packet) -------

def ppp(_index, _end, ip):
    return b"\xff\x03" + struct.pack("!H", 0x0021) + ip


def chdlc(_index, _end, ip):
    return b"\x0f\x00" + struct.pack("!H", 0x0800) + ip


def null_ethertype(_index, _end, ip):
    return b"\x00\x00" + struct.pack("!H", 0x0800) + ip


def tlv(kind, value, pad=True):
    body = struct.pack("<HH", 4 + len(value), kind) + value
    return body + b"\x00" * ((-len(body)) % 4 if pad else 0)


def nflog(_index, _end, ip):
    header = struct.pack("!BBH", 2, 0, 0)
    tlvs = [
        tlv(1, struct.pack("!HBB", 0x0800, 3, 0)),   # NFULA_PACKET_HDR
        tlv(10, b"tcplab\x00"),                      # NFULA_PREFIX
        tlv(5, struct.pack("!I", 1)),                # NFULA_IFINDEX_OUTDEV
        tlv(11, struct.pack("!I", 1000)),            # NFULA_UID
        tlv(14, struct.pack("!I", 1000)),            # NFULA_GID
        tlv(9, ip, pad=False),                       # NFULA_PAYLOAD
    ]
    return header + b"".join(tlvs)


def ipoib(_index, end, ip):
    # The destination is the other end.
    gid = b"\xfe\x80" + b"\x00" * 13 + bytes([3 - end])
    daddr = struct.pack("!I", 0x000048) + gid
    return b"\x00" * 20 + daddr + struct.pack("!HH", 0x0800, 0) + ip


def arcnet(index, end, ip):
    return struct.pack("!BBHBBH", end, 3 - end, 0, 0xd4, 0, index + 1) + ip


FILES = [
    ("hello-ppp.pcap", 9, ppp),
    ("hello-chdlc.pcap", 104, chdlc),
    ("hello-null-ethertype.pcap", 0, null_ethertype),
    ("hello-nflog.pcap", 239, nflog),
    ("hello-ipoib.pcap", 242, ipoib),
    ("hello-arcnet.pcap", 129, arcnet),
]


def main():
    header, e, frames = read_pcap(os.path.join(CAPTURES, SOURCE))
    first = frames[0][2][ETH_HDR_LEN:]
    client = first[(first[0] & 0x0f) * 4:][:2]  # the first SYN's source port
    for name, linktype, wrap in FILES:
        out = []
        for index, (sec, frac, frame) in enumerate(frames):
            ip = frame[ETH_HDR_LEN:]
            ihl = (ip[0] & 0x0f) * 4
            end = 1 if ip[ihl:ihl + 2] == client else 2
            out.append((sec, frac, wrap(index, end, ip)))
        write_pcap(name, header, e, linktype, out)


if __name__ == "__main__":
    main()
