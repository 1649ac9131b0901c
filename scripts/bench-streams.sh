#!/usr/bin/env bash
# bench-streams.sh — what `tcplab replay` keeps per TCP stream, next to
# tshark, on captures of very many streams (issue 10 item 10).
#
# The captures (scripts/make-many-streams.py; made once in $BENCH_DIR, then
# reused):
#    syn    1,000,000 SYNs nobody answers, 1 µs apart (a scan or a flood):
#           1 frame per stream, 70 MB. No stream ever finishes.
#    closed 1,000,000 whole connections (handshake, request, reply, both
#           FINs acknowledged) at 1,000 a second: 8 frames per stream,
#           860 MB, 1,000 s of capture time. All but the last 60,000 are
#           past TIME_WAIT when the file ends.
#    one    a single SYN: the cost of a run with (almost) no streams.
#
# Each command runs once, stdout to /dev/null, under
# `/usr/bin/time -f "%e %M"` (wall s, peak RSS KiB), after the file was read
# once (warm page cache). "B/stream" is (peak RSS - peak RSS of the same
# command on `one`) / streams. The tshark counterparts:
#    --summary   tshark -q -z conv,tcp -r FILE
#    rows        tshark -r FILE                (one line per frame)
#    --follow    tshark -q -z follow,tcp,ascii,0 -r FILE
#
# Targets (printed as met / NOT met):
#    summary, syn file:      peak RSS < 400 MB (10^6 bytes)
#    summary, closed file:   <= 300 B/stream
#    rows, follow:           the same two limits
#    every mode:             tshark's wall time / tcplab's >= 5
#
# Usage: bash scripts/bench-streams.sh      (no root needed)
# Environment: BENCH_DIR (/tmp/tcplab-streams), STREAMS (1000000),
#    TCPLAB_BIN (use this binary, do not build).
# Needs: tshark, python3, /usr/bin/time (Debian package `time`), cargo.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-/tmp/tcplab-streams}"
STREAMS="${STREAMS:-1000000}"

say() { echo "bench-streams: $*" >&2; }
die() { say "$*"; exit 1; }

case "${1:-}" in
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    "") ;;
    *) die "unknown argument: $1 (try --help)" ;;
esac
for tool in tshark python3; do
    command -v "$tool" >/dev/null || die "$tool is missing (Debian: tshark python3)"
done
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian: apt-get install time)"
mkdir -p "$BENCH_DIR"

if [ -n "${TCPLAB_BIN:-}" ]; then
    BIN="$TCPLAB_BIN"
else
    say "building tcplab (release)"
    (cd "$ROOT" && cargo build --release --quiet)
    # A copy: the rows must all come from one binary, whatever is rebuilt meanwhile.
    BIN="$BENCH_DIR/tcplab"
    cp "$ROOT/target/release/tcplab" "$BIN"
fi
REV="$(cd "$ROOT" && git describe --always --dirty 2>/dev/null || echo unknown)"

for kind in syn closed; do
    file="$BENCH_DIR/$kind-$STREAMS.pcap"
    if [ ! -s "$file" ]; then
        say "making $file"
        python3 "$ROOT/scripts/make-many-streams.py" "$kind" "$STREAMS" "$file.part"
        mv "$file.part" "$file"
    fi
done
ONE="$BENCH_DIR/one.pcap"
[ -s "$ONE" ] || python3 "$ROOT/scripts/make-many-streams.py" syn 1 "$ONE"

# measure CMD...: prints "wall_s peak_kib" of one run.
measure() {
    local report
    report="$(mktemp)"
    /usr/bin/time -o "$report" -f "%e %M" "$@" >/dev/null 2>&1 || die "failed: $*"
    tail -1 "$report"
    rm -f "$report"
}

fails=0
# row LABEL KIND TCPLAB_ARGS TSHARK_ARGS
row() {
    local label="$1" kind="$2" targs="$3" sargs="$4"
    local file="$BENCH_DIR/$kind-$STREAMS.pcap"
    cat "$file" >/dev/null
    # shellcheck disable=SC2086 # the argument lists are split on purpose
    read -r t_wall t_kib < <(measure "$BIN" replay "$file" $targs)
    # shellcheck disable=SC2086
    read -r _ one_kib < <(measure "$BIN" replay "$ONE" $targs)
    # shellcheck disable=SC2086
    read -r s_wall s_kib < <(measure tshark $sargs -r "$file")
    python3 - "$label" "$kind" "$t_wall" "$t_kib" "$one_kib" "$s_wall" "$s_kib" "$STREAMS" <<'EOF'
import sys
label, kind, t_wall, t_kib, one_kib, s_wall, s_kib, streams = sys.argv[1:]
t_wall, s_wall = float(t_wall), float(s_wall)
t_b, one_b, s_b, n = int(t_kib) * 1024, int(one_kib) * 1024, int(s_kib) * 1024, int(streams)
per = (t_b - one_b) / n
speed = s_wall / max(t_wall, 0.01)
checks = [("tshark time / tcplab >= 5", speed >= 5)]
if kind == "syn":
    checks.append(("peak < 400 MB", t_b < 400e6))
else:
    checks.append(("<= 300 B/stream", per <= 300))
verdict = "; ".join(f"{c} {'met' if ok else 'NOT met'}" for c, ok in checks)
print(f"| {label} | {kind} | {t_wall:.2f} | {t_b / 2**20:.1f} | {per:.0f} | "
      f"{s_wall:.2f} | {s_b / 2**20:.1f} | {speed:.1f}x | {s_b / t_b:.1f}x | {verdict} |")
sys.exit(0 if all(ok for _, ok in checks) else 3)
EOF
}

say "tcplab $REV, $STREAMS streams per file; each row takes up to a minute"
echo "| mode | file | tcplab s | tcplab MiB | B/stream | tshark s | tshark MiB | speed | memory | targets |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for kind in syn closed; do
    row "--summary" "$kind" "--summary" "-q -z conv,tcp" || fails=$((fails + 1))
    row "rows" "$kind" "" "" || fails=$((fails + 1))
    row "--follow" "$kind" "--follow" "-q -z follow,tcp,ascii,0" || fails=$((fails + 1))
done
if [ "$fails" -gt 0 ]; then
    say "$fails rows missed a target"
    exit 1
fi
say "every target met"
