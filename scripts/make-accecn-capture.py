#!/usr/bin/env python3
"""make-accecn-capture.py - captures/accecn.pcap: the real loopback exchange
of captures/hello-ethernet.pcap twice, once negotiating Accurate ECN
(RFC 9768) and once classic ECN (RFC 3168), for the ACE counter's tests.

Only the TCP flags' ECN bits (AE, CWR, ECE), the IPv4 ECN field of the data
segments, the second copy's client port and its timestamps (+1 s) are
rewritten; every changed header gets its checksum recomputed (IPv4 header
and TCP, pseudo-header included), so tshark's checksum validation calls
them good. Everything else is the original bytes. Deterministic: the same
bytes every run.

Stream 0, AccECN (ports 45116 -> 33805). Flags are (AE, CWR, ECE):
  1 SYN          1 1 1   asks for AccECN (RFC 9768 section 3.1.1)
  2 SYN-ACK      0 1 0   AccECN, "the SYN arrived Not-ECT" (section 3.1.1,
                         Table 2): loopback SYNs are Not-ECT
  3 ACK          0 1 0   ACE of the first ACK feeds back the SYN-ACK's IP-ECN,
                         Not-ECT = 0b010 (section 3.2.2.1, Table 3)
  4 data (c->s)  1 0 1   ACE = 5: r.cep starts at 5 (section 3.2.2.1) and the
                         client has received no CE mark; IP ECN ECT(0)
                         (an AccECN sender marks its data ECT, section 3.2.1)
  5 ACK          1 0 1   ACE = 5 (the server got frame 4 unmarked)
  6 data (s->c)  1 0 1   ACE = 5; IP ECN CE, as if a queue on the path marked it
  7 ACK          1 1 0   ACE = 6: the client counts frame 6's CE mark
  8 FIN-ACK      1 1 0   ACE = 6
  9 FIN-ACK      1 0 1   ACE = 5
 10 ACK          1 1 0   ACE = 6

Stream 1, classic ECN (client port 45117, 1 s later), RFC 3168 section 6.1:
 11 SYN          0 1 1   ECN-setup SYN (CWR and ECE)
 12 SYN-ACK      0 0 1   ECN-setup SYN-ACK (ECE only)
 13-15           0 0 0   data and ACKs; frame 14 (data) ECT(0)
 16 data (s->c)  0 0 0   IP ECN CE
 17 ACK          0 0 1   ECE: the client echoes the CE mark
 18 FIN-ACK      0 0 1   ECE again, until the server's CWR
 19 FIN-ACK      0 1 0   CWR: the server reduced its window
 20 ACK          0 0 0

Usage: python3 scripts/make-accecn-capture.py   (writes captures/accecn.pcap)
"""

import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "captures", "hello-ethernet.pcap")
DST = os.path.join(ROOT, "captures", "accecn.pcap")

ETH = 14  # Ethernet header; the IPv4 header follows (IHL 5 in this capture)
AE, CWR, ECE = 0x100, 0x080, 0x040
ECN_BITS = AE | CWR | ECE
NOT_ECT, ECT0, CE = 0, 2, 3

# (AE/CWR/ECE flags, IP ECN) per frame of the original exchange.
ACCECN = [
    (AE | CWR | ECE, NOT_ECT),
    (CWR, NOT_ECT),
    (CWR, NOT_ECT),
    (AE | ECE, ECT0),
    (AE | ECE, NOT_ECT),
    (AE | ECE, CE),
    (AE | CWR, NOT_ECT),
    (AE | CWR, NOT_ECT),
    (AE | ECE, NOT_ECT),
    (AE | CWR, NOT_ECT),
]
CLASSIC = [
    (CWR | ECE, NOT_ECT),
    (ECE, NOT_ECT),
    (0, NOT_ECT),
    (0, ECT0),
    (0, NOT_ECT),
    (0, CE),
    (ECE, NOT_ECT),
    (ECE, NOT_ECT),
    (CWR, NOT_ECT),
    (0, NOT_ECT),
]


def ones_complement(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def rewrite(frame, ecn_flags, ip_ecn, port_shift):
    f = bytearray(frame)
    ip = ETH
    ihl = (f[ip] & 0x0F) * 4
    total_len = struct.unpack_from("!H", f, ip + 2)[0]
    tcp = ip + ihl
    f[ip + 1] = (f[ip + 1] & 0xFC) | ip_ecn
    struct.pack_into("!H", f, ip + 10, 0)
    struct.pack_into("!H", f, ip + 10, ones_complement(bytes(f[ip:tcp])))
    sport, dport = struct.unpack_from("!HH", f, tcp)
    # The client is the side that sent the first SYN (port 45116).
    if sport == 45116:
        sport += port_shift
    else:
        dport += port_shift
    struct.pack_into("!HH", f, tcp, sport, dport)
    word = struct.unpack_from("!H", f, tcp + 12)[0]
    struct.pack_into("!H", f, tcp + 12, (word & ~ECN_BITS & 0xFFFF) | ecn_flags)
    struct.pack_into("!H", f, tcp + 16, 0)
    segment = bytes(f[tcp:ip + total_len])
    pseudo = bytes(f[ip + 12:ip + 20]) + struct.pack("!BBH", 0, 6, len(segment))
    struct.pack_into("!H", f, tcp + 16, ones_complement(pseudo + segment))
    return bytes(f)


def main():
    data = open(SRC, "rb").read()
    header, records, off = data[:24], [], 24
    while off < len(data):
        sec, frac, caplen, origlen = struct.unpack_from("<IIII", data, off)
        records.append((sec, frac, origlen, data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    assert len(records) == len(ACCECN), "hello-ethernet.pcap changed"
    out = [header]
    for shift, plan in ((0, ACCECN), (1, CLASSIC)):
        for (sec, frac, origlen, frame), (flags, ecn) in zip(records, plan):
            new = rewrite(frame, flags, ecn, shift)
            out.append(struct.pack("<IIII", sec + shift, frac, len(new), origlen) + new)
    with open(DST, "wb") as f:
        f.write(b"".join(out))
    print("wrote captures/accecn.pcap (%d frames)" % (2 * len(records)))


if __name__ == "__main__":
    main()
