#!/usr/bin/env bash
# make-vxlan-capture.sh — (re)make captures/encap/vxlan-kernel.pcap: one real
# kernel TCP exchange carried by the kernel's own VXLAN, captured on the
# underlay with tcpdump. (The other files of captures/encap/ are re-wrapped
# by scripts/make-encap-captures.py; this kernel builds VXLAN and veth but
# not 802.1Q, GRE, Geneve, IPIP, sit or MPLS routing, so VXLAN is the one
# tunnel it can make for real.)
#
# Topology (two network namespaces made here and deleted on exit, even when
# the script is killed with INT, TERM or HUP; both veth ends are created
# inside them, so nothing touches the host's interfaces, routes or
# addresses, and no packet can leave the two namespaces):
#
#   ns A (client)                              ns B (server)
#   a0 192.0.2.1/24  ---------veth---------  b0 192.0.2.2/24      underlay
#   00:00:5e:00:53:01                        00:00:5e:00:53:02
#   vx0 198.51.100.1/24  ==VXLAN VNI 42==    vx0 198.51.100.2/24  overlay
#   00:00:5e:00:53:11    UDP port 4789       00:00:5e:00:53:12
#
# * Addresses are documentation ones (RFC 5737; MACs from RFC 7042's
#   00:00:5e:00:53:xx), fixed, so every run has the same ones.
#   Permanent neighbour entries on both layers: no ARP at all.
#   IPv6 is off in both namespaces (no router solicitations, no DAD).
# * Offloads (checksums, TSO, GSO, GRO) are off on every device, so the
#   capture holds the real checksums and real segment sizes.
# * B runs a Python server on 198.51.100.2:$PORT that echoes what it reads
#   and closes at EOF; A's Python client sends "hello", reads the echo,
#   shuts its side down and reads to EOF. tcpdump on A's a0 (the underlay)
#   writes every VXLAN packet (filter `udp port 4789`), nanosecond pcap.
# * Reproducible in WHAT it produces (one exchange, the same addresses and
#   flags), not in bytes: ports, sequence numbers, the UDP source port (a
#   hash of the inner flow) and timestamps change each run. The file is
#   checked with tshark: every frame must decode as
#   eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:tcp (data on the two
#   payload segments), from SYN to the last ACK; a run that fails is
#   retried up to $TRIES times.
#
# Needs: root, iproute2 (ip), ethtool (optional: offloads), tcpdump, tshark,
# python3. Usage: scripts/make-vxlan-capture.sh   PORT=5001 by default.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/captures/encap/vxlan-kernel.pcap"
PORT="${PORT:-5001}"
TRIES=5
NS_A="tcplab-vxlan-a-$$"
NS_B="tcplab-vxlan-b-$$"

for tool in ip tcpdump tshark python3; do
    command -v "$tool" >/dev/null || { echo "make-vxlan-capture: $tool is missing" >&2; exit 1; }
done
if [ "$(id -u)" -ne 0 ]; then
    echo "make-vxlan-capture: network namespaces and capture need root" >&2
    exit 1
fi

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    # Only the processes started here, by their ids; then the namespaces
    # (deleting one removes its devices, the veth pair with it).
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    ip netns del "$NS_A" 2>/dev/null || true
    ip netns del "$NS_B" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

no_offloads() {
    command -v ethtool >/dev/null || return 0
    ip netns exec "$1" ethtool -K "$2" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
}

ip netns add "$NS_A"
ip netns add "$NS_B"
for ns in "$NS_A" "$NS_B"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
done
ip link add a0 netns "$NS_A" address 00:00:5e:00:53:01 type veth \
    peer name b0 netns "$NS_B" address 00:00:5e:00:53:02
ip -n "$NS_A" addr add 192.0.2.1/24 dev a0
ip -n "$NS_B" addr add 192.0.2.2/24 dev b0
ip -n "$NS_A" link set a0 up
ip -n "$NS_B" link set b0 up
no_offloads "$NS_A" a0
no_offloads "$NS_B" b0
ip -n "$NS_A" neigh add 192.0.2.2 lladdr 00:00:5e:00:53:02 dev a0 nud permanent
ip -n "$NS_B" neigh add 192.0.2.1 lladdr 00:00:5e:00:53:01 dev b0 nud permanent

# The kernel's VXLAN; `ip link add type vxlan` fails with "Unknown device
# type" on a kernel built without it.
if ! ip -n "$NS_A" link add vx0 address 00:00:5e:00:53:11 type vxlan id 42 \
    local 192.0.2.1 remote 192.0.2.2 dstport 4789 dev a0 2>"$WORK/vxlan.err"; then
    cat "$WORK/vxlan.err" >&2
    echo "make-vxlan-capture: this kernel cannot make a VXLAN device" >&2
    exit 1
