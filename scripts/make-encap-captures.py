#!/usr/bin/env python3
"""make-encap-captures.py - real loopback TCP re-wrapped in the outer headers
of real-world encapsulations, written to captures/encap/.

The TCP inside is real: every inner IP packet (or, for the tunnels that carry
Ethernet, every inner Ethernet frame) is copied byte for byte from a capture
tcplab made (scripts/make-captures.sh); only the headers around it are made
here. Timestamps are kept; one record in, one record out, except for the
fragment files, where a segment with payload becomes 3 records with the
original timestamp. The output is deterministic: the same bytes every run
(no clock, no randomness; IDs and ports are computed from the frame index
and the inner ports).

Why a sub-directory of captures/: the tests that list captures/ take its
files only, so these need no fixtures of the kind captures/ files have
until tcplab decodes them (tests/fixtures/*/encap/ hold tshark's view).

Inputs (Ethernet, nanosecond pcap, one traced `tcplab trace --send hello`
exchange on lo, 10 frames; the client is the side that sends the first SYN):
  captures/hello-ethernet.pcap   IPv4 127.0.0.1 <-> 127.0.0.1
  captures/hello-ipv6.pcap       IPv6 ::1 <-> ::1
(captures/lossy-bulk.pcap is NOT used: it was taken with snaplen 200, so its
data segments are cut after 134 payload bytes and cannot be re-fragmented
or re-wrapped whole.)

Outer addresses are documentation ones: MAC 00:00:5e:00:53:01 is the client
side, 00:00:5e:00:53:02 the server side (RFC 7042 section 2.1.2); tunnel
endpoints 192.0.2.1 (client side) and 198.51.100.1 (server side) (RFC 5737).
Every outer IPv4 header: version 4, IHL 5, DSCP/ECN 0, total length right,
identification 0x4000 + frame index (0-based), DF set (Linux tunnels copy the
inner DF, and every inner packet has it), TTL 64, the right protocol, a
correct header checksum. UDP: source port 49152 + ((inner source port * 31
+ inner destination port) mod 16384), so one per direction (Linux hashes the
inner flow into the source port, and captures/encap/vxlan-kernel.pcap shows
a different one each way), length right, checksum 0 (allowed for IPv4, RFC
768, RFC 7348 section 5; the kernel's VXLAN here sets one, see that file).

Layouts (E = outer Ethernet header: dst MAC, src MAC, EtherType):

  file                      frame on the wire                               inner from
  vlan.pcap                 E(0x8100) | TCI PCP 0 DEI 0 VID 100, 0x0800 | IPv4    hello-ethernet
  qinq.pcap                 E(0x88a8) | S-tag VID 200, 0x8100 | C-tag VID 100,
                            0x0800 | IPv4                                         hello-ethernet
  mpls.pcap                 E(0x8847) | label 1000 TC 0 S 0 TTL 64 |
                            label 2000 TC 0 S 1 TTL 64 | IPv4 (no payload type
                            on the wire: the first nibble, 4, tells)              hello-ethernet
  mpls-ipv6.pcap            the same two labels | IPv6 (first nibble 6)           hello-ipv6
  pppoe.pcap                E(0x8864) | PPPoE ver 1 type 1 code 0x00 session
                            0x1234 length (= 2 + IP length) | PPP protocol
                            0x0021 | IPv4  (RFC 2516 section 4, RFC 1661)         hello-ethernet
  gre-ipv4.pcap             E(0x0800) | IPv4 proto 47 | GRE flags/version 0,
                            protocol 0x0800 (4 bytes, RFC 2784) | IPv4           hello-ethernet
  gre-eth.pcap              E(0x0800) | IPv4 proto 47 | GRE protocol 0x6558
                            (transparent Ethernet bridging, Linux gretap) |
                            the whole inner Ethernet frame                       hello-ethernet
  vxlan.pcap                E(0x0800) | IPv4 proto 17 | UDP dst 4789 | VXLAN
                            flags 0x08 (I), VNI 42, reserved 0 (8 bytes,
                            RFC 7348) | the whole inner Ethernet frame           hello-ethernet
  geneve.pcap               E(0x0800) | IPv4 proto 17 | UDP dst 6081 | Geneve
                            version 0, option length 2 (8 bytes of options),
                            O 0 C 0, protocol 0x6558, VNI 42 | one option:
                            class 0x0102, type 0x80, length 1, 4 data bytes
                            00 01 00 02 (the shape of OVN's option) | the
                            whole inner Ethernet frame (RFC 8926)                hello-ethernet
  ipip.pcap                 E(0x0800) | IPv4 proto 4 | IPv4 (RFC 2003)          hello-ethernet
  sit.pcap                  E(0x0800) | IPv4 proto 41 | IPv6 (6in4, RFC 4213)   hello-ipv6
  pbb.pcap                  E(0x88e7) | I-tag PCP 0 DEI 0 UCA 0, I-SID 0x010203
                            | the whole inner Ethernet frame (its customer
                            addresses and EtherType; 802.1ah)                   hello-ethernet
  llc-snap.pcap             802.3: dst, src, length (8 + IP length) | LLC
                            DSAP 0xaa SSAP 0xaa control 0x03 | SNAP OUI
                            00-00-00, EtherType 0x0800 | IPv4 (RFC 1042)         hello-ethernet
  fabricpath.pcap           outer switch addresses (02:00:0S:00:00:01, S the
                            switch-id: 1 client side, 2 server side) | 0x8903 |
                            FTag 1, TTL 32 | E(0x0800) | IPv4 | FCS (CRC-32 of
                            the frame: tshark 4.0 takes the last 4 bytes as
                            FabricPath's FCS, always)                            hello-ethernet
  ip4in6.pcap               E(0x86dd) | IPv6 next header 4, 2001:db8::1 <->
                            2001:db8::2, hop limit 64 | IPv4 (RFC 2473)          hello-ethernet
  ip6in6.pcap               E(0x86dd) | IPv6 next header 41 | IPv6              hello-ipv6
  gre-key-seq.pcap          E(0x0800) | IPv4 proto 47 | GRE flags C K S
                            (0xb000), protocol 0x0800, checksum (right),
                            reserved 0, key 42, sequence frame index + 1
                            (16 bytes, RFC 2784, RFC 2890) | IPv4               hello-ethernet
  mpls-gre.pcap             E(0x0800) | IPv4 proto 47 | GRE protocol 0x8847 |
                            label 3000 S 1 TTL 64 | IPv4 (RFC 4023)             hello-ethernet
  vlan-vxlan.pcap           E(0x8100) | TCI VID 10, 0x0800 | IPv4 proto 17 |
                            UDP dst 4789 | VXLAN as vxlan.pcap | the whole
                            inner Ethernet frame                                 hello-ethernet
  qinq-pppoe.pcap           E(0x88a8) | S-tag VID 200, 0x8100 | C-tag VID 100,
                            0x8864 | PPPoE as pppoe.pcap | PPP 0x0021 | IPv4
                            (a broadband access network's subscriber frame)      hello-ethernet
  ipv4-fragments.pcap       E(0x0800) | the inner IPv4 packet itself; each of
                            the 2 segments with payload (32-byte TCP header +
                            5 bytes "hello") is cut into 3 fragments of 24, 8
                            and 5 bytes (offsets 0, 3, 4 in 8-byte units; MF
                            on the first two; DF cleared; same ID as the
                            original; checksum recomputed). The first fragment
                            holds the TCP base header and the first 4 option
                            bytes, the last the payload. Other frames whole.   hello-ethernet
  ipv6-fragments.pcap       E(0x86dd) | IPv6 next header 44 | Fragment header
                            (next header 6, offset, M, identification
                            0x00c0ffee + frame index) | a piece of the TCP
                            segment; the segments with payload are cut as
                            above (24, 8, 5 bytes). Other frames whole.         hello-ipv6

Outer IPv6 (ip4in6, ip6in6): version 6, traffic class 0, flow label 0,
payload length right, hop limit 64, 2001:db8::1 client side and
2001:db8::2 server side (RFC 3849).

The inner Ethernet frames in gre-eth, vxlan, vlan-vxlan, geneve and pbb keep their lo
addresses (00:00:00:00:00:00 both ways), and every inner IP packet keeps
127.0.0.1 or ::1: those are the real bytes. In vlan, qinq, mpls, pppoe,
llc-snap and qinq-pppoe the inner Ethernet header is replaced by the outer
one; in fabricpath by one with the documentation MACs.

Usage: python3 scripts/make-encap-captures.py   (writes every file)
"""

