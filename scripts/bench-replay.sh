#!/usr/bin/env bash
# bench-replay.sh — how fast, and in how much memory, `tcplab replay` reads a
# large capture, next to the tools people would otherwise use on it (cat,
# capinfos, tcpdump -r, tshark -z conv,tcp).
#
# 1. The capture (made once, then reused; --regen makes it again).
#    Why a real one: synthetic pcaps repeat a few packets and flatter any
#    decoder; a real kernel bulk transfer has the real mix of ~1514-byte data
#    frames, 66-byte ACKs, window updates and TCP options.
#
#      ns S (sender)                          ns R (receiver)
#      s0 10.78.0.1/24  ------ veth ------  r0 10.78.0.2/24
#      02:78:00:00:00:01                    02:78:00:00:00:02
#
#    * Two namespaces made here and deleted on exit, joined by ONE veth pair
#      (no forwarder, no loss). Nothing is sent outside them; the host's
#      interfaces and routes are never touched.
#    * MTU 1500 and TSO/GSO/GRO and tx/rx checksum offload OFF on both ends:
#      otherwise the sender hands the veth 64 KB super-segments and tcpdump
#      records those instead of Ethernet frames. With offloads off every data
#      segment is a real 1514-byte frame (1448-byte payload with timestamps)
#      and every checksum in the file is a real one.
#    * Permanent neighbour entries and IPv6 off: no ARP, no router
#      solicitations, only the one TCP connection on the wire.
#    * A python3 sender writes $BYTES bytes from one in-memory buffer in
#      4 MiB sendall()s (no disk reads in the way); the receiver reads into a
#      reused buffer and discards. tcpdump, in R on r0, writes the file with
#      -s 200 (headers plus a little payload, as one would capture for TCP
#      analysis) and -B 262144 (256 MiB kernel buffer, to keep drops down).
#      The transfer starts only after tcpdump's "listening on" line, and
#      tcpdump is stopped only after both sockets are gone, so the handshake
#      and teardown are both in the file. tcpdump's "dropped by kernel" count
#      is saved next to the capture and printed with every result: a few
#      drops do not matter for a reading benchmark, but they are reported.
#    * BYTES is chosen so that the file is ~1 GB (about 6.5 GB of payload at
#      216 bytes per data record plus the ACKs).
#    * The ~100 MB file is the first tenth of the packets (editcap -F pcap -r), to
#      show whether tcplab's memory grows with the input (it must not: replay
#      streams).
#
# 2. The measurements. Each command runs once, stdout to /dev/null, under
#    `/usr/bin/time -f "%e %M %U %S"` (wall s, peak RSS KB, user s, sys s);
#    only a run disturbed by other work on the machine is repeated (see
#    measure() below).
#    * Both files are read once with `cat FILE >/dev/null` first, so every
#      command (including the first) reads from a warm page cache: the numbers
#      are CPU cost, not disk speed.
#    * The tcplab binary is copied to $BENCH_DIR first: another engineer may
#      rebuild target/release/tcplab while this runs, and the rows must all
#      come from one binary. Its git revision (and "-dirty") is printed.
#    * "other CPU s" is the CPU time the whole machine spent during a command
#      minus what the command itself used (from /proc/stat and %U+%S). Near 0
#      means the run had the machine to itself; a large value (a parallel
#      cargo build, say) means its time is noisy. It is approximate (10 ms
#      ticks; kernel threads working for the command count as "other").
#    * packets/s = packet count (capinfos -c -M, once, not timed) / wall s.
#    * "MiB" is 1024*1024 bytes (the 64 MB target is read as 64 MiB).
#
# Targets (printed as met / NOT met at the end; issue 12 raised the first
# three from text >= 2 and capinfos/summary <= 2, and added ndjson):
#    tcplab text pps / TZ=UTC tcpdump pps            >= 3
#    tcplab ndjson pps / TZ=UTC tcpdump pps          >= 1
#    tcplab summary time / capinfos -c time          <= 1.2
#    tcplab summary pps / tshark conv,tcp pps         >= 50
#    peak RSS of every tcplab run                     < 64 MiB
#    RSS(1 GB file) / RSS(100 MB file), summary and ndjson   <= 1.10
#
# Usage (from anywhere; root only to make the capture, i.e. namespaces and
# live capture):
#    sudo bash scripts/bench-replay.sh            # make capture if missing, run all
#    sudo bash scripts/bench-replay.sh --regen    # make the capture again first
#    bash scripts/bench-replay.sh --only-tcplab   # rerun only the tcplab rows; the
#                                                 # other rows come from the last
#                                                 # full run's saved results
# Environment: BENCH_DIR (/tmp/tcplab-bench), BYTES (payload of the transfer,
#    6500000000), PORT (5201), TCPLAB_BIN (use this binary, do not build),
#    QUIET_WAIT (90: seconds to wait, before each command, for the machine to
#    be idle; 0 = do not wait).
# Needs: iproute2, ethtool, tcpdump, tshark, capinfos + editcap
#    (wireshark-common), python3, /usr/bin/time (Debian package `time`), cargo.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-/tmp/tcplab-bench}"
BYTES="${BYTES:-6500000000}"
PORT="${PORT:-5201}"
SNAPLEN=200
BUFFER_KB=262144

