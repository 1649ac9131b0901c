#!/usr/bin/env bash
# make-zero-window-capture.sh — (re)make captures/zero-window.pcap: a slow
# reader on loopback, so that the capture holds a zero window, Linux's
# window probes (which tshark 4.0 flags keep-alives) and the window update
# that opens the window again (a fixture for comparing tcplab's TCP
# analysis of flow control with tshark's).
#
# tcplab itself makes the exchange:
#   tcplab trace --file DATA --server discard --server-read-delay 800 \
#                --rcvbuf 4096 --write FULL
# DATA is 196,608 bytes of numbered 64-byte lines. The server's SO_RCVBUF of
# 4096 (the kernel keeps 8192) gives a window of 4096 bytes; the server reads
# nothing for 800 ms, so after 4096 bytes its window is 0. The client's
# persist timer probes it about 210 ms later and again about 430 ms after
# that (the second probe is not answered: Linux answers segments outside its
# window at most once per net.ipv4.tcp_invalid_ratelimit, 500 ms); when the
# server reads, a window update opens the window and the rest flows in
# window-sized segments. editcap then cuts every frame to $SNAPLEN bytes, so
# the file stays small (payload lengths come from the IP header).
#
# Reproducible in WHAT it produces, not in bytes: ports, sequence numbers and
# timestamps change. The result is checked with tshark (the counts in
# REQUIRED below); a run that falls short is retried, up to $TRIES times.
#
# Afterwards rerun scripts/tshark-fixtures.sh and scripts/pdml-fixtures.py:
# tests/tshark_agreement.rs and tests/explain_pdml.rs compare tcplab with the
# fixtures they write.
#
# Needs: root (live capture), cargo, tshark and editcap, python3.
# Usage: scripts/make-zero-window-capture.sh
#   Settings (environment): DELAY_MS=800 RCVBUF=4096 SIZE=196608 SNAPLEN=96
#   TRIES=5 OUT=captures/zero-window.pcap TCPLAB=/path/to/tcplab (no build)

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$ROOT/captures/zero-window.pcap}"
DELAY_MS="${DELAY_MS:-800}"
RCVBUF="${RCVBUF:-4096}"
SIZE="${SIZE:-196608}"
SNAPLEN="${SNAPLEN:-96}"
TRIES="${TRIES:-5}"

say() { echo "make-zero-window-capture: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
    say "live capture needs root (or CAP_NET_RAW on tcplab)"
    exit 77
fi
for tool in cargo tshark editcap python3; do
    command -v "$tool" >/dev/null || { say "$tool is missing"; exit 1; }
done
if [ -z "${TCPLAB:-}" ]; then
    (cd "$ROOT" && cargo build --quiet)
    TCPLAB="$ROOT/target/debug/tcplab"
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

python3 - "$WORK/data" "$SIZE" <<'PY'
import sys
path, size = sys.argv[1], int(sys.argv[2])
lines = (("%-63s\n" % ("line %07d: the slow reader" % i)).encode() for i in range(size // 64))
open(path, "wb").write(b"".join(lines))
PY

# flag MINIMUM: frames tshark flags tcp.analysis.<flag>.
REQUIRED="zero_window:2 keep_alive:2 window_update:1"

count() {
    tshark -r "$1" -Y "tcp.analysis.$2" 2>/dev/null | wc -l
}

for try in $(seq "$TRIES"); do
    "$TCPLAB" trace --file "$WORK/data" --server discard \
        --server-read-delay "$DELAY_MS" --rcvbuf "$RCVBUF" \
        --write "$WORK/full.pcap" --format json >"$WORK/trace.json"
    # -F nsecpcap: a nanosecond pcap as tcplab wrote it (editcap's default is pcapng).
    editcap -F nsecpcap -s "$SNAPLEN" "$WORK/full.pcap" "$WORK/cut.pcap"
    ok=1
    for req in $REQUIRED; do
        flag="${req%%:*}" min="${req##*:}"
        got="$(count "$WORK/cut.pcap" "$flag")"
        if [ "$got" -lt "$min" ]; then
            say "try $try: $got frames flagged $flag, at least $min wanted; retrying"
            ok=0
        fi
    done
    if [ "$ok" = 1 ]; then
        mv "$WORK/cut.pcap" "$OUT"
        say "made $OUT ($(tshark -r "$OUT" 2>/dev/null | wc -l) frames)"
        exit 0
    fi
done
say "could not make $OUT in $TRIES tries"
exit 1