import os
import struct
import sys
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IN = os.path.join(ROOT, "captures")
OUT = os.path.join(ROOT, "captures/encap")

MAC_CLIENT = bytes.fromhex("00005e005301")
MAC_SERVER = bytes.fromhex("00005e005302")
IP_CLIENT = bytes([192, 0, 2, 1])
IP_SERVER = bytes([198, 51, 100, 1])
IP6_CLIENT = bytes.fromhex("20010db8000000000000000000000001")  # 2001:db8::1
IP6_SERVER = bytes.fromhex("20010db8000000000000000000000002")  # 2001:db8::2
# FabricPath's outer (hierarchical) addresses: U/L set, switch-id, sub-switch
# 0, LID 1; switch 1 on the client side, switch 2 on the server side.
HMAC_CLIENT = bytes.fromhex("020001000001")
HMAC_SERVER = bytes.fromhex("020002000001")

ETH_IPV4, ETH_IPV6, ETH_VLAN, ETH_QINQ = 0x0800, 0x86DD, 0x8100, 0x88A8
ETH_MPLS, ETH_PPPOE_SESSION, ETH_TEB = 0x8847, 0x8864, 0x6558
ETH_PBB, ETH_FABRICPATH = 0x88E7, 0x8903
IP_IPIP, IP_TCP, IP_UDP, IP_IPV6, IP_GRE, IP_FRAG = 4, 6, 17, 41, 47, 44


