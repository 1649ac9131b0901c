#!/usr/bin/env bash
# Benchmarks the impaired path (trace --delay/--loss: namespaces, veths and
# tcplab's forwarder) against plain loopback, one run each, release build:
#   setup    - `trace --send x --delay 0`: building and removing the path
#              (three namespaces, two veth pairs, the forwarder) around one
#              tiny exchange, against the same on lo;
#   bulk     - a 64 MiB transfer to a discard server through a clean path
#              (`--delay 0`) against lo: the forwarder's throughput, and
#              whether its own sockets lost any frame (forwarder_overrun);
#   lossy    - the same 64 MiB at 5% loss: still whole?
# Prints a table with each path run's time as a ratio to lo's, and tcpdump's
# count of the frames the --write file holds (an independent reader).
#
# Usage: sudo bash scripts/bench-impaired.sh   (root: the namespaces)
set -euo pipefail
if [[ ${EUID} -ne 0 ]]; then
    echo "bench-impaired.sh: must run as root (the impaired path makes namespaces)" >&2
    exit 77
fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --quiet
BIN=target/release/tcplab
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
head -c $((64 << 20)) /dev/urandom > "$TMP/64m"

# run NAME ARGS...: wall seconds, server bytes read, overrun, frames in the file
run() {
    local name=$1; shift
    local t0 t1
    t0=$(date +%s.%N)
    "$BIN" trace "$@" --format json --hexdump none --write "$TMP/$name.pcap" > "$TMP/$name.json"
    t1=$(date +%s.%N)
    python3 - "$TMP/$name.json" "$name" "$t0" "$t1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
path = r.get("path") or {}
print(sys.argv[2], f"{float(sys.argv[4]) - float(sys.argv[3]):.3f}",
      r["sockets"]["server"]["bytes_read"], path.get("forwarder_overrun", "-"),
      len(path.get("dropped", [])), len(r["packets"]))
PY
}

{
    run setup-lo --send x
    run setup-path --send x --delay 0
    run bulk-lo --file "$TMP/64m" --server discard -B 262144
    run bulk-path --file "$TMP/64m" --server discard --delay 0 -B 262144
    run lossy-path --file "$TMP/64m" --server discard --loss 5 --seed 7 -B 262144
} > "$TMP/results"

printf '%-11s %8s %7s %12s %8s %8s %9s %9s\n' run seconds "x lo" "server read" overrun dropped frames tcpdump
while read -r name secs bytes overrun dropped frames; do
    base=${name%%-*}-lo
    lo=$(awk -v b="$base" '$1 == b {print $2}' "$TMP/results")
    [[ $base == lossy-lo ]] && lo=$(awk '$1 == "bulk-lo" {print $2}' "$TMP/results")
    ratio=$(awk -v a="$secs" -v b="$lo" 'BEGIN {printf "%.2f", a / b}')
    read_back=$(tcpdump -nn -r "$TMP/$name.pcap" 2>/dev/null | wc -l)
    printf '%-11s %8s %7s %12s %8s %8s %9s %9s\n' "$name" "$secs" "$ratio" "$bytes" "$overrun" "$dropped" "$frames" "$read_back"
done < "$TMP/results"
