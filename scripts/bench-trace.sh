#!/usr/bin/env bash
# Benchmarks `tcplab trace --send hello` against two shell recipes that capture
# the same loopback echo exchange with tcpdump:
#   tcplab   - the binary, 20 runs, each checked for a complete capture;
#   careful  - tcpdump + python3 echo server + python3 client, every step
#              waits for a readiness signal instead of a fixed sleep;
#   usual    - the same with fixed `sleep 1`s between steps (~3 s a run).
# Prints one table: runs, median/min/max wall time, complete runs, and each
# recipe's median relative to tcplab's.
#
# Usage: bash scripts/bench-trace.sh   (as root: live capture needs CAP_NET_RAW)
# Env:   TCPLAB_RUNS (20), CAREFUL_RUNS (20), USUAL_RUNS (3).
# All traffic stays on 127.0.0.1 (interface lo).
set -euo pipefail

# Capturing on lo needs CAP_NET_RAW; rather than half-run, skip (77 = "skipped"
# for test harnesses).
if [[ ${EUID} -ne 0 ]]; then
    echo "bench-trace.sh: must run as root (live capture on lo needs CAP_NET_RAW)" >&2
    exit 77
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."

TCPLAB_RUNS=${TCPLAB_RUNS:-20}
CAREFUL_RUNS=${CAREFUL_RUNS:-20}
USUAL_RUNS=${USUAL_RUNS:-3}
EXPECTED_PACKETS=10 # SYN, SYN-ACK, ACK, data, ACK, echo, ACK, FIN, FIN, ACK

for tool in cargo python3 tcpdump ss; do
    command -v "$tool" >/dev/null || { echo "bench-trace.sh: $tool not found" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/bench-trace.XXXXXX)