# ---- pcap ---------------------------------------------------------------

def read_pcap(path):
    """(file header bytes, endianness, [(ts_sec, ts_frac, frame)])."""
    data = open(path, "rb").read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        sys.exit("%s: not a pcap file" % path)
    header = data[:24]
    (linktype,) = struct.unpack(e + "I", header[20:24])
    if linktype != 1:
        sys.exit("%s: link type %d, expected 1 (Ethernet)" % (path, linktype))
    records, off = [], 24
    while off < len(data):
        sec, frac, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        if len(frame) != incl or incl != orig:
            sys.exit("%s: record at byte %d is not a whole frame" % (path, off))
        records.append((sec, frac, frame))
        off += 16 + incl
    return header, e, records


def write_pcap(name, header, e, records, out=None, linktype=None):
    """Writes `records` whole under `out` (captures/encap/ by default),
    with the file header of the input, its link type replaced if given."""
    out = OUT if out is None else out
    if linktype is not None:
        header = header[:20] + struct.pack(e + "I", linktype)
    parts = [header]
    for sec, frac, frame in records:
        parts.append(struct.pack(e + "IIII", sec, frac, len(frame), len(frame)))
        parts.append(frame)
    path = os.path.join(out, name)
    with open(path, "wb") as f:
        f.write(b"".join(parts))
    shown = os.path.relpath(path, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    print("wrote %s (%d frames, %d bytes)" % (shown, len(records), os.path.getsize(path)))


# ---- the inner frames ---------------------------------------------------

class Inner:
    """One frame of the input: its Ethernet frame, IP packet, direction."""

    def __init__(self, index, frame, client):
        self.index = index
        self.frame = frame
        (ethertype,) = struct.unpack("!H", frame[12:14])
        self.ethertype = ethertype
        self.ip = frame[14:]
        if ethertype == ETH_IPV4:
            ihl = (self.ip[0] & 0x0F) * 4
            (total,) = struct.unpack("!H", self.ip[2:4])
            if total != len(self.ip) or self.ip[9] != IP_TCP:
                sys.exit("frame %d: not a whole IPv4 TCP packet" % (index + 1))
            src, tcp = self.ip[12:16], self.ip[ihl:]
        elif ethertype == ETH_IPV6:
            (plen,) = struct.unpack("!H", self.ip[4:6])
            if plen + 40 != len(self.ip) or self.ip[6] != IP_TCP:
                sys.exit("frame %d: not a whole IPv6 TCP packet" % (index + 1))
            src, tcp = self.ip[8:24], self.ip[40:]
        else:
            sys.exit("frame %d: EtherType 0x%04x" % (index + 1, ethertype))
        self.sport, self.dport = struct.unpack("!HH", tcp[:4])
        if client is None:
            client = (src, self.sport)  # the first frame is the client's SYN
        self.client = client
        self.from_client = (src, self.sport) == client
        self.tcp_header_len = (tcp[12] >> 4) * 4
        self.payload_len = len(tcp) - self.tcp_header_len


def inners(path):
    header, e, records = read_pcap(path)
    out, client = [], None
    for i, (sec, frac, frame) in enumerate(records):
        inner = Inner(i, frame, client)
        client = inner.client
        out.append((sec, frac, inner))
    return header, e, out


# ---- outer headers ------------------------------------------------------

def checksum(data):
    """The Internet checksum (RFC 1071) of data."""
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(inner, ethertype):
    if inner.from_client:
        dst, src = MAC_SERVER, MAC_CLIENT
    else:
        dst, src = MAC_CLIENT, MAC_SERVER
    return dst + src + struct.pack("!H", ethertype)


def ipv4(inner, proto, payload):
    src, dst = (IP_CLIENT, IP_SERVER) if inner.from_client else (IP_SERVER, IP_CLIENT)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload),
                      0x4000 + inner.index, 0x4000, 64, proto, 0, src, dst)
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(inner, next_header, payload):
    """An IPv6 header: traffic class 0, flow label 0, hop limit 64."""
    src, dst = (IP6_CLIENT, IP6_SERVER) if inner.from_client else (IP6_SERVER, IP6_CLIENT)
    hdr = struct.pack("!IHBB16s16s", 0x60000000, len(payload), next_header, 64, src, dst)
    return hdr + payload