say() { echo "bench-replay: $*" >&2; }
die() { say "$*"; exit 1; }

REGEN=0
ONLY_TCPLAB=0
for arg in "$@"; do
    case "$arg" in
        --regen) REGEN=1 ;;
        --only-tcplab) ONLY_TCPLAB=1 ;;
        -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) die "unknown argument: $arg (try --help)" ;;
    esac
done
if [ "$REGEN" = 1 ] && [ "$ONLY_TCPLAB" = 1 ]; then
    # A new capture invalidates the saved reference rows --only-tcplab uses.
    die "--regen and --only-tcplab do not go together"
fi

BIG="$BENCH_DIR/bulk.pcap"
SMALL="$BENCH_DIR/bulk-small.pcap"
INFO="$BENCH_DIR/bulk.info"                # how the capture was made (drops etc.)
FULL_RESULTS="$BENCH_DIR/results-full.tsv" # last full run, for --only-tcplab
TCPLAB_RESULTS="$BENCH_DIR/results-tcplab.tsv"

for tool in capinfos editcap tcpdump tshark python3; do
    command -v "$tool" >/dev/null || die "$tool is missing (Debian: tcpdump tshark wireshark-common python3)"
done
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian: apt-get install time; the shell keyword cannot report peak RSS)"

mkdir -p "$BENCH_DIR"
WORK="$(mktemp -d "$BENCH_DIR/work.XXXXXX")"
NS_S="tcplab-bench-s-$$"
NS_R="tcplab-bench-r-$$"
PIDS=() # background processes started here; ended by id on exit

# Ends what this script started and deletes its namespaces.
teardown() {
    local pid ns
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
    for ns in "$NS_S" "$NS_R"; do
        if [ -e "/run/netns/$ns" ]; then
            # Anything left inside OUR namespaces was started by this script.
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
            ip netns del "$ns" || true
        fi
    done
}
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    local rc=$?
    set +e
    teardown
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_ns() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }

# wait_for FILE PATTERN PID WHAT: until FILE contains PATTERN (10 s at most).
wait_for() {
    for _ in $(seq 200); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || break
        sleep 0.05
    done
    cat "$1" >&2 || true
    die "$4 did not start"
}

# Connections on $PORT in namespace $1 that still exchange packets.
live_sockets() {
    in_ns "$1" ss -Htan "( sport = :$PORT or dport = :$PORT )" | grep -Ev '^(LISTEN|TIME-WAIT)' || true
}

packet_count() {
    capinfos -c -M "$1" | awk -F: '/Number of packets/ { gsub(/[^0-9]/, "", $2); print $2 }'
}

