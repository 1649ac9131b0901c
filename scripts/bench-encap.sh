#!/usr/bin/env bash
# bench-encap.sh — how fast, and in how much memory, `tcplab replay` reads
# encapsulated and fragmented traffic, next to capinfos, tcpdump and tshark
# reading the same files, all in one run (issue 13: the walker and the
# reassembly table must keep replay's speed targets and flat memory).
#
# The files are scripts/make-encap-bench.py's re-wrappings of a real bulk
# capture (SMALL, default the 96.6 MB bulk-small.pcap that
# scripts/bench-replay.sh makes): every frame with a VLAN tag, every frame
# inside VXLAN, every data segment cut into two IPv4 fragments, and a flood
# of first fragments that never complete (the table's bound: 1024 datagrams,
# 16 MiB). Prints one table: wall seconds and peak RSS of each command on
# each file, then tcplab's ratios against the tools from the same run.
#
# Usage: bash scripts/bench-encap.sh [SMALL]
# Environment: TCPLAB_BIN (default target/release/tcplab, built if missing),
# WORK (/tmp/tcplab-encap), TSHARK=0 to leave tshark out (it takes ~20 s a file).
# Needs: python3, capinfos, tcpdump, tshark, /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
SMALL="${1:-/tmp/tcplab-bench/bulk-small.pcap}"
WORK="${WORK:-/tmp/tcplab-encap}"
BIN="${TCPLAB_BIN:-target/release/tcplab}"
[ -f "$SMALL" ] || { echo "bench-encap: $SMALL is missing (scripts/bench-replay.sh makes it)" >&2; exit 2; }
[ -x "$BIN" ] || cargo build --release --locked
[ -f "$WORK/flood.pcap" ] || python3 scripts/make-encap-bench.py "$SMALL" "$WORK"

# One timed run: prints "wall_s peak_kb".
measure() {
    /usr/bin/time -f "%e %M" -o "$WORK/time.out" "$@" > /dev/null 2> "$WORK/err.out" || {
        echo "bench-encap: failed: $* ($(tail -1 "$WORK/err.out"))" >&2
        exit 1
    }
    cat "$WORK/time.out"
}

printf "| file | frames | capinfos -c s | TZ=UTC tcpdump s | tshark conv,tcp s | tcplab --summary s | tcplab text s | tcplab ndjson s | tcplab peak RSS MiB |\n"
printf "| --- | --: | --: | --: | --: | --: | --: | --: | --: |\n"
for name in base vlan vxlan fragments flood; do
    f="$WORK/$name.pcap"
    [ "$name" = base ] && f="$SMALL"
    frames=$(capinfos -c -M "$f" | awk -F: '/Number of packets/ { gsub(/[^0-9]/, "", $2); print $2 }')
    read -r cap _ < <(measure capinfos -c "$f")
    read -r dump _ < <(TZ=UTC measure tcpdump -nn -r "$f")
    shark=-
    if [ "${TSHARK:-1}" != 0 ]; then read -r shark _ < <(measure tshark -r "$f" -q -z conv,tcp); fi
    read -r summ rss1 < <(measure "$BIN" replay "$f" --summary)
    read -r text rss2 < <(measure "$BIN" replay "$f" --color never)
    read -r nd rss3 < <(measure "$BIN" replay "$f" --format ndjson)
    rss=$(printf "%s\n%s\n%s\n" "$rss1" "$rss2" "$rss3" | sort -n | tail -1)
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %.1f |\n" "$name" "$frames" "$cap" "$dump" \
        "$shark" "$summ" "$text" "$nd" "$(echo "$rss / 1024" | bc -l)"
    echo "$name $cap $dump $shark $summ $text $nd $rss" >> "$WORK/results.$$"
done
echo
echo "| file | text speed / tcpdump's | --summary time / capinfos' | --summary speed / tshark's | peak RSS / base's |"
echo "| --- | --: | --: | --: | --: |"
awk 'NR == 1 { base = $8 }
     { shark = ($4 == "-") ? "-" : sprintf("%.1f", $4 / $5)
       printf "| %s | %.2f | %.2f | %s | %.2f |\n", $1, $3 / $6, $5 / $2, shark, $8 / base }' "$WORK/results.$$"
rm -f "$WORK/results.$$"