def udp(inner, dport, payload):
    src = 49152 + ((inner.sport * 31 + inner.dport) % 16384)
    return struct.pack("!HHHH", src, dport, 8 + len(payload), 0) + payload


def tag(vid, ethertype_next):
    """An 802.1Q tag's TCI (PCP 0, DEI 0, VID) and the next EtherType."""
    return struct.pack("!HH", vid & 0x0FFF, ethertype_next)


def mpls_label(label, bottom, ttl=64, tc=0):
    return struct.pack("!I", (label << 12) | (tc << 9) | (int(bottom) << 8) | ttl)


def gre_csum_key_seq(inner, proto, payload):
    """GRE with the C, K and S bits (RFC 2784, RFC 2890): checksum over the
    GRE header and payload (checksum field 0 while computing), reserved 0,
    key 42, sequence number the frame index + 1."""
    hdr = struct.pack("!HHHHII", 0xB000, proto, 0, 0, 42, inner.index + 1)
    csum = checksum(hdr + payload)
    return hdr[:4] + struct.pack("!H", csum) + hdr[6:] + payload


# ---- one function per file: Inner -> list of frames ---------------------

def vlan(i):
    return [eth(i, ETH_VLAN) + tag(100, ETH_IPV4) + i.ip]


def qinq(i):
    return [eth(i, ETH_QINQ) + tag(200, ETH_VLAN) + tag(100, ETH_IPV4) + i.ip]


def mpls(i):
    return [eth(i, ETH_MPLS) + mpls_label(1000, False) + mpls_label(2000, True) + i.ip]


def pppoe(i):
    ppp = struct.pack("!H", 0x0021) + i.ip
    return [eth(i, ETH_PPPOE_SESSION) + struct.pack("!BBHH", 0x11, 0x00, 0x1234, len(ppp)) + ppp]


def gre_ipv4(i):
    return [eth(i, ETH_IPV4) + ipv4(i, IP_GRE, struct.pack("!HH", 0, ETH_IPV4) + i.ip)]


