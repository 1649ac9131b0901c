#!/usr/bin/env python3
"""pdml-fixtures.py - what tshark's packet-details pane holds for every frame
of every capture in captures/, and of a few real-world ones from
tests/data/wild/ (REAL below), as the fixtures tests/explain_pdml.rs checks
`replay --explain` against (tshark is not needed to run that test).

For each capture, tests/fixtures/pdml/<capture>.tsv gets one line per field:

    frame <TAB> abbrev <TAB> offset <TAB> length <TAB> value

taken from `tshark -T pdml` (tshark 4.0 here), with checksum validation on
so that ip.checksum.status and tcp.checksum.status say good or bad. Kept:
the fields of the layers tcplab explains (eth, sll, null, ppp, chdlc,
nflog, ipoib, arcnet, ip, ipv6, tcp) that PDML places on bytes (size > 0)
and does not hide, plus the two
checksum statuses (size 0, placed on their checksum). Left out, and why:
  - eth.addr: Wireshark's "source or destination" filter alias, a copy of
    eth.src and eth.dst on the same bytes;
  - text-only lines with no field name ("D-SACK Sequence", "Timestamps");
  - tcp.pdu.size and tcp.segment_data: where the protocol above TCP (BGP,
    OpenFlow) cut the payload into its messages, its view of the bytes.
The value is PDML's `show` attribute; a payload (tcp.payload, and
udp.payload under a tunnel) longer than 64 bytes is kept as its length and
its first 64 bytes, as `LEN:ab:cd:...`, which keeps the files small and
still checks where the payload is and how it starts.

With a directory argument, the captures in that directory only (no REAL
ones), into tests/fixtures/pdml/<name>/, where <name> is the directory's
name without a leading "captures-": `python3 scripts/pdml-fixtures.py
captures/encap` writes tests/fixtures/pdml/encap/<capture>.tsv. There the
layers kept include the encapsulations' own (ENCAP_LAYERS: 802.1Q and
802.1ad tags, MPLS, PPPoE and PPP, GRE, UDP, VXLAN, Geneve); a tunnel's
outer and inner eth or ip are both kept, each at its own offset. Note: on
the last fragment of a fragmented segment, tshark dissects the TCP of the
segment it reassembled, and the offsets of those TCP fields (and of the
ip.fragment / ipv6.fragment lines) count from the start of the reassembled
payload, not of the frame. tests/explain_pdml.rs reads these files too.

Usage: python3 scripts/pdml-fixtures.py             (regenerates every fixture)
       python3 scripts/pdml-fixtures.py DIRECTORY   (e.g. captures/encap)
"""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IN = os.path.join(ROOT, "captures")
OUT = os.path.join(ROOT, "tests", "fixtures", "pdml")
LAYERS = {"eth", "sll", "null", "ppp", "chdlc", "nflog", "ipoib", "arcnet",
          "ip", "ipv6", "tcp"}
# The encapsulations' layers, kept too for a DIRECTORY other than captures/.
ENCAP_LAYERS = {"vlan", "ieee8021ad", "mpls", "pppoes", "ppp", "gre", "udp",
                "vxlan", "geneve", "ieee8021ah", "llc", "cfp"}
SIZELESS = {"ip.checksum.status", "tcp.checksum.status"}
ALIASES = {"eth.addr"}
# Where the protocol above TCP cut the payload into its messages: that
# protocol's view of the bytes, not a field of the TCP segment.
ABOVE_TCP = {"tcp.pdu.size", "tcp.segment_data"}
PAYLOAD_KEPT = 64
# Real traffic from other machines: an SSH session and a BGP peering on
# Ethernet, OpenFlow from a switch, a Redis benchmark on Linux cooked.
REAL = ["ssh.pcap", "bgp-4byte-asn.pcap", "of10_s4810.pcap", "resp_1_benchmark.pcap"]


def fields_of(packet, layers):
    for proto in packet.findall("proto"):
        if proto.get("name") not in layers:
            continue
        for f in proto.iter("field"):
            name = f.get("name") or ""
            if not name or name in ALIASES | ABOVE_TCP or f.get("hide") == "yes":
                continue
            size = int(f.get("size") or 0)
            if size == 0 and name not in SIZELESS:
                continue
            show = f.get("show") or ""
            if name in ("tcp.payload", "udp.payload") and size > PAYLOAD_KEPT:
                show = "%d:%s" % (size, show[: PAYLOAD_KEPT * 3 - 1])
            yield name, f.get("pos"), size, show


def main():
    if len(sys.argv) > 2:
        sys.exit("usage: python3 scripts/pdml-fixtures.py [DIRECTORY]")
    src, out, layers = IN, OUT, LAYERS
    wild = [os.path.join(ROOT, "tests", "data", "wild", n) for n in REAL]
    if len(sys.argv) == 2 and os.path.realpath(sys.argv[1]) != os.path.realpath(IN):
        src = os.path.realpath(sys.argv[1])
        name = os.path.basename(src)
        if name.startswith("captures-"):
            name = name[len("captures-"):]
        out, layers, wild = os.path.join(OUT, name), LAYERS | ENCAP_LAYERS, []
    os.makedirs(out, exist_ok=True)
    ours = [os.path.join(src, n) for n in sorted(os.listdir(src))
            if n.endswith(".pcap") or n.endswith(".pcapng")]
    for path in ours + wild:
        name = os.path.basename(path)
        pdml = subprocess.run(
            ["tshark", "-r", path, "-T", "pdml",
             "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE"],
            check=True, capture_output=True).stdout
        root = ET.fromstring(pdml)
        lines = []
        for number, packet in enumerate(root.iter("packet"), start=1):
            for abbrev, pos, size, show in fields_of(packet, layers):
                assert "\t" not in show and "\n" not in show, (name, abbrev)
                lines.append("%d\t%s\t%s\t%d\t%s\n" % (number, abbrev, pos, size, show))
        stem = name.rsplit(".", 1)[0]
        with open(os.path.join(out, stem + ".tsv"), "w") as f:
            f.writelines(lines)
        print("%s: %d fields" % (os.path.relpath(os.path.join(out, stem), ROOT), len(lines)),
              file=sys.stderr)


if __name__ == "__main__":
    main()
