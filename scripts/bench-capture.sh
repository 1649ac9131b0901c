#!/usr/bin/env bash
# bench-capture.sh — does a live capture keep every frame of a bulk transfer
# on the loopback interface? tcplab capture against tcpdump, and tcplab
# trace at growing sizes (issue 11).
#
# 1. capture --write during a bulk transfer. For each size (512 MiB and
#    2 GiB by default), for each capturer in turn, on a fresh transfer:
#    * a python3 receiver on 127.0.0.1:$PORT reads and discards; a python3
#      sender writes SIZE bytes from one buffer in 4 MiB sendall()s, as fast
#      as loopback takes them (nothing paces it);
#    * the capturer starts first, filtered on the port, at full snaplen, and
#      the transfer begins once it says it is listening; it is stopped with
#      SIGINT 0.5 s after both sockets are closed;
#    * measured: the payload bytes of the sender's direction that the file
#      holds, as the union of (seq, seq + len) ranges tshark reads from it
#      (retransmissions count once), against SIZE; the kernel drops the
#      capturer reports; its CPU time (user + sys) and peak RSS
#      (/usr/bin/time); the file's size.
#    Capturers: `tcplab capture --write F` (rows to /dev/null), `tcpdump -w F`
#    with its defaults (2 MiB buffer, snaplen 262144), and `tcpdump -B 65536
#    -w F` (the 64 MiB tcplab uses, for fairness).
# 2. `tcplab trace --file` of 1, 16, 64 and 256 MiB of random bytes through
#    the echo server: frames captured, kernel drops, wall time, and whether
#    the JSON's wire totals hold every byte both ways.
#
# Everything stays on 127.0.0.1. Needs root (live capture), python3, tcpdump,
# tshark, /usr/bin/time (Debian: time), cargo (or TCPLAB_BIN).
# Usage: sudo bash scripts/bench-capture.sh
# Environment: BENCH_DIR (/tmp/tcplab-capture), SIZES_MIB ("512 2048"),
#    TRACE_MIB ("1 16 64 256"), PORT (5202), TCPLAB_BIN.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-/tmp/tcplab-capture}"
SIZES_MIB="${SIZES_MIB:-512 2048}"
TRACE_MIB="${TRACE_MIB:-1 16 64 256}"
PORT="${PORT:-5202}"

say() { echo "bench-capture: $*" >&2; }
die() { say "$*"; exit 1; }

case "${1:-}" in
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    "") ;;
    *) die "unknown argument: $1 (try --help)" ;;
esac
[ "$(id -u)" -eq 0 ] || { say "live capture needs root: sudo bash $0"; exit 77; }
for tool in tcpdump tshark python3; do
    command -v "$tool" >/dev/null || die "$tool is missing (Debian: tcpdump tshark python3)"
done
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian: apt-get install time)"
mkdir -p "$BENCH_DIR"
WORK="$(mktemp -d "$BENCH_DIR/run.XXXXXX")"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

if [ -n "${TCPLAB_BIN:-}" ]; then
    BIN="$TCPLAB_BIN"
else
    say "building tcplab (release)"
    (cd "$ROOT" && cargo build --release --quiet)
    BIN="$BENCH_DIR/tcplab"
    cp "$ROOT/target/release/tcplab" "$BIN"
fi
REV="$(cd "$ROOT" && git describe --always --dirty 2>/dev/null || echo unknown)"

# The receiver: accepts one connection, reads to the end, says "done".
cat >"$WORK/receiver.py" <<'EOF'
import socket, sys
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(1)
print("ready", flush=True)
conn, _ = srv.accept()
buf = bytearray(1 << 20)
total = 0
while True:
    n = conn.recv_into(buf)
    if n == 0:
        break
    total += n
conn.close()
print("done", total, flush=True)
EOF
cat >"$WORK/sender.py" <<'EOF'
import socket, sys
size, port = int(sys.argv[1]), int(sys.argv[2])
chunk = bytes(4 << 20)
s = socket.create_connection(("127.0.0.1", port))
left = size
while left > 0:
    n = min(left, len(chunk))
    s.sendall(chunk[:n])
    left -= n
s.close()
EOF
# The sender's payload in FILE: the union of its (seq, seq + len) ranges.
cat >"$WORK/payload.py" <<'EOF'
import subprocess, sys
path, port = sys.argv[1], sys.argv[2]
out = subprocess.run(
    ["tshark", "-r", path, "-Y", f"tcp.dstport == {port} && tcp.len > 0",
     "-T", "fields", "-e", "tcp.seq", "-e", "tcp.len"],
    capture_output=True, text=True, check=True).stdout