def gre_eth(i):
    return [eth(i, ETH_IPV4) + ipv4(i, IP_GRE, struct.pack("!HH", 0, ETH_TEB) + i.frame)]


def vxlan(i):
    header = struct.pack("!II", 0x08 << 24, 42 << 8)
    return [eth(i, ETH_IPV4) + ipv4(i, IP_UDP, udp(i, 4789, header + i.frame))]


def geneve(i):
    option = struct.pack("!HBB", 0x0102, 0x80, 1) + bytes([0, 1, 0, 2])
    opt_words = len(option) // 4
    header = struct.pack("!BBHI", opt_words, 0, ETH_TEB, 42 << 8) + option
    return [eth(i, ETH_IPV4) + ipv4(i, IP_UDP, udp(i, 6081, header + i.frame))]


def ipip(i):
    return [eth(i, ETH_IPV4) + ipv4(i, IP_IPIP, i.ip)]


def sit(i):
    return [eth(i, ETH_IPV4) + ipv4(i, IP_IPV6, i.ip)]


def pbb(i):
    # 802.1ah I-tag: PCP 0, DEI 0, UCA 0, I-SID 0x010203; then the whole
    # inner (customer) Ethernet frame.
    itag = struct.pack("!I", 0x010203)
    return [eth(i, ETH_PBB) + itag + i.frame]


def llc_snap(i):
    # An 802.3 frame: length, not EtherType, then LLC (DSAP 0xaa, SSAP 0xaa,
    # control 0x03, UI) and SNAP (OUI 00-00-00, EtherType 0x0800), RFC 1042.
    llc = bytes([0xAA, 0xAA, 0x03, 0, 0, 0]) + struct.pack("!H", ETH_IPV4) + i.ip
    return [eth(i, len(llc)) + llc]


def fabricpath(i):
    # Cisco FabricPath: outer switch addresses, 0x8903, FTag 1 and TTL 32
    # (FTag in the top 10 bits, TTL in the low 6), then the classical
    # Ethernet frame with the documentation MACs.
    if i.from_client:
        dst, src = HMAC_SERVER, HMAC_CLIENT
    else:
        dst, src = HMAC_CLIENT, HMAC_SERVER
    outer = dst + src + struct.pack("!HH", ETH_FABRICPATH, (1 << 6) | 32)
    frame = outer + eth(i, ETH_IPV4) + i.ip
    # The FabricPath FCS (CRC-32 over the whole frame, least significant
    # byte first as Ethernet's): tshark 4.0's cfp takes the last 4 bytes
    # as this FCS whatever the capture says, so without it the inner IP
    # would lose 4 bytes.
    return [frame + struct.pack("<I", zlib.crc32(frame))]


def ip4in6(i):
    return [eth(i, ETH_IPV6) + ipv6(i, IP_IPIP, i.ip)]


def ip6in6(i):
    return [eth(i, ETH_IPV6) + ipv6(i, IP_IPV6, i.ip)]


def gre_key_seq(i):
    return [eth(i, ETH_IPV4) + ipv4(i, IP_GRE, gre_csum_key_seq(i, ETH_IPV4, i.ip))]


def mpls_gre(i):
    inner = mpls_label(3000, True) + i.ip
    return [eth(i, ETH_IPV4) + ipv4(i, IP_GRE, struct.pack("!HH", 0, ETH_MPLS) + inner)]


def vlan_vxlan(i):
    header = struct.pack("!II", 0x08 << 24, 42 << 8)
    outer_ip = ipv4(i, IP_UDP, udp(i, 4789, header + i.frame))
    return [eth(i, ETH_VLAN) + tag(10, ETH_IPV4) + outer_ip]


def qinq_pppoe(i):
    ppp = struct.pack("!H", 0x0021) + i.ip
    session = struct.pack("!BBHH", 0x11, 0x00, 0x1234, len(ppp)) + ppp
    return [eth(i, ETH_QINQ) + tag(200, ETH_VLAN) + tag(100, ETH_PPPOE_SESSION) + session]