fi
ip -n "$NS_B" link add vx0 address 00:00:5e:00:53:12 type vxlan id 42 \
    local 192.0.2.2 remote 192.0.2.1 dstport 4789 dev b0
ip -n "$NS_A" addr add 198.51.100.1/24 dev vx0
ip -n "$NS_B" addr add 198.51.100.2/24 dev vx0
ip -n "$NS_A" link set vx0 up
ip -n "$NS_B" link set vx0 up
no_offloads "$NS_A" vx0
no_offloads "$NS_B" vx0
ip -n "$NS_A" neigh add 198.51.100.2 lladdr 00:00:5e:00:53:12 dev vx0 nud permanent
ip -n "$NS_B" neigh add 198.51.100.1 lladdr 00:00:5e:00:53:11 dev vx0 nud permanent

cat >"$WORK/server.py" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.2", int(sys.argv[1])))
s.listen(1)
print("listening", flush=True)
while True:
    c, _ = s.accept()
    while True:
        data = c.recv(4096)
        if not data:
            break
        c.sendall(data)
    c.close()
PY
cat >"$WORK/client.py" <<'PY'
import socket, sys
c = socket.create_connection(("198.51.100.2", int(sys.argv[1])), timeout=5)
c.sendall(b"hello")
got = b""
while len(got) < 5:
    got += c.recv(4096)
assert got == b"hello", got
c.shutdown(socket.SHUT_WR)
while c.recv(4096):
    pass
c.close()
PY

# Started without a function or subshell between, so that $! is the
# process itself (ip netns exec execs it) and the signals reach it.
ip netns exec "$NS_B" python3 "$WORK/server.py" "$PORT" >"$WORK/server.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q listening "$WORK/server.out" && break; sleep 0.05; done
grep -q listening "$WORK/server.out" || { cat "$WORK/server.out" >&2; exit 1; }

# check FILE: every frame VXLAN with the inner TCP decoded, SYN first, the
# two 5-byte payloads, a FIN each way, and a last ACK (without FIN).
check() {
    python3 - "$1" <<'PY'
import subprocess, sys
rows = [l.split("\t") for l in subprocess.run(
    ["tshark", "-r", sys.argv[1], "-T", "fields", "-e", "frame.protocols",
     "-e", "tcp.flags", "-e", "tcp.len"],
    capture_output=True, text=True, check=True).stdout.splitlines()]
chain = "eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:tcp"
ok = (len(rows) >= 8
      and all(r[0] in (chain, chain + ":data") for r in rows)
      and rows[0][1] == "0x0002" and rows[1][1] == "0x0012"
      and [r[2] for r in rows].count("5") == 2
      and sum(int(r[1], 16) & 1 for r in rows) == 2
      and rows[-1][1] == "0x0010")
for r in rows:
    print("  " + "  ".join(r), file=sys.stderr)
sys.exit(0 if ok else 1)
PY
}

for try in $(seq "$TRIES"); do
    : >"$WORK/tcpdump.err"
    rm -f "$WORK/vxlan.pcap"
    ip netns exec "$NS_A" tcpdump -Z root -i a0 --immediate-mode -U --time-stamp-precision=nano \
        -w "$WORK/vxlan.pcap" "udp port 4789" 2>"$WORK/tcpdump.err" &
    TCPDUMP=$!
    PIDS+=("$TCPDUMP")
    for _ in $(seq 100); do
        grep -q "listening on" "$WORK/tcpdump.err" && break
        kill -0 "$TCPDUMP" 2>/dev/null || break
        sleep 0.05
    done
    grep -q "listening on" "$WORK/tcpdump.err" || { cat "$WORK/tcpdump.err" >&2; exit 1; }
    ip netns exec "$NS_A" python3 "$WORK/client.py" "$PORT"
    sleep 0.3  # the last ACK reaches tcpdump's file (-U writes each packet)
    kill -INT "$TCPDUMP"
    wait "$TCPDUMP" || true
    grep -E "packets (captured|received)" "$WORK/tcpdump.err" | sed "s/^/  tcpdump: /"
    if check "$WORK/vxlan.pcap"; then
        mkdir -p "$(dirname "$OUT")"
        cp "$WORK/vxlan.pcap" "$OUT"
        echo "made captures/encap/vxlan-kernel.pcap ($(stat -c %s "$OUT") bytes, try $try)"
        exit 0
    fi
    echo "make-vxlan-capture: try $try: not one whole exchange over VXLAN; retrying" >&2
done
echo "make-vxlan-capture: could not make vxlan-kernel.pcap" >&2
exit 1
