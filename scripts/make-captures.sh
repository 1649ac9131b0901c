#!/usr/bin/env bash
# make-captures.sh — (re)make the small sample captures in captures/.
#
# Each file holds ONE traced tcplab exchange on loopback (127.0.0.1 / ::1;
# nothing leaves the machine). The tests in tests/decode_captures.rs and
# tests/tshark_agreement.rs read them; scripts/tshark-fixtures.sh turns them
# into tests/fixtures/tshark/<capture>.csv. After rerunning this script, rerun
# that one too: the tests compare each capture with its own CSV.
#
# Reruns are deterministic in WHAT they produce (the same files, link types,
# frame counts and flag sequences; checked below), not in bytes (ports,
# sequence numbers, timestamps change each run).
#
#   file                  how it is made                                   link type
#   hello-ethernet.pcap   tcplab trace --send hello --write                EN10MB (1), ns
#   hello-ipv6.pcap       ... --ipv6                                       EN10MB (1), ns
#   buffer-0c22.pcap      tcplab trace --hex 0c22 --write                  EN10MB (1), ns
#   reset.pcap            ... --send hello --close destroy                 EN10MB (1), ns
#   half-close.pcap       ... --close half --server upper --send hello     EN10MB (1), ns
#   hello-sll.pcap        tcpdump -i any -y LINUX_SLL  (default µs pcap)   LINUX_SLL (113), µs
#   hello-sll2.pcap       tcpdump -i any -y LINUX_SLL2 (ns pcap)           LINUX_SLL2 (276), ns
#   hello-null.pcap       CONVERTED from hello-ethernet.pcap (see below)   NULL (0), ns
#   hello-raw.pcap        CONVERTED from hello-ethernet.pcap (see below)   RAW (101), ns
#   hello-pcapng.pcapng   editcap -F pcapng of hello-ethernet.pcap         EN10MB in pcapng
#
# hello-sll.pcap is deliberately a microsecond file (tcpdump's default
# format) so that the microsecond path of the reader is covered too.
#
# What libpcap does on `any` with loopback traffic (seen with libpcap 1.10.3,
# tcpdump 4.99.3): the kernel hands each loopback packet to packet sockets
# twice (once outgoing, once incoming); tcpdump reports "20 packets received
# by filter" for a 10-packet exchange but writes each packet ONCE
# ("10 packets captured"): libpcap drops the PACKET_OUTGOING copy on the
# loopback device. Every frame kept has sll.pkttype 0 (host) and the
# interface index of lo.
#
# But on `any` WITH --immediate-mode (libpcap then uses a TPACKET_V2 ring),
# about half of the runs on this 2-core VM (kernel 6.18) lost the TAIL of the
# exchange: tcpdump wrote 4, 7 or 9 of the 10 frames while reporting "20
# received by filter, 0 dropped by kernel"; the missing frames never showed up
# later, even when more traffic followed. Without --immediate-mode (TPACKET_V3)
# and on `lo` with --immediate-mode, 20 runs of 20 were complete. So on_any
# below checks every file and retries until it holds the whole exchange.
#
# Needs: root (live capture), cargo, tcpdump, tshark and editcap
# (Debian: tshark, wireshark-common), python3.
#
# Usage: scripts/make-captures.sh            (from anywhere)
#        PORT=47001 scripts/make-captures.sh (fixed server port for the tcpdump runs)
#        TCPLAB=/path/to/tcplab scripts/make-captures.sh (no cargo build)

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/captures"
PORT="${PORT:-47001}"
TRIES=5

for tool in cargo tcpdump tshark editcap python3; do
    command -v "$tool" >/dev/null || { echo "make-captures: $tool is missing" >&2; exit 1; }
done
if [ "$(id -u)" -ne 0 ]; then
    echo "make-captures: live capture needs root (or CAP_NET_RAW on tcpdump and tcplab)" >&2
    exit 1
fi

# TCPLAB=/path/to/tcplab uses that binary instead of building this checkout.
if [ -z "${TCPLAB:-}" ]; then
    (cd "$ROOT" && cargo build --quiet)
    TCPLAB="$ROOT/target/debug/tcplab"
