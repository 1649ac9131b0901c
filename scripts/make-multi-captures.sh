#!/usr/bin/env bash
# make-multi-captures.sh: two more fixture captures of real loopback traffic,
# made with tcpdump and small python3 peers (run as root):
#   captures/refused.pcap      a connect() to a closed port: SYN, RST-ACK
#   captures/interleaved.pcap  three connections open at once to one echo
#                              server, their writes interleaved, then a
#                              fourth that reuses the first one's client port
#                              (a new stream with the same 4-tuple)
# Then run scripts/tshark-fixtures.sh and commit both.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/captures"
PORT="${PORT:-47101}"
CLOSED="${CLOSED:-47109}"
[ "$(id -u)" -eq 0 ] || { echo "make-multi-captures: needs root for tcpdump" >&2; exit 77; }
WORK="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# capture FILE FILTER COMMAND...: tcpdump on lo around one command. Waits for
# tcpdump's "listening on" before the command, and for its packet count to
# settle after, so no packet is missed.
capture() {
    local file="$1" filter="$2"
    shift 2
    tcpdump -i lo -nn -U --immediate-mode -w "$WORK/cap.pcap" "$filter" 2>"$WORK/tcpdump.err" &
    local tp=$!
    pids+=("$tp")
    for _ in $(seq 100); do grep -q "listening on" "$WORK/tcpdump.err" && break; sleep 0.05; done
    "$@"
    sleep 0.3 # the last ACK crosses lo within microseconds; this is margin
    kill -TERM "$tp"
    wait "$tp" || true
    mv "$WORK/cap.pcap" "$OUT/$file"
    echo "made $file ($(tcpdump -r "$OUT/$file" 2>/dev/null | wc -l) frames)"
}

# The refused connection: nothing listens on $CLOSED.
capture refused.pcap "tcp port $CLOSED" python3 -I -S -c "
import socket
s = socket.socket()
try:
    s.connect(('127.0.0.1', $CLOSED))
except ConnectionRefusedError as e:
    print('refused:', e)
"

# Interleaved streams: an echo server, three clients writing in turn, then a
# fourth connection from the first client's port once it is closed.
cat >"$WORK/interleave.py" <<PY
import socket, threading
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', $PORT))
srv.listen(8)
def serve():
    while True:
        c, _ = srv.accept()
        def echo(c=c):
            while True:
                d = c.recv(4096)
                if not d:
                    break
                c.sendall(d)
            c.close()
        threading.Thread(target=echo, daemon=True).start()
threading.Thread(target=serve, daemon=True).start()
clients = []
for i in range(3):
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c.connect(('127.0.0.1', $PORT))
    clients.append(c)
for round in range(3):
    for i, c in enumerate(clients):
        msg = f'client {i} round {round}\n'.encode()
        c.sendall(msg)
        got = b''
        while len(got) < len(msg):
            got += c.recv(4096)
first_port = clients[0].getsockname()[1]
for c in clients:
    c.close()
import time; time.sleep(0.1)
# Port reuse: the same client port again, a new connection and a new stream.
c = socket.socket()
c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
c.bind(('127.0.0.1', first_port))
c.connect(('127.0.0.1', $PORT))
c.sendall(b'again\n')
c.recv(4096)
c.close()
time.sleep(0.1)
PY
capture interleaved.pcap "tcp port $PORT" python3 -I -S "$WORK/interleave.py"
