#!/usr/bin/env bash
# make-lossy-capture.sh — (re)make captures/lossy-bulk.pcap: one real kernel
# TCP bulk transfer over a path that drops, reorders and delays packets, so
# that the capture holds retransmissions, fast retransmissions, duplicate
# ACKs, out-of-order segments and SACK blocks (a fixture for comparing
# tcplab's TCP analysis with tshark's).
#
# Topology (three network namespaces made here and deleted on exit; nothing
# is sent outside them, the host's interfaces and routes are not touched):
#
#   ns A (client)                 ns M (middle)                 ns B (server)
#   a0 10.77.1.1/24 ---veth--- ma        mb ---veth--- b0 10.77.2.1/24
#   02:77:01:00:00:01     02:77:01:00:00:02  02:77:02:00:00:02  02:77:02:00:00:01
#                              \           /
#                        scripts/lossy-forwarder.py
#                        (AF_PACKET; drop, reorder, delay)
#
# * M has no IP addresses and IP forwarding stays OFF there, so M's kernel
#   neither routes nor answers anything (with forwarding off, a packet for a
#   foreign address is dropped without an ICMP error). The only way across is
#   the forwarder, which copies frames between ma and mb with new MACs. This
#   kernel has no netem, hence the user-space impairment.
# * A and B route the other /24 via a gateway address (10.77.1.2 / 10.77.2.2)
#   that nobody owns: a PERMANENT neighbour entry maps it to M's MAC, so
#   there is no ARP at all. IPv6 is disabled in all three namespaces (no
#   router solicitations, no DAD). MACs are fixed, so they are the same in
#   every run.
# * Offloads (TSO, GSO, GRO, checksum) are off on all four veths: every
#   segment is a real <= 1514-byte Ethernet frame, and the checksums in the
#   capture are the real ones (with tx checksum offload on, a veth frame
#   carries only a partial checksum, which B would reject after the
#   forwarder copied it as plain bytes).
# * B runs a Python server on port $PORT that sends $SIZE bytes, paced in
#   $CHUNK-byte writes $GAP_MS ms apart (why: see run_once), and closes;
#   A runs a client that reads to EOF and closes. The bulk data flows B -> A,
#   THROUGH the impairment, and tcpdump listens on A's a0: so the capture
#   shows the receiver's view (gaps = lost segments, out-of-order arrivals,
#   the retransmissions that fill the gaps) and the receiver's duplicate
#   ACKs with SACK blocks. Drops and swaps hit the ACKs A -> B as well.
# * SYNs are never dropped or held (see lossy-forwarder.py), so the
#   handshake is clean and gives tshark its RTT baseline (~2 x DELAY_MS).
#
# Reproducible in WHAT it produces, not in bytes: the forwarder's random
# generator is seeded, so the same frame numbers are hit in every run, but
# kernel timing decides which segments those are, and sequence numbers,
# ports and timestamps change. The result is checked with tshark (the counts
# of the analysis flags in REQUIRED below must reach their minimums); a run
# that falls short is retried, up to $TRIES times (about 2 s each; a plain,
# non-fast retransmission is the flag most often missing). The capture is
# written only when it passes.
#
# Needs: root, iproute2, ethtool, tcpdump, tshark, python3.
# Usage: scripts/make-lossy-capture.sh
#   Settings (environment): SEED=1 DROP=0.03 REORDER=0.03 DELAY_MS=5
#   SIZE=409600 CHUNK=16384 GAP_MS=20 PORT=5001 TRIES=8 OUT=captures/lossy-bulk.pcap
#   KEEP_LOGS=1 keeps the work directory (forwarder event log, tcpdump log).

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$ROOT/captures/lossy-bulk.pcap}"
FORWARDER="$ROOT/scripts/lossy-forwarder.py"
SEED="${SEED:-1}"
DROP="${DROP:-0.03}"
REORDER="${REORDER:-0.03}"
DELAY_MS="${DELAY_MS:-5}"
SIZE="${SIZE:-409600}"
CHUNK="${CHUNK:-16384}"
GAP_MS="${GAP_MS:-20}"
PORT="${PORT:-5001}"
TRIES="${TRIES:-8}"
SNAPLEN=200