ranges = sorted((int(a), int(a) + int(b)) for a, b in (l.split() for l in out.splitlines()))
total, end = 0, 0
for lo, hi in ranges:
    lo = max(lo, end)
    if hi > lo:
        total += hi - lo
        end = hi
print(total)
EOF

# wait_line FILE PATTERN: until FILE holds PATTERN (10 s at most).
wait_line() {
    for _ in $(seq 200); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    cat "$1" >&2
    die "timed out waiting for '$2' in $1"
}

# one_capture NAME SIZE_BYTES CMD...: a transfer under CMD; prints a table row.
one_capture() {
    local name="$1" size="$2"
    shift 2
    local file="$WORK/cap.pcap" log="$WORK/cap.log" times="$WORK/cap.time"
    rm -f "$file" "$log"
    python3 "$WORK/receiver.py" "$PORT" >"$WORK/recv.out" &
    local recv=$!
    PIDS+=("$recv")
    wait_line "$WORK/recv.out" ready
    /usr/bin/time -o "$times" -f "%U %S %M" "$@" >/dev/null 2>"$log" &
    local cap=$!
    PIDS+=("$cap")
    wait_line "$log" "listening on"
    python3 "$WORK/sender.py" "$size" "$PORT"
    wait "$recv"
    sleep 0.5
    # To the capturer itself: /usr/bin/time ignores SIGINT while it waits.
    pkill -INT -P "$cap"
    wait "$cap" || true
    local kept drops cpu rss
    kept="$(python3 "$WORK/payload.py" "$file" "$PORT")"
    drops="$(grep -Eo '[0-9]+ (packets )?dropped by (the )?kernel' "$log" | grep -Eo '^[0-9]+' | head -1)"
    read -r user sys rss <"$times"
    cpu="$(python3 -c "print(f'{$user + $sys:.2f}')")"
    python3 - "$name" "$size" "$kept" "${drops:-?}" "$cpu" "$rss" "$(stat -c %s "$file")" <<'EOF'
import sys
name, size, kept, drops, cpu, rss, fsize = sys.argv[1:]
size, kept = int(size), int(kept)
print(f"| {name} | {size >> 20} MiB | {kept / size * 100:.1f}% | {drops} | {cpu} | "
      f"{int(rss) / 1024:.0f} | {int(fsize) / 2**20:.0f} |")
EOF
}

say "tcplab $REV"
echo "### capture --write during a bulk transfer on lo"
echo
echo "| capturer | sent | payload in the file | kernel drops | CPU s | peak RSS MiB | file MiB |"
echo "| --- | --: | --: | --: | --: | --: | --: |"
for mib in $SIZES_MIB; do
    size=$((mib << 20))
    one_capture "tcplab capture" "$size" "$BIN" capture --port "$PORT" --write "$WORK/cap.pcap"
    one_capture "tcpdump (defaults)" "$size" tcpdump -i lo -w "$WORK/cap.pcap" "tcp port $PORT"
    one_capture "tcpdump -B 65536" "$size" tcpdump -i lo -B 65536 -w "$WORK/cap.pcap" "tcp port $PORT"
done

echo
echo "### trace --file through the echo server"
echo
echo "| data | frames | kernel drops | every byte both ways | wall s |"
echo "| --: | --: | --: | --- | --: |"
for mib in $TRACE_MIB; do
    head -c "$((mib << 20))" /dev/urandom >"$WORK/data.bin"
    start="$(date +%s.%N)"
    "$BIN" trace --file "$WORK/data.bin" --format json >"$WORK/trace.json"
    end="$(date +%s.%N)"
    python3 - "$WORK/trace.json" "$((mib << 20))" "$start" "$end" "$mib" <<'EOF'
import json, sys
path, size, start, end, mib = sys.argv[1:]
d = json.load(open(path))
client = d["connection"]["client"]["port"]
# Each direction's payload as the union of its (seq, seq + len) ranges.
def covered(from_client):
    ranges = sorted((p["seq"], p["seq"] + p["payload_len"]) for p in d["packets"]
                    if (p["sport"] == client) == from_client and p["payload_len"] > 0)
    total, top = 0, 0
    for lo, hi in ranges:
        lo = max(lo, top)
        if hi > lo:
            total, top = total + hi - lo, hi
    return total
every = covered(True) == int(size) and covered(False) == int(size)
print(f"| {mib} MiB | {len(d['packets'])} | {d['capture']['dropped']} | "
      f"{'yes' if every else 'NO'} | {float(end) - float(start):.2f} |")
EOF
done