FRAGMENT_SIZES = (24, 8, 5)  # bytes of the 37-byte TCP segment in each piece


def pieces(segment):
    """(offset in bytes, bytes, more fragments) for each fragment."""
    if sum(FRAGMENT_SIZES) != len(segment):
        sys.exit("a segment of %d bytes; the fragment sizes add up to %d"
                 % (len(segment), sum(FRAGMENT_SIZES)))
    out, off = [], 0
    for n, size in enumerate(FRAGMENT_SIZES):
        out.append((off, segment[off:off + size], n < len(FRAGMENT_SIZES) - 1))
        off += size
    return out


def ipv4_fragments(i):
    if i.payload_len == 0:
        return [i.frame]
    ihl = (i.ip[0] & 0x0F) * 4
    base, frames = i.ip[:ihl], []
    for off, piece, more in pieces(i.ip[ihl:]):
        assert off % 8 == 0
        flags_offset = (0x2000 if more else 0) | (off // 8)  # DF cleared
        hdr = bytearray(base)
        hdr[2:4] = struct.pack("!H", ihl + len(piece))
        hdr[6:8] = struct.pack("!H", flags_offset)
        hdr[10:12] = b"\x00\x00"
        hdr[10:12] = struct.pack("!H", checksum(bytes(hdr)))
        frames.append(eth(i, ETH_IPV4) + bytes(hdr) + piece)
    return frames


def ipv6_fragments(i):
    if i.payload_len == 0:
        return [i.frame]
    base, frames = i.ip[:40], []
    for off, piece, more in pieces(i.ip[40:]):
        assert off % 8 == 0
        frag = struct.pack("!BBHI", IP_TCP, 0, off | int(more), 0x00C0FFEE + i.index)
        hdr = bytearray(base)
        hdr[4:6] = struct.pack("!H", len(frag) + len(piece))
        hdr[6] = IP_FRAG
        frames.append(eth(i, ETH_IPV6) + bytes(hdr) + frag + piece)
    return frames


FILES = [
    ("vlan.pcap", "hello-ethernet.pcap", vlan),
    ("qinq.pcap", "hello-ethernet.pcap", qinq),
    ("mpls.pcap", "hello-ethernet.pcap", mpls),
    ("mpls-ipv6.pcap", "hello-ipv6.pcap", mpls),
    ("pppoe.pcap", "hello-ethernet.pcap", pppoe),
    ("gre-ipv4.pcap", "hello-ethernet.pcap", gre_ipv4),
    ("gre-eth.pcap", "hello-ethernet.pcap", gre_eth),
    ("vxlan.pcap", "hello-ethernet.pcap", vxlan),
    ("geneve.pcap", "hello-ethernet.pcap", geneve),
    ("ipip.pcap", "hello-ethernet.pcap", ipip),
    ("sit.pcap", "hello-ipv6.pcap", sit),
    ("pbb.pcap", "hello-ethernet.pcap", pbb),
    ("llc-snap.pcap", "hello-ethernet.pcap", llc_snap),
    ("fabricpath.pcap", "hello-ethernet.pcap", fabricpath),
    ("ip4in6.pcap", "hello-ethernet.pcap", ip4in6),
    ("ip6in6.pcap", "hello-ipv6.pcap", ip6in6),
    ("gre-key-seq.pcap", "hello-ethernet.pcap", gre_key_seq),
    ("mpls-gre.pcap", "hello-ethernet.pcap", mpls_gre),
    ("vlan-vxlan.pcap", "hello-ethernet.pcap", vlan_vxlan),
    ("qinq-pppoe.pcap", "hello-ethernet.pcap", qinq_pppoe),
    ("ipv4-fragments.pcap", "hello-ethernet.pcap", ipv4_fragments),
    ("ipv6-fragments.pcap", "hello-ipv6.pcap", ipv6_fragments),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, source, wrap in FILES:
        header, e, frames = inners(os.path.join(IN, source))
        out = []
        for sec, frac, inner in frames:
            out.extend((sec, frac, f) for f in wrap(inner))
        write_pcap(name, header, e, out)


if __name__ == "__main__":
    main()