say() { echo "make-lossy-capture: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
    say "needs root (network namespaces, raw sockets, live capture)"
    exit 77
fi
for tool in ip ethtool tcpdump tshark python3; do
    command -v "$tool" >/dev/null || { say "$tool is missing (Debian: iproute2 ethtool tcpdump tshark python3)"; exit 1; }
done

# Unique names, so that parallel runs and leftovers cannot collide.
NS_A="tcplab-a-$$"
NS_M="tcplab-m-$$"
NS_B="tcplab-b-$$"
MAC_A=02:77:01:00:00:01   # a0, in A
MAC_MA=02:77:01:00:00:02  # ma, in M (A's gateway)
MAC_MB=02:77:02:00:00:02  # mb, in M (B's gateway)
MAC_B=02:77:02:00:00:01   # b0, in B
IP_A=10.77.1.1
GW_A=10.77.1.2
IP_B=10.77.2.1
GW_B=10.77.2.2

WORK="$(mktemp -d)"
PIDS=()  # everything started in the background, killed by id on exit

# Ends whatever an attempt left running and deletes its namespaces (the next
# attempt reuses the names).
teardown() {
    local pid ns
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
    for ns in "$NS_A" "$NS_M" "$NS_B"; do
        if [ -e "/run/netns/$ns" ]; then
            # Anything still running inside one of OUR namespaces was started
            # by this script; end it by id so that the namespace can go.
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
    if [ "${KEEP_LOGS:-0}" = 1 ]; then say "logs kept in $WORK"; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# in_ns NS CMD...: run CMD inside NS. Not for background jobs: `in_ns ... &`
# would fork a subshell, and $! would be that subshell, not CMD. Those use
# `ip netns exec` directly (it execs CMD in place, so $! is CMD's pid).
in_ns() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }

setup_network() {
    local ns
    for ns in "$NS_A" "$NS_M" "$NS_B"; do
        ip netns add "$ns"
        in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        ip -n "$ns" link set lo up
    done
    # M must never route on its own: only the forwarder carries packets.
    in_ns "$NS_M" sysctl -qw net.ipv4.ip_forward=0

    # Each veth is created directly with its ends inside the namespaces.
    ip -n "$NS_A" link add a0 address "$MAC_A" mtu 1500 type veth \
        peer name ma address "$MAC_MA" mtu 1500 netns "$NS_M"
    ip -n "$NS_B" link add b0 address "$MAC_B" mtu 1500 type veth \
        peer name mb address "$MAC_MB" mtu 1500 netns "$NS_M"

    local dev
    for ns_dev in "$NS_A:a0" "$NS_M:ma" "$NS_M:mb" "$NS_B:b0"; do
        ns="${ns_dev%%:*}" dev="${ns_dev#*:}"
        # ("Actual changes: ..." on stdout is noise; errors still show.)
        in_ns "$ns" ethtool -K "$dev" tso off gso off gro off tx off rx off >/dev/null
        # Always "dev NAME": ip reads a bare "ma" as an abbreviation of "master".
        ip -n "$ns" link set dev "$dev" up
    done

    ip -n "$NS_A" addr add "$IP_A/24" dev a0
    ip -n "$NS_A" neigh replace "$GW_A" lladdr "$MAC_MA" dev a0 nud permanent
    ip -n "$NS_A" route add 10.77.2.0/24 via "$GW_A" dev a0
    ip -n "$NS_B" addr add "$IP_B/24" dev b0
    ip -n "$NS_B" neigh replace "$GW_B" lladdr "$MAC_MB" dev b0 nud permanent
    ip -n "$NS_B" route add 10.77.1.0/24 via "$GW_B" dev b0
}

# wait_for FILE PATTERN PID WHAT: until FILE contains PATTERN (5 s at most).
wait_for() {
    for _ in $(seq 100); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || break
        sleep 0.05
    done
    cat "$1" >&2 || true
    say "$4 did not start"
    return 1
}

# tcp_sockets NS: the sockets on port $PORT in NS that are neither listening
# nor in TIME-WAIT, i.e. connections still exchanging packets.
tcp_sockets() {
    in_ns "$1" ss -Htan "( sport = :$PORT or dport = :$PORT )" | grep -Ev '^(LISTEN|TIME-WAIT)' || true
}

# count FILE FILTER: frames matching a tshark display filter.
count() {
    tshark -r "$1" -Y "$2" 2>/dev/null | wc -l
}

# One attempt: network up, forwarder, server, capture, client, teardown.
# Unexpected errors end the script (set -e; the trap cleans up). A run that
# merely went wrong (transfer failed, tcpdump lost frames) sets TRY_OK=0 and
# returns, so that it is retried. (It is not `if run_once`: set -e does not
# apply inside a function called from an if condition.)
run_once() {
    local fwd_pid srv_pid dump_pid m_snmp m_in m_discarded m_out
    TRY_OK=0
    setup_network

    ip netns exec "$NS_M" python3 -u "$FORWARDER" --left "ma,$MAC_A" --right "mb,$MAC_B" \
        --drop "$DROP" --reorder "$REORDER" --delay-ms "$DELAY_MS" --seed "$SEED" \
        --log "$WORK/forwarder-events.log" >"$WORK/forwarder.out" 2>"$WORK/forwarder.err" &
    fwd_pid=$!
    PIDS+=("$fwd_pid")
    wait_for "$WORK/forwarder.out" "^ready" "$fwd_pid" "lossy-forwarder"

    # Server in B: send SIZE bytes (a repeating, recognisable pattern) to the
    # first client in CHUNK-byte writes, GAP_MS apart, then close. Pacing is
    # what makes tshark call some retransmissions "retransmission": tshark
    # labels a segment below the highest sequence number seen as
    # OUT-OF-ORDER when it comes less than one handshake RTT after that
    # highest segment. In an unpaced bulk stream new data follows every loss
    # at once, so nearly every retransmission lands within that window (an
    # unpaced run: 16 lost segments, 2 fast retransmissions, no other
    # retransmission). With pauses, a loss near the end of a burst is
    # repaired by a tail loss probe or an RTO after the line went quiet.
    ip netns exec "$NS_B" python3 - "$IP_B" "$PORT" "$SIZE" "$CHUNK" "$GAP_MS" >"$WORK/server.out" 2>&1 <<'PY' &
import socket, sys, time
host, port, size, chunk, gap_ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
pattern = bytes(range(32, 127)) * (size // 95 + 1)
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, port))
ls.listen(1)
print("listening", flush=True)
conn, peer = ls.accept()
for off in range(0, size, chunk):
    conn.sendall(pattern[off:min(off + chunk, size)])
    time.sleep(gap_ms / 1000)
conn.close()
print(f"sent {size} bytes to {peer[0]}:{peer[1]}", flush=True)
PY
    srv_pid=$!
    PIDS+=("$srv_pid")
    wait_for "$WORK/server.out" "^listening" "$srv_pid" "server"

    # -Z root: Debian's tcpdump otherwise drops to user tcpdump before opening
    # the -w file. -U: write each packet at once. Nanosecond timestamps like
    # the other Ethernet captures.
    ip netns exec "$NS_A" tcpdump -Z root -i a0 -s "$SNAPLEN" -U --time-stamp-precision=nano \
        -w "$WORK/try.pcap" "tcp port $PORT" 2>"$WORK/tcpdump.err" &
    dump_pid=$!
    PIDS+=("$dump_pid")
    wait_for "$WORK/tcpdump.err" "listening on" "$dump_pid" "tcpdump"

    # Client in A: read to EOF, check the byte count, close.
    if ! in_ns "$NS_A" timeout 60 python3 - "$IP_B" "$PORT" "$SIZE" >"$WORK/client.out" 2>&1 <<'PY'
import socket, sys
host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port), timeout=30)
got = 0
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    got += len(chunk)
s.close()
print(f"received {got} bytes")
sys.exit(0 if got == size else 1)
PY
    then
        cat "$WORK/client.out" >&2
        say "the transfer failed"
        return 0
    fi
    if ! wait "$srv_pid"; then
        cat "$WORK/server.out" >&2
        say "server failed"
        return 0
    fi

    # The client is done, but the teardown may still be under way (a dropped
    # FIN or last ACK is retransmitted after an RTO): wait until neither end
    # has a live connection, then let the last frames cross.
    for _ in $(seq 100); do
        [ -z "$(tcp_sockets "$NS_A")$(tcp_sockets "$NS_B")" ] && break
        sleep 0.1
    done
    sleep 0.3
    # SIGTERM, not SIGINT: a non-interactive shell starts background jobs
    # with SIGINT ignored, and tcpdump keeps it ignored.
    kill -TERM "$dump_pid"
    wait "$dump_pid" || true
    kill -TERM "$fwd_pid"
    wait "$fwd_pid" || true

    # M's own IPv4 stack must have stayed silent: frames addressed to ma/mb
    # do reach it (and are discarded: no local address, no forwarding), but
    # it must never send anything (ICMP errors, RSTs) into the path.
    # shellcheck disable=SC2016 # $1, $i are awk's
    m_snmp="$(ip netns exec "$NS_M" awk '
        $1 == "Ip:" && !seen[$1]++ { for (i = 2; i <= NF; i++) name[i] = $i; next }
        $1 == "Ip:" { for (i = 2; i <= NF; i++) ip[name[i]] = $i }
        END { print ip["InReceives"] + 0, ip["InAddrErrors"] + 0, ip["OutRequests"] + 0 }
    ' /proc/net/snmp)"
    read -r m_in m_discarded m_out <<<"$m_snmp"
    echo "  M's IPv4 stack: $m_in packets in, $m_discarded discarded as not local, $m_out sent" >&2
    if [ "$m_out" -ne 0 ]; then
        say "M's kernel sent $m_out IPv4 packets of its own"
        return 0
    fi

    sed "s/^/  /" "$WORK/client.out" "$WORK/server.out" >&2
    grep -E "packets (captured|received|dropped)" "$WORK/tcpdump.err" | sed "s/^/  tcpdump: /" >&2 || true
    sed "s/^/  /" "$WORK/forwarder.err" >&2
    if ! grep -q "^0 packets dropped by kernel" "$WORK/tcpdump.err"; then
        say "tcpdump lost frames"
        return 0
    fi
    TRY_OK=1
}