# Ends this shell's own background jobs that are still running (tcpdump, the
# python server). `jobs -pr` lists only our running children, so a PID that
# has since been reused by another process is never signalled.
end_jobs() {
    local pid
    for pid in $(jobs -pr); do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
cleanup() {
    end_jobs
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # run the EXIT trap on Ctrl-C too

# Wall clock in microseconds from bash's own EPOCHREALTIME (bash >= 5): unlike
# `date +%s%N` it forks nothing, so no process start lands inside the timing.
# Use it as ${EPOCHREALTIME//[!0-9]/} (strips the locale's decimal point).
if [[ -z ${EPOCHREALTIME:-} ]]; then
    echo "bench-trace.sh: needs bash >= 5 (EPOCHREALTIME)" >&2
    exit 1
fi

# Polls a command (every 5 ms) until it succeeds or `timeout_ms` passes.
# The 5 ms is a polling interval, not a guess at how long something takes.
wait_until() {
    local timeout_ms=$1
    shift
    local deadline=$((${EPOCHREALTIME//[!0-9]/} + timeout_ms * 1000))
    until "$@"; do
        ((${EPOCHREALTIME//[!0-9]/} < deadline)) || return 1
        sleep 0.005
    done
}

# A random high port per run, so a run never meets the previous run's
# TIME_WAIT sockets or packets. Taken above the kernel's ephemeral range
# (ip_local_port_range, 32768-60999 here) when there is room: inside it, a
# client socket of another program may hold the port and the server's bind
# fails with EADDRINUSE (seen once with 40000 + RANDOM). Ports something
# already listens on are skipped.
read -r _ EPHEMERAL_HI </proc/sys/net/ipv4/ip_local_port_range
if ((EPHEMERAL_HI <= 64000)); then
    PORT_LO=$((EPHEMERAL_HI + 1)) PORT_N=$((65535 - EPHEMERAL_HI))
else
    PORT_LO=40000 PORT_N=25000
fi
random_port() {
    local p
    while :; do
        p=$((PORT_LO + RANDOM % PORT_N))
        port_listening "$p" || break
    done
    echo "$p"
}

stderr_has_listening() { grep -q "listening on" "$1" 2>/dev/null; }
port_listening() { [[ -n "$(ss -Htln "sport = :$1")" ]]; }
# The server is listening on port $1, or process $2 is gone (failed to bind).
server_up_or_gone() { port_listening "$1" || ! kill -0 "$2" 2>/dev/null; }
pcap_count() { tcpdump -r "$1" -nn 2>/dev/null | wc -l; }
pcap_has_all() { (($(pcap_count "$1") >= EXPECTED_PACKETS)); }

# The real interpreter, run with -I -S: `python3` here may be a pyenv shim
# (a shell script) and site imports add more; together they cost 100-300 ms
# per start on this machine, which the careful recipe should not pay.
PY=$(python3 -c 'import sys; print(sys.executable)')
PYFAST=("$PY" -I -S)

# Echo server: accepts one connection, echoes one read, waits for the
# client's FIN, then closes (so the client always closes first, as in tcplab).
# Timeouts only so that a broken run fails instead of hanging.
SERVER_PY='
import socket, sys
socket.setdefaulttimeout(10)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
c, _ = s.accept()
c.sendall(c.recv(65536))
while c.recv(65536):
    pass
c.close()
'
# Client: sends "hello", reads the 5-byte echo, closes; exit 1 on a bad echo.
CLIENT_PY='
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
c.sendall(b"hello")
got = b""
while len(got) < 5:
    chunk = c.recv(65536)
    if not chunk:
        break
    got += chunk
c.close()
sys.exit(0 if got == b"hello" else 1)
'

RESULTS=$TMP/results # one line per run: recipe microseconds complete(0/1)

# Other work on this 2-core machine (builds, tests) skews the numbers: show it.
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "building the release binary..." >&2
cargo build --release -q
TCPLAB=./target/release/tcplab
# Which source was measured (numbers from a dirty tree are not those of HEAD).
echo "source: $(git describe --always --dirty 2>/dev/null || echo unknown)" >&2

# Checks one tcplab JSON report; prints the reason when it is incomplete.
CHECK_PY=$(cat <<'PY'
import json, sys
exp = int(sys.argv[2])
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print(f"unreadable JSON: {e}")
    sys.exit(1)
p = d.get("packets", [])
why = []
if len(p) != exp:
    why.append(f"{len(p)} packets, expected {exp}")
if p and p[0].get("flags") != ["SYN"]:
    why.append(f"first packet flags {p[0].get('flags')}")
if p and p[-1].get("flags") != ["ACK"]:
    why.append(f"last packet flags {p[-1].get('flags')}")
pay = sum(x.get("payload_len") or 0 for x in p)
if pay != 10:
    why.append(f"payload {pay} bytes, expected 10")
dropped = d.get("capture", {}).get("dropped")
if dropped != 0:
    why.append(f"capture.dropped {dropped}")
if d.get("warning"):
    why.append(f"warning: {d['warning']}")
if why:
    print("; ".join(why))
    for x in p:
        print(f"  #{x.get('frame')} {x.get('sport')}->{x.get('dport')} {x.get('flags')}"
              f" len {x.get('payload_len')} ts {x.get('ts')}")
    sys.exit(1)
PY
)

# --- 1. tcplab ---------------------------------------------------------------
# Wall time of the whole process (start to exit), clock read just before and
# after it; the JSON check after it is not timed.
echo "tcplab: $TCPLAB_RUNS runs..." >&2
for ((i = 1; i <= TCPLAB_RUNS; i++)); do
    out=$TMP/tcplab.$i.json
    t0=${EPOCHREALTIME//[!0-9]/}
    rc=0
    "$TCPLAB" trace --send hello --format json >"$out" 2>"$TMP/tcplab.$i.err" || rc=$?
    t1=${EPOCHREALTIME//[!0-9]/}
    ok=1
    if ((rc != 0)); then
        ok=0
        echo "tcplab run $i: exit $rc: $(head -c 500 "$TMP/tcplab.$i.err")" >&2
    elif ! why=$("$PY" -c "$CHECK_PY" "$out" "$EXPECTED_PACKETS"); then
        ok=0
        echo "tcplab run $i incomplete: $why" >&2
    fi
    echo "tcplab $((t1 - t0)) $ok" >>"$RESULTS"
done

# --- 2. careful shell recipe ----------------------------------------------------
# Each step waits for a signal that the previous one is ready:
#  - tcpdump prints "listening on" after its filter is set (capture is live);
#  - `ss` shows the server's listening socket (no probe connection, which would
#    itself be captured and consume the server's single accept);
#  - the client exits after it has read the echo and closed; the server exits
#    after the client's FIN, once it has sent its own FIN;
#  - tcpdump is then stopped (SIGINT) only once its file holds the
#    EXPECTED_PACKETS packets, or after 2 s. -U flushes every packet to the
#    file so it can be polled. This wait relies on knowing the expected count.
#    When both programs have exited, every packet has been sent, but nothing
#    says tcpdump has read them from its ring yet (SIGINT right away lost
#    nothing in 10 trial runs here, which shows the race is narrow, not absent).
# Timed: from starting tcpdump to tcpdump's exit (file complete). The final
# packet count is verification, not timed.
careful_run() {
    local port=$1 dir=$2
    local pcap=$dir/c.pcap err=$dir/c.err
    local tpid spid rc=0
    tcpdump -i lo -nn --immediate-mode -U -w "$pcap" "tcp port $port" 2>"$err" &
    tpid=$!
    if ! wait_until 5000 stderr_has_listening "$err"; then
        echo "careful: tcpdump not listening after 5 s" >&2
        end_jobs
        return 1
    fi
    "${PYFAST[@]}" -c "$SERVER_PY" "$port" &
    spid=$!
    if ! wait_until 5000 server_up_or_gone "$port" "$spid" || ! port_listening "$port"; then
        echo "careful: server not listening on $port" >&2
        end_jobs
        return 1
    fi
    # A failed client may leave the server waiting in accept(): end it.
    "${PYFAST[@]}" -c "$CLIENT_PY" "$port" || { rc=$?; kill "$spid" 2>/dev/null || true; }
    wait "$spid" || rc=$?
    wait_until 2000 pcap_has_all "$pcap" || true # the count below tells if it fell short
    kill -INT "$tpid"
    wait "$tpid" || rc=$?
    return "$rc"
}

echo "careful recipe: $CAREFUL_RUNS runs..." >&2
for ((i = 1; i <= CAREFUL_RUNS; i++)); do
    dir=$TMP/careful.$i
    mkdir "$dir"
    port=$(random_port)
    t0=${EPOCHREALTIME//[!0-9]/}
    rc=0
    careful_run "$port" "$dir" || rc=$?
    t1=${EPOCHREALTIME//[!0-9]/}
    n=$(pcap_count "$dir/c.pcap")
    drops=$(grep -o '[0-9]* packets dropped by kernel' "$dir/c.err" | cut -d' ' -f1 || true)
    ok=0
    if ((rc == 0)) && ((n == EXPECTED_PACKETS)) && [[ "$drops" == 0 ]]; then
        ok=1
    else
        echo "careful run $i (port $port) incomplete: exit $rc, $n packets, dropped '${drops}'" >&2
    fi
    echo "careful $((t1 - t0)) $ok" >>"$RESULTS"
done

# --- 3. usual shell recipe -----------------------------------------------------
# What one usually types: plain tcpdump (no --immediate-mode, no -U) and a
# fixed `sleep 1` after each step, hoping each is long enough. ~3 s per run,
# so only USUAL_RUNS (3) runs.
usual_run() {
    local port=$1 dir=$2
    local pcap=$dir/u.pcap err=$dir/u.err
    local tpid spid rc=0
    tcpdump -i lo -nn -w "$pcap" "tcp port $port" 2>"$err" &
    tpid=$!
    sleep 1
    "${PYFAST[@]}" -c "$SERVER_PY" "$port" &
    spid=$!
    sleep 1
    "${PYFAST[@]}" -c "$CLIENT_PY" "$port" || { rc=$?; kill "$spid" 2>/dev/null || true; }
    sleep 1
    kill -INT "$tpid"
    wait "$tpid" || rc=$?
    wait "$spid" || rc=$?
    return "$rc"
}

echo "usual recipe: $USUAL_RUNS runs (fixed sleeps, ~3 s each)..." >&2
for ((i = 1; i <= USUAL_RUNS; i++)); do
    dir=$TMP/usual.$i
    mkdir "$dir"
    port=$(random_port)
    t0=${EPOCHREALTIME//[!0-9]/}
    rc=0
    usual_run "$port" "$dir" || rc=$?
    t1=${EPOCHREALTIME//[!0-9]/}
    n=$(pcap_count "$dir/u.pcap")
    drops=$(grep -o '[0-9]* packets dropped by kernel' "$dir/u.err" | cut -d' ' -f1 || true)
    ok=0
    if ((rc == 0)) && ((n == EXPECTED_PACKETS)) && [[ "$drops" == 0 ]]; then
        ok=1
    else
        echo "usual run $i (port $port) incomplete: exit $rc, $n packets, dropped '${drops}'" >&2
    fi
    echo "usual $((t1 - t0)) $ok" >>"$RESULTS"
done

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# --- table ----------------------------------------------------------------------
python3 - "$RESULTS" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, us, ok = line.split()
    rows.setdefault(name, []).append((int(us) / 1000, ok == "1"))
labels = {
    "tcplab": "tcplab trace --send hello",
    "careful": "tcpdump + readiness checks",
    "usual": "tcpdump + sleep 1 x3",
}
base = statistics.median(ms for ms, _ in rows["tcplab"])
print(f"{'recipe':<28} {'runs':>4} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'complete':>9} {'vs tcplab':>10}")
for name in ("tcplab", "careful", "usual"):
    r = rows.get(name, [])
    if not r:
        continue
    ms = [m for m, _ in r]
    med = statistics.median(ms)
    done = sum(ok for _, ok in r)
    print(f"{labels[name]:<28} {len(r):>4} {med:>10.1f} {min(ms):>8.1f} {max(ms):>8.1f} "
          f"{f'{done}/{len(r)}':>9} {med / base:>9.1f}x")
if "usual" in rows:
    print(f"(usual: only {len(rows['usual'])} runs, each ~3 s of fixed sleeps)")
EOF