# ---------------------------------------------------------------------------
# 1. The capture
# ---------------------------------------------------------------------------
make_capture() {
    local dump_pid recv_pid
    if [ "$(id -u)" -ne 0 ]; then
        say "making the capture needs root (network namespaces, live capture): sudo bash $0"
        exit 77
    fi
    for tool in ip ethtool ss; do
        command -v "$tool" >/dev/null || die "$tool is missing (Debian: iproute2 ethtool)"
    done
    say "making $BIG: $BYTES bytes over a veth pair between two namespaces"

    for ns in "$NS_S" "$NS_R"; do
        ip netns add "$ns"
        in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        ip -n "$ns" link set lo up
    done
    # The veth is created with its two ends directly inside the namespaces.
    ip -n "$NS_S" link add s0 address 02:78:00:00:00:01 mtu 1500 type veth \
        peer name r0 address 02:78:00:00:00:02 mtu 1500 netns "$NS_R"
    local ns dev
    for ns_dev in "$NS_S:s0" "$NS_R:r0"; do
        ns="${ns_dev%%:*}" dev="${ns_dev#*:}"
        # ("Actual changes: ..." on stdout is noise; errors still show.)
        in_ns "$ns" ethtool -K "$dev" tso off gso off gro off tx off rx off >/dev/null
        ip -n "$ns" link set dev "$dev" up
    done
    ip -n "$NS_S" addr add 10.78.0.1/24 dev s0
    ip -n "$NS_R" addr add 10.78.0.2/24 dev r0
    ip -n "$NS_S" neigh replace 10.78.0.2 lladdr 02:78:00:00:00:02 dev s0 nud permanent
    ip -n "$NS_R" neigh replace 10.78.0.1 lladdr 02:78:00:00:00:01 dev r0 nud permanent
    # Show that the offloads really are off (a kernel may refuse some).
    in_ns "$NS_S" ethtool -k s0 | grep -E '^(tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload|tx-checksumming|rx-checksumming):' |
        sed 's/^/  s0 /' >&2

    # Receiver in R: accept one connection, read to EOF into a reused buffer,
    # discard, report the byte count.
    ip netns exec "$NS_R" python3 - "$PORT" "$BYTES" >"$WORK/recv.out" 2>&1 <<'PY' &
import socket, sys
port, want = int(sys.argv[1]), int(sys.argv[2])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("10.78.0.2", port))
ls.listen(1)
print("listening", flush=True)
conn, _ = ls.accept()
buf = bytearray(4 << 20)
got = 0
while True:
    n = conn.recv_into(buf)
    if not n:
        break
    got += n
conn.close()
print(f"received {got} bytes", flush=True)
sys.exit(0 if got == want else 1)
PY
    recv_pid=$!
    PIDS+=("$recv_pid")
    wait_for "$WORK/recv.out" "^listening" "$recv_pid" "receiver"

    # -Z root: Debian's tcpdump otherwise switches to user tcpdump before
    # opening the -w file. No -U: buffered writes, as in normal use.
    ip netns exec "$NS_R" tcpdump -Z root -i r0 -s "$SNAPLEN" -B "$BUFFER_KB" \
        -w "$WORK/bulk.pcap" 'tcp' 2>"$WORK/tcpdump.err" &
    dump_pid=$!
    PIDS+=("$dump_pid")
    wait_for "$WORK/tcpdump.err" "listening on" "$dump_pid" "tcpdump"

    # Sender in S: one 4 MiB buffer (a recognisable byte pattern) sent again
    # and again, so the sender costs as little CPU as possible.
    local t0 t1
    t0=$(date +%s.%N)
    in_ns "$NS_S" python3 - "$PORT" "$BYTES" <<'PY' || die "the sender failed"
import socket, sys
port, size = int(sys.argv[1]), int(sys.argv[2])
chunk = bytes(range(256)) * (16384)  # 4 MiB
view = memoryview(chunk)
s = socket.create_connection(("10.78.0.2", port), timeout=60)
left = size
while left > 0:
    n = min(left, len(chunk))
    s.sendall(view[:n])
    left -= n