# What the fixture must contain (tshark display filter, minimum count).
# tshark marks a fast retransmission with tcp.analysis.retransmission too;
# the second line asks for at least one that is NOT fast (TLP or RTO).
REQUIRED=(
    "tcp.analysis.retransmission 3"
    "tcp.analysis.retransmission&&!tcp.analysis.fast_retransmission 1"
    "tcp.analysis.fast_retransmission 1"
    "tcp.analysis.duplicate_ack 3"
    "tcp.analysis.out_of_order 1"
    "tcp.analysis.lost_segment 1"
    "tcp.options.sack_le 3"
)

check() {
    local ok=0 filter min n
    for req in "${REQUIRED[@]}"; do
        read -r filter min <<<"$req"
        n="$(count "$1" "$filter")"
        printf '  %-66s %5d (need %d)\n' "$filter" "$n" "$min" >&2
        [ "$n" -ge "$min" ] || ok=1
    done
    return "$ok"
}

for attempt in $(seq "$TRIES"); do
    say "attempt $attempt of $TRIES (seed $SEED, drop $DROP, reorder $REORDER, delay ${DELAY_MS} ms, $SIZE bytes in $CHUNK-byte writes ${GAP_MS} ms apart)"
    run_once
    teardown
    if [ "$TRY_OK" = 1 ] && check "$WORK/try.pcap"; then
        mkdir -p "$(dirname "$OUT")"
        mv "$WORK/try.pcap" "$OUT"
        say "wrote $OUT ($(stat -c %s "$OUT") bytes, $(count "$OUT" frame) frames)"
        exit 0
    fi
done
say "no attempt produced a capture with all the required events"
exit 1
