#!/usr/bin/env bash
# bench-instructions.sh — compare two tcplab binaries by instructions executed
# (valgrind callgrind's "Collected" count), which, unlike wall time, does not
# change when other work runs on the machine.
#
# For each mode (text --color never, --format ndjson, --summary, --follow)
# each binary replays the same capture once under callgrind, stdout to
# /dev/null. Prints a markdown table: instructions per frame for BEFORE and
# AFTER and the AFTER/BEFORE ratio. Then checks that both binaries write
# byte-identical stdout (cmp) for text, ndjson, summary and follow on the
# same capture, and prints the first differing lines if not.
#
# The callgrind output files are kept in $OUT_DIR (cg.MODE.before/after) for
# callgrind_annotate.
#
# Usage: bash scripts/bench-instructions.sh BEFORE_BIN AFTER_BIN CAPTURE
#   e.g. editcap -F pcap -r /tmp/tcplab-bench/bulk-small.pcap /tmp/cut.pcap 1-100000
#        bash scripts/bench-instructions.sh /tmp/tcplab-base /tmp/tcplab-after /tmp/cut.pcap
# Environment: OUT_DIR (/tmp/tcplab-instr), MODES ("text ndjson summary follow").
# Needs: valgrind, capinfos (wireshark-common).

set -euo pipefail

[ $# -eq 3 ] || { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 2; }
BEFORE="$1" AFTER="$2" CAP="$3"
OUT_DIR="${OUT_DIR:-/tmp/tcplab-instr}"
MODES="${MODES:-text ndjson summary follow}"
mkdir -p "$OUT_DIR"

args_of() {
    case "$1" in
        text) echo "--color never" ;;
        ndjson) echo "--format ndjson" ;;
        summary) echo "--summary" ;;
        follow) echo "--follow --color never" ;;
        *) echo "unknown mode $1" >&2; exit 2 ;;
    esac
}

frames=$(capinfos -c -M "$CAP" | awk -F: '/Number of packets/ { gsub(/[^0-9]/, "", $2); print $2 }')

# instructions BIN MODE TAG: callgrind's total instruction count.
instructions() {
    local bin="$1" mode="$2" tag="$3" log="$OUT_DIR/cg.$2.$3.log"
    # shellcheck disable=SC2046 # the mode's arguments are meant to split
    valgrind --tool=callgrind --callgrind-out-file="$OUT_DIR/cg.$mode.$tag" \
        "$bin" replay "$CAP" $(args_of "$mode") >/dev/null 2>"$log" || true
    awk '/Collected :/ { print $NF }' "$log"
}

echo "capture: $CAP, $frames frames"
echo "BEFORE:  $BEFORE (sha256 $(sha256sum "$BEFORE" | cut -c1-12))"
echo "AFTER:   $AFTER (sha256 $(sha256sum "$AFTER" | cut -c1-12))"
echo
echo "| mode                          | BEFORE instr/frame | AFTER instr/frame | AFTER/BEFORE |"
echo "|-------------------------------|-------------------:|------------------:|-------------:|"
for mode in $MODES; do
    b=$(instructions "$BEFORE" "$mode" before)
    a=$(instructions "$AFTER" "$mode" after)
    awk -v m="$mode" -v args="$(args_of "$mode")" -v a="$a" -v b="$b" -v n="$frames" 'BEGIN {
        printf "| %-29s | %18.0f | %17.0f | %12.3f |\n", m " (" args ")", b / n, a / n, a / b }'
done
echo

echo "stdout identical (cmp)?"
for mode in $MODES; do
    # shellcheck disable=SC2046
    "$BEFORE" replay "$CAP" $(args_of "$mode") >"$OUT_DIR/out.$mode.before" 2>/dev/null || true
    # shellcheck disable=SC2046
    "$AFTER" replay "$CAP" $(args_of "$mode") >"$OUT_DIR/out.$mode.after" 2>/dev/null || true
    if cmp -s "$OUT_DIR/out.$mode.before" "$OUT_DIR/out.$mode.after"; then
        echo "  $mode: identical ($(stat -c %s "$OUT_DIR/out.$mode.after") bytes)"
    else
        echo "  $mode: DIFFERENT: $(cmp "$OUT_DIR/out.$mode.before" "$OUT_DIR/out.$mode.after" 2>&1 | head -1)"
        diff "$OUT_DIR/out.$mode.before" "$OUT_DIR/out.$mode.after" | head -n 10 | sed 's/^/    /'
    fi
    rm -f "$OUT_DIR/out.$mode.before" "$OUT_DIR/out.$mode.after"
done