s.close()
PY
    wait "$recv_pid" || { cat "$WORK/recv.out" >&2; die "the receiver failed"; }
    t1=$(date +%s.%N)
    # Let the teardown (FIN, ACK) finish before stopping the capture.
    for _ in $(seq 100); do
        [ -z "$(live_sockets "$NS_S")$(live_sockets "$NS_R")" ] && break
        sleep 0.1
    done
    sleep 0.3
    # SIGTERM, not SIGINT: background jobs of a non-interactive shell start
    # with SIGINT ignored.
    kill -TERM "$dump_pid"
    wait "$dump_pid" || true
    teardown

    local captured dropped secs
    captured=$(awk '/packets captured/ { print $1 }' "$WORK/tcpdump.err")
    dropped=$(awk '/packets dropped by kernel/ { print $1 }' "$WORK/tcpdump.err")
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    sed 's/^/  /' "$WORK/recv.out" >&2
    sed 's/^/  tcpdump: /' "$WORK/tcpdump.err" >&2
    mv "$WORK/bulk.pcap" "$BIG"
    rm -f "$SMALL" # made from the previous capture
    {
        echo "made:      $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -r)"
        echo "transfer:  $BYTES bytes in $secs s, veth MTU 1500, offloads off"
        echo "tcpdump:   -s $SNAPLEN -B $BUFFER_KB 'tcp' on r0: $captured packets captured, $dropped dropped by kernel"
    } >"$INFO"
}

# The first tenth of the packets: same traffic, same format, a tenth of the
# size. -F pcap: editcap writes pcapng by default, and a pcapng file would
# compare two readers, not two file sizes.
make_small() {
    local n
    n=$(packet_count "$BIG")
    editcap -F pcap -r "$BIG" "$SMALL.tmp" "1-$((n / 10))"
    mv "$SMALL.tmp" "$SMALL"
    say "made $SMALL: the first $((n / 10)) of $n packets (editcap -F pcap -r)"
}

if [ "$REGEN" = 1 ] || [ ! -s "$BIG" ] || [ ! -s "$INFO" ]; then
    make_capture
else
    say "reusing $BIG (--regen makes it again)"
fi
[ -s "$SMALL" ] || make_small

# ---------------------------------------------------------------------------
# 2. The measurements
# ---------------------------------------------------------------------------

# The binary: built here unless TCPLAB_BIN is given, then copied so that a
# parallel rebuild cannot swap it between rows.
if [ -n "${TCPLAB_BIN:-}" ]; then
    SRC_BIN="$TCPLAB_BIN"
    REV="TCPLAB_BIN=$TCPLAB_BIN, built $(date -r "$TCPLAB_BIN" '+%F %T'); tree now $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
else
    say "cargo build --release"
    # A failed build (say, someone's edit half done) stops the run rather than
    # silently measuring an older binary; TCPLAB_BIN measures one on purpose.
    (cd "$ROOT" && cargo build --release -q) ||
        die "cargo build --release failed; to measure the last good build: TCPLAB_BIN=$ROOT/target/release/tcplab $0 $*"
    SRC_BIN="$ROOT/target/release/tcplab"
    REV="$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
fi
TCPLAB="$BENCH_DIR/tcplab"
cp "$SRC_BIN" "$TCPLAB.tmp" && mv "$TCPLAB.tmp" "$TCPLAB"
BIN_SHA="$(sha256sum "$TCPLAB" | cut -c1-12)"

N_BIG=$(packet_count "$BIG")
N_SMALL=$(packet_count "$SMALL")
SIZE_BIG=$(stat -c %s "$BIG")
SIZE_SMALL=$(stat -c %s "$SMALL")
# Which capture saved results belong to (--only-tcplab checks it).
CAPTURE_ID="$SIZE_BIG $(stat -c %Y "$BIG") $SIZE_SMALL $(stat -c %Y "$SMALL")"

mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }
echo
echo "machine:  $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r), Debian $(cat /etc/debian_version 2>/dev/null || echo '?')"
echo "tools:    $(tcpdump --version 2>&1 | head -1), $(tcpdump --version 2>&1 | sed -n 2p), $(tshark --version 2>/dev/null | head -1 | sed 's/ (Git.*//')"
echo "tcplab:   $REV, binary sha256 $BIN_SHA"
echo "capture:  $BIG: $(mb "$SIZE_BIG") MB, $N_BIG packets, $(capinfos -t "$BIG" | awk -F': +' '/File type/ { print $2 }')"
echo "small:    $SMALL: $(mb "$SIZE_SMALL") MB, $N_SMALL packets, $(capinfos -t "$SMALL" | awk -F': +' '/File type/ { print $2 }')"
sed 's/^/          /' "$INFO"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) before the measurements"

# Warm page cache: every command below reads from memory, the first included.
echo "cache:    both files read once with cat >/dev/null before timing (warm page cache)"
cat "$BIG" >/dev/null
cat "$SMALL" >/dev/null
if command -v fincore >/dev/null; then
    echo "          resident: $(fincore -n -o RES "$BIG" | tr -d ' ') of $(numfmt --to=iec "$SIZE_BIG") ($BIG)"
fi
echo

# Busy jiffies of all CPUs so far (user nice system irq softirq steal).
busy_jiffies() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
HZ=$(getconf CLK_TCK)

# Another engineer may be compiling on this 2-CPU machine; a build running
# next to a command roughly doubles its wall time. So before each command wait
# (up to QUIET_WAIT s; 0 = do not wait) until a 1 s sample shows the machine
# using less than 0.2 CPU. This only avoids starting in the middle of a build;
# the "other CPU s" column still shows what happened during the command.
QUIET_WAIT="${QUIET_WAIT:-90}"
wait_quiet() {
    local start=$SECONDS b0 b1
    while [ $((SECONDS - start)) -lt "$QUIET_WAIT" ]; do
        b0=$(busy_jiffies)
        sleep 1
        b1=$(busy_jiffies)
        if [ $(((b1 - b0) * 5)) -lt "$HZ" ]; then
            [ $((SECONDS - start)) -gt 1 ] && say "  waited $((SECONDS - start)) s for the machine to go quiet"
            return 0
        fi
    done
    [ "$QUIET_WAIT" -gt 0 ] && say "  machine still busy after $QUIET_WAIT s; measuring anyway (see other CPU s)"
    return 0
}

# measure ROWS_FILE LABEL FILE(big|small) CMD...: run CMD, stdout to
# /dev/null, under /usr/bin/time; append "label file seconds rss_kb
# other_cpu_s exit tries" to ROWS_FILE.
# A run is DISTURBED when the rest of the machine used more than 10 % of its
# wall time (+0.1 s) in CPU: that is someone else's build on one of our two
# CPUs, and it can halve or double a time. A disturbed run is done again, up
# to MAX_TRIES times in all, and the LEAST disturbed try is kept (not the
# fastest: picking minima would bias every row downwards). Undisturbed
# commands run exactly once. "tries" in the table says how many it took.
MAX_TRIES="${MAX_TRIES:-3}"
measure() {
    local rows="$1" label="$2" which="$3"
    shift 3
    local b0 b1 e m u s rc other try best="" best_other=""
    say "timing: $label"
    for ((try = 1; try <= MAX_TRIES; try++)); do
        wait_quiet
        b0=$(busy_jiffies)
        /usr/bin/time -o "$WORK/time" -f "%e %M %U %S %x" "$@" >/dev/null 2>"$WORK/stderr" || true
        b1=$(busy_jiffies)
        # The last line: on a signal, time writes a "Command terminated" line first.
        read -r e m u s rc < <(tail -n 1 "$WORK/time")
        if [ "$rc" != 0 ]; then
            say "  exit status $rc; stderr:"
            head -c 2000 "$WORK/stderr" | sed 's/^/    /' >&2
        fi
        other=$(awk -v b="$((b1 - b0))" -v hz="$HZ" -v u="$u" -v s="$s" 'BEGIN { o = b / hz - u - s; if (o < 0) o = 0; printf "%.1f", o }')
        say "  try $try: ${e} s, ${m} KB peak RSS, other CPU ${other} s"
        if [ -z "$best" ] || awk -v a="$other" -v b="$best_other" 'BEGIN { exit !(a < b) }'; then
            best="$e"$'\t'"$m"$'\t'"$other"$'\t'"$rc" best_other="$other"
        fi
        awk -v o="$other" -v e="$e" 'BEGIN { exit !(o > 0.1 * e + 0.1) }' || break
        if [ "$try" -lt "$MAX_TRIES" ]; then say "  disturbed (other CPU ${other} s in ${e} s): again"; fi
    done
    printf '%s\t%s\t%s\t%s\n' "$label" "$which" "$best" "$((try > MAX_TRIES ? MAX_TRIES : try))" >>"$rows"
}

