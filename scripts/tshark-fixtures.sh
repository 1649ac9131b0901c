#!/usr/bin/env bash
# tshark-fixtures.sh — write tshark's view of every frame of every capture in
# captures/ to tests/fixtures/tshark/<capture>.csv (e.g. hello-sll.pcap
# becomes hello-sll.csv; the extension is dropped).
#
# With a directory argument, the captures in that directory instead, into
# tests/fixtures/tshark/<name>/, where <name> is the directory's name without
# a leading "captures-": `scripts/tshark-fixtures.sh captures/encap` writes
# tests/fixtures/tshark/encap/<capture>.csv. Those files differ in two ways,
# because the frames there hold a header more than once (an outer and an
# inner IPv4 in a tunnel, an outer and an inner Ethernet in VXLAN):
#   - EVERY occurrence of a field, outermost first, comma separated in one
#     quoted value (-E occurrence=a): ip.src "192.0.2.1,127.0.0.1"; the
#     inner TCP's addresses are the last ones. (frame.protocols tells the
#     layers in the same order.)
#   - the ENCAP_FIELDS below after the 54 fields: the outer headers' own
#     fields (802.1Q and 802.1ad tags, MPLS labels, PPPoE, GRE, UDP, VXLAN,
#     Geneve) and the IPv4 and IPv6 fragment fields. On the last fragment
#     the TCP fields are those of the segment tshark reassembled.
# tests/tshark_agreement.rs (every_encapsulation) reads them, taking the last
# occurrence of each field: the inner packet's.
#
# tests/tshark_agreement.rs compares tcplab's packet records with these files
# field by field, so the tests never need tshark at run time. Rerun this
# script whenever scripts/make-captures.sh has remade the captures, and
# commit both together.
#
# Format: tshark -T fields, one header line, comma separated, every value in
# double quotes (an absent field is an empty, unquoted value), first
# occurrence of a repeated field only (-E occurrence=f).
#
# Field names are those of tshark 4.0 (checked with `tshark -G fields`).
# Notes on what tshark prints:
#   frame.time_epoch          NOTE: tshark 4.0 prints 9 digits for microsecond
#                             files too (hello-sll.pcap: 1795303827.525570000)
#   frame.encap_type          Wireshark's WTAP_ENCAP number: 1 Ethernet,
#                             25 Linux SLL, 210 Linux SLL2, 15 NULL, 7 raw IP
#   frame.protocols           e.g. eth:ethertype:ip:tcp, sll:..., null:..., raw:...
#                             (SLL and SLL2 are both "sll"; encap_type tells)
#   ip.* / ipv6.*             only one family is present per frame (ip.version
#                             also appears on IPv6 frames). tshark has no
#                             link-header-length field: the test takes
#                             cap_len - ip.len (IPv4) or cap_len - 40 - ipv6.plen
#                             (IPv6 with ipv6.nxt 6, no extension headers)
#   tcp.analysis.flags        present only when tshark's TCP analysis flagged
#                             the segment (retransmission, dup ACK...)
#   tcp.analysis.<name>       one field per flag of SPEC.md's `analysis`;
#                             tcp.analysis.retransmission is also set on fast
#                             and spurious retransmissions
#   tcp.flags                 hex, e.g. 0x0018 (12 bits: NS/AE bit included)
#   tcp.seq / tcp.ack         relative (tshark's default analysis settings)
#   tcp.options.sack_perm     the option's raw bytes (0402) when present
#   tcp.options.sack.count    number of SACK blocks (absent: no SACK option)
#   tcp.payload               lowercase hex without separators
#   tcp.window_size_scalefactor  -1 scale unknown, -2 no scaling, else the
#                             multiplier; absent on SYNs (never scaled)
#   tcp.analysis.ack_rtt / .initial_rtt  seconds, 9 decimals (0.000017483)
#   tcp.analysis.initial_rtt  only on frames tshark's analysis has something
#                             else for (a flag, acks_frame, bytes_in_flight)
#
# Needs: tshark (Debian package tshark, 4.0).
# Usage: scripts/tshark-fixtures.sh             (captures/)
#        scripts/tshark-fixtures.sh DIRECTORY   (e.g. captures/encap)

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IN="$ROOT/captures"
OUT="$ROOT/tests/fixtures/tshark"
OCCURRENCE=f
if [ $# -gt 1 ]; then
    echo "usage: scripts/tshark-fixtures.sh [DIRECTORY]" >&2
    exit 2
elif [ $# -eq 1 ]; then
    IN="$(cd "$1" && pwd)" || exit 1
    if [ "$IN" != "$ROOT/captures" ]; then
        sub="$(basename "$IN")"
        OUT="$OUT/${sub#captures-}"
        OCCURRENCE=a
    fi
fi

command -v tshark >/dev/null || { echo "tshark-fixtures: tshark is missing" >&2; exit 1; }

FIELDS=(
    frame.number
    frame.time_epoch
    frame.len
    frame.cap_len
    frame.encap_type
    frame.protocols
    ip.version
    ip.hdr_len
    ip.len
    ip.src
    ip.dst
    ipv6.version
    ipv6.plen
    ipv6.nxt
    ipv6.src
    ipv6.dst
    tcp.srcport
    tcp.dstport
    tcp.stream
    tcp.flags
    tcp.seq
    tcp.ack
    tcp.seq_raw
    tcp.ack_raw
    tcp.hdr_len
    tcp.len
    tcp.window_size_value
    tcp.window_size
    tcp.window_size_scalefactor
    tcp.options.mss_val
    tcp.options.wscale.shift
    tcp.options.sack_perm
    tcp.options.sack.count
    tcp.options.timestamp.tsval
    tcp.options.timestamp.tsecr
    tcp.payload
    tcp.analysis.flags
    tcp.analysis.retransmission
    tcp.analysis.fast_retransmission
    tcp.analysis.spurious_retransmission
    tcp.analysis.out_of_order
    tcp.analysis.lost_segment
    tcp.analysis.ack_lost_segment
    tcp.analysis.duplicate_ack
    tcp.analysis.duplicate_ack_num
    tcp.analysis.zero_window
    tcp.analysis.window_full
    tcp.analysis.window_update
    tcp.analysis.keep_alive
    tcp.analysis.keep_alive_ack
    tcp.analysis.acks_frame
    tcp.analysis.ack_rtt
    tcp.analysis.bytes_in_flight
    tcp.analysis.initial_rtt
)

# The outer headers and fragments: only for a DIRECTORY other than captures/.
ENCAP_FIELDS=(
    eth.type
    ieee8021ad.id
    vlan.id
    vlan.etype
    mpls.label
    mpls.exp
    mpls.bottom
    mpls.ttl
    pppoe.code
    pppoe.session_id
    pppoe.payload_length
    ppp.protocol
    gre.proto
    udp.srcport
    udp.dstport
    udp.length
    udp.checksum
    vxlan.flags
    vxlan.vni
    geneve.version
    geneve.option.length
    geneve.proto_type
    geneve.vni
    ip.proto
    ip.id
    ip.flags.df
    ip.flags.mf
    ip.frag_offset
    ip.checksum
    ip.fragment.count
    ip.reassembled.length
    ipv6.fraghdr.nxt
    ipv6.fraghdr.offset
    ipv6.fraghdr.more
    ipv6.fraghdr.ident
    ipv6.fragment.count
    ipv6.reassembled.length
)
if [ "$OCCURRENCE" = a ]; then FIELDS+=("${ENCAP_FIELDS[@]}"); fi

args=()
for f in "${FIELDS[@]}"; do args+=(-e "$f"); done

mkdir -p "$OUT"
shopt -s nullglob
made=0
for cap in "$IN"/*.pcap "$IN"/*.pcapng; do
    name="$(basename "$cap")"
    name="${name%.*}"
    # -n: no name resolution (addresses and ports stay numbers).
    # TZ=UTC: keeps tshark from consulting the local zone (epoch is UTC anyway).
    TZ=UTC tshark -n -r "$cap" -T fields -E header=y -E separator=, \
        -E occurrence="$OCCURRENCE" -E quote=d "${args[@]}" >"$OUT/$name.csv" 2>"$OUT/$name.err" || {
        cat "$OUT/$name.err" >&2
        rm -f "$OUT/$name.err"
        echo "tshark-fixtures: tshark failed on $cap" >&2
        exit 1
    }
    # tshark warns when run as root; anything else on stderr is a problem.
    grep -v 'Running as user "root"' "$OUT/$name.err" >&2 || true
    rm -f "$OUT/$name.err"
    echo "wrote ${OUT#"$ROOT"/}/$name.csv ($(($(wc -l <"$OUT/$name.csv") - 1)) frames)"
    made=$((made + 1))
done
[ "$made" -gt 0 ] || { echo "tshark-fixtures: no captures in $IN" >&2; exit 1; }