fi
mkdir -p "$OUT"
WORK="$(mktemp -d)"
TCPDUMP_PID=""
cleanup() {
    if [ -n "$TCPDUMP_PID" ]; then kill -INT "$TCPDUMP_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# The flags of every frame as tshark sees them, space separated (0x0002 ...).
flag_sequence() {
    tshark -r "$1" -T fields -e tcp.flags 2>/dev/null | tr '\n' ' ' | sed 's/ $//'
}

# Whole records in a pcap file that may still be being written (0 if it has
# no file header yet). Little-endian pcap, as tcpdump writes it on x86.
frame_count() {
    python3 - "$1" <<'PY'
import struct, sys
try:
    data = open(sys.argv[1], "rb").read()
except OSError:
    data = b""
n, off = 0, 24
while len(data) >= 24 and off + 16 <= len(data):
    incl = struct.unpack("<I", data[off + 8:off + 12])[0]
    if off + 16 + incl > len(data):
        break
    n, off = n + 1, off + 16 + incl
print(n)
PY
}

# accept FILE EXPECTED: the capture must read with tshark and carry exactly
# the expected flag sequence (one traced exchange, nothing missing or extra).
accept() {
    local got
    got="$(flag_sequence "$1")" || return 1
    if [ "$got" = "$2" ]; then return 0; fi
    echo "make-captures: $(basename "$1"): flags '$got', expected '$2'; retrying" >&2
    return 1
}

# Flag sequences of the exchanges (SYN=0x002, SYN-ACK=0x012, ACK=0x010,
# PSH-ACK=0x018, FIN-ACK=0x011, RST-ACK=0x014).
HELLO="0x0002 0x0012 0x0010 0x0018 0x0010 0x0018 0x0010 0x0011 0x0011 0x0010"
RESET="0x0002 0x0012 0x0010 0x0018 0x0010 0x0018 0x0010 0x0014"
HALF="0x0002 0x0012 0x0010 0x0018 0x0010 0x0011 0x0018 0x0010 0x0011 0x0010"

# trace NAME EXPECTED ARGS...: tcplab's own capture on lo, saved with --write.
trace() {
    local name="$1" expected="$2"
    shift 2
    for _ in $(seq "$TRIES"); do
        "$TCPLAB" trace --color never "$@" --write "$WORK/$name" >"$WORK/$name.log"
        if accept "$WORK/$name" "$expected"; then
            mv "$WORK/$name" "$OUT/$name"
            echo "made $name"
            return 0
        fi
    done
    echo "make-captures: could not make $name" >&2
    exit 1
}

# on_any NAME DLT [TCPDUMP ARGS...]: tcpdump on the `any` device with the given
# link type while tcplab runs one exchange on the fixed port $PORT.
on_any() {
    local name="$1" dlt="$2"
    shift 2
    for _ in $(seq $((TRIES * 2))); do
        : >"$WORK/tcpdump.err"
        # -Z root: Debian's tcpdump otherwise drops to user tcpdump before
        # opening the -w file. -U: write each packet at once.
        tcpdump -Z root -i any -y "$dlt" --immediate-mode -U "$@" \
            -w "$WORK/$name" "tcp port $PORT" 2>"$WORK/tcpdump.err" &
        TCPDUMP_PID=$!
        # The capture is open once tcpdump says "listening on".
        for _ in $(seq 100); do
            grep -q "listening on" "$WORK/tcpdump.err" && break
            kill -0 "$TCPDUMP_PID" 2>/dev/null || break
            sleep 0.05
        done
        if ! grep -q "listening on" "$WORK/tcpdump.err"; then
            cat "$WORK/tcpdump.err" >&2
            echo "make-captures: tcpdump did not start" >&2
            exit 1
        fi
        "$TCPLAB" trace --color never --send hello --port "$PORT" >"$WORK/$name.log"
        # tcplab has seen the whole exchange, but tcpdump may not have
        # written it yet. With -U every packet is in the file as soon as
        # tcpdump handles it: wait (at most 1.5 s) until the file holds the
        # exchange's frames, then stop tcpdump with SIGINT. (When frames are
        # lost, see above, waiting longer does not bring them back.)
        for _ in $(seq 30); do
            [ "$(frame_count "$WORK/$name")" -ge "$(wc -w <<<"$HELLO")" ] && break
            sleep 0.05
        done
        kill -INT "$TCPDUMP_PID"
        wait "$TCPDUMP_PID" || true
        TCPDUMP_PID=""
        # e.g. "10 packets captured / 20 packets received by filter"
        grep -E "packets (captured|received)" "$WORK/tcpdump.err" | sed "s/^/  $name: tcpdump: /"
        if accept "$WORK/$name" "$HELLO"; then
            mv "$WORK/$name" "$OUT/$name"
            echo "made $name"
            return 0
        fi
    done
    echo "make-captures: could not make $name" >&2
    exit 1
}

trace hello-ethernet.pcap "$HELLO" --send hello
trace hello-ipv6.pcap "$HELLO" --send hello --ipv6
trace buffer-0c22.pcap "$HELLO" --hex 0c22
trace reset.pcap "$RESET" --send hello --close destroy
trace half-close.pcap "$HALF" --close half --server upper --send hello

on_any hello-sll.pcap LINUX_SLL
on_any hello-sll2.pcap LINUX_SLL2 --time-stamp-precision=nano

# hello-null.pcap and hello-raw.pcap are CONVERTED from the real capture
# hello-ethernet.pcap: Linux cannot capture DLT_NULL or LINKTYPE_RAW on lo.
# Each record loses its 14-byte Ethernet header; NULL records get a 4-byte
# address family in host byte order (AF_INET = 2) instead, RAW records
# nothing. The file header's link type is rewritten; timestamps, snaplen and
# the IP packets are kept byte for byte.
python3 - "$OUT/hello-ethernet.pcap" "$OUT/hello-null.pcap" "$OUT/hello-raw.pcap" <<'PY'
import struct, sys

src, null_out, raw_out = sys.argv[1:4]
data = open(src, "rb").read()
magic = data[:4]
if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
    e = "<"
elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
    e = ">"
else:
    sys.exit(f"{src}: not a pcap file")
header = bytearray(data[:24])
(linktype,) = struct.unpack(e + "I", header[20:24])
if linktype != 1:
    sys.exit(f"{src}: link type {linktype}, expected 1 (Ethernet)")

def convert(out, new_linktype, prefix):
    h = bytearray(header)
    h[20:24] = struct.pack(e + "I", new_linktype)
    parts = [bytes(h)]
    off = 24
    while off < len(data):
        sec, frac, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        if len(frame) != incl or frame[12:14] != b"\x08\x00":
            sys.exit(f"{src}: record at byte {off} is not a whole IPv4 Ethernet frame")
        body = prefix + frame[14:]
        delta = len(prefix) - 14
        parts.append(struct.pack(e + "IIII", sec, frac, incl + delta, orig + delta))
        parts.append(body)
        off += 16 + incl
    open(out, "wb").write(b"".join(parts))

convert(null_out, 0, struct.pack("=I", 2))  # DLT_NULL, AF_INET in host order
convert(raw_out, 101, b"")                  # LINKTYPE_RAW
PY
accept "$OUT/hello-null.pcap" "$HELLO" || exit 1
echo "made hello-null.pcap (converted)"
accept "$OUT/hello-raw.pcap" "$HELLO" || exit 1
echo "made hello-raw.pcap (converted)"

editcap -F pcapng "$OUT/hello-ethernet.pcap" "$OUT/hello-pcapng.pcapng"
accept "$OUT/hello-pcapng.pcapng" "$HELLO" || exit 1
echo "made hello-pcapng.pcapng (converted)"

# Two interfaces of different link types in one pcapng (Ethernet, then raw
# IP): libpcap refuses such files, tcplab's reader takes them. The raw
# interface carries the same packets again, so tshark's analysis sees them
# as retransmissions and duplicate ACKs: a test of that, too.
mergecap -F pcapng -w "$OUT/mixed-links.pcapng" "$OUT/hello-ethernet.pcap" "$OUT/hello-raw.pcap"
echo "made mixed-links.pcapng (merged)"

echo
for f in "$OUT"/*.pcap "$OUT"/*.pcapng; do
    printf '%-22s %6s bytes  %s\n' "$(basename "$f")" "$(stat -c %s "$f")" \
        "$(capinfos -T -r -E -c "$f" 2>/dev/null | cut -f2- | tr '\t' ' ' || true)"
done
echo "now run scripts/tshark-fixtures.sh"