run_tcplab_rows() {
    local rows="$1"
    measure "$rows" "tcplab replay FILE --color never" big "$TCPLAB" replay "$BIG" --color never
    measure "$rows" "tcplab replay FILE --format ndjson" big "$TCPLAB" replay "$BIG" --format ndjson
    measure "$rows" "tcplab replay FILE --summary" big "$TCPLAB" replay "$BIG" --summary
    measure "$rows" "tcplab replay SMALL --summary" small "$TCPLAB" replay "$SMALL" --summary
    measure "$rows" "tcplab replay SMALL --format ndjson" small "$TCPLAB" replay "$SMALL" --format ndjson
}

ROWS="$WORK/rows.tsv"
: >"$ROWS"
if [ "$ONLY_TCPLAB" = 1 ]; then
    [ -s "$FULL_RESULTS" ] || die "no saved full run in $FULL_RESULTS: run without --only-tcplab first"
    [ "$(head -n 1 "$FULL_RESULTS")" = "# capture $CAPTURE_ID" ] ||
        die "$FULL_RESULTS belongs to another capture: run without --only-tcplab first"
    run_tcplab_rows "$ROWS"
    # Reference rows (every non-tcplab command) from the last full run.
    grep -v '^#' "$FULL_RESULTS" | grep -v '^tcplab' | sed 's/$/\tsaved/' >"$WORK/ref.tsv"
    { echo "# capture $CAPTURE_ID"; cat "$ROWS"; } >"$TCPLAB_RESULTS"
    cat "$WORK/ref.tsv" "$ROWS" >"$WORK/all.tsv"
    echo "Non-tcplab rows (marked *) are from the last full run, $(stat -c %y "$FULL_RESULTS" | cut -d. -f1);"
    echo "tcplab rows are from this run."
    echo
else
    measure "$ROWS" "cat FILE" big cat "$BIG"
    measure "$ROWS" "capinfos -c FILE" big capinfos -c "$BIG"
    measure "$ROWS" "TZ=UTC tcpdump -nn -r FILE" big env TZ=UTC tcpdump -nn -r "$BIG"
    measure "$ROWS" "tcpdump -nn -r FILE (TZ unset)" big env -u TZ tcpdump -nn -r "$BIG"
    measure "$ROWS" "tshark -r FILE -q -z conv,tcp" big tshark -r "$BIG" -q -z conv,tcp
    run_tcplab_rows "$ROWS"
    { echo "# capture $CAPTURE_ID"; cat "$ROWS"; } >"$FULL_RESULTS"
    cp "$ROWS" "$WORK/all.tsv"
fi
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) after the measurements"
echo

# ---------------------------------------------------------------------------
# 3. The table and the targets (markdown, ready for docs/performance.md)
# ---------------------------------------------------------------------------
awk -F'\t' -v nbig="$N_BIG" -v nsmall="$N_SMALL" -v bigf="$BIG" -v smallf="$SMALL" -v bigmb="$(mb "$SIZE_BIG")" -v smallmb="$(mb "$SIZE_SMALL")" '
function fmt_pps(p) { return p >= 999500 ? sprintf("%.2f M", p / 1e6) : sprintf("%.0f k", p / 1e3) }
function verdict(ok) { return ok ? "met" : "**NOT met**" }
{
    label = $1; which = $2; secs = $3; rss = $4; other = $5; rc = $6; tries = $7; saved = ($8 == "saved")
    if (other > 0.1 * secs + 0.1) noisy++
    n = (which == "big") ? nbig : nsmall
    pps = (secs > 0) ? n / secs : 0
    PPS[label] = pps; RSS[label] = rss / 1024; RC[label] = rc
    row[++nrows] = sprintf("| %-38s | %7.2f | %9s | %12.1f | %11s | %5s | %4s |", \
        label (saved ? " *" : ""), secs, fmt_pps(pps), rss / 1024, other, tries, rc)
}
END {
    printf "FILE = %s (%s MB, %d packets), SMALL = %s (%s MB, %d packets)\n\n", bigf, bigmb, nbig, smallf, smallmb, nsmall
    print "| command                                |  wall s | packets/s | peak RSS MiB | other CPU s | tries | exit |"
    print "|----------------------------------------|--------:|----------:|-------------:|------------:|------:|-----:|"
    for (i = 1; i <= nrows; i++) print row[i]
    if (noisy) printf "\n%d row(s) still disturbed (other CPU s > 10 %% of wall s + 0.1 s): their times are noisy.\n", noisy
    print ""
    print "| target                                              |    value | goal    | result |"
    print "|-----------------------------------------------------|---------:|---------|--------|"
    text = "tcplab replay FILE --color never"; nd = "tcplab replay FILE --format ndjson"; sm = "tcplab replay FILE --summary"
    smS = "tcplab replay SMALL --summary"; ndS = "tcplab replay SMALL --format ndjson"
    r = PPS[text] / PPS["TZ=UTC tcpdump -nn -r FILE"]
    printf "| tcplab text pps / TZ=UTC tcpdump pps                | %8.2f | >= 3    | %s |\n", r, verdict(r >= 3)
    r = PPS[nd] / PPS["TZ=UTC tcpdump -nn -r FILE"]
    printf "| tcplab ndjson pps / TZ=UTC tcpdump pps              | %8.2f | >= 1    | %s |\n", r, verdict(r >= 1)
    r = PPS["capinfos -c FILE"] / PPS[sm]
    printf "| tcplab summary time / capinfos -c time              | %8.2f | <= 1.2  | %s |\n", r, verdict(r <= 1.2)
    r = PPS[sm] / PPS["tshark -r FILE -q -z conv,tcp"]
    printf "| tcplab summary pps / tshark conv,tcp pps            | %8.1f | >= 50   | %s |\n", r, verdict(r >= 50)
    max = 0
    split(text SUBSEP nd SUBSEP sm SUBSEP smS SUBSEP ndS, t, SUBSEP)
    for (i = 1; i <= 5; i++) if (RSS[t[i]] > max) max = RSS[t[i]]
    printf "| largest tcplab peak RSS, MiB (all 5 tcplab runs)    | %8.1f | < 64    | %s |\n", max, verdict(max < 64)
    r = RSS[sm] / RSS[smS]
    printf "| RSS(1 GB) / RSS(100 MB), --summary                  | %8.3f | <= 1.10 | %s |\n", r, verdict(r <= 1.10)
    r = RSS[nd] / RSS[ndS]
    printf "| RSS(1 GB) / RSS(100 MB), --format ndjson            | %8.3f | <= 1.10 | %s |\n", r, verdict(r <= 1.10)
    bad = 0
    for (l in RC) if (RC[l] != 0) bad++
    if (bad) printf "\n**%d command(s) exited non-zero: their numbers do not count.**\n", bad
}' "$WORK/all.tsv"
