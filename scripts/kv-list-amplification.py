#!/usr/bin/env python3
"""kv `list` amplification: CLIENTS clients each send `list` (5 bytes) to a
`tcplab serve kv` whose store holds about 1 MiB, and never read the reply.
Prints the server's RSS before, at the peak of each round, and after the
clients left, for ROUNDS rounds. Loopback only; the server is stopped at the end.

    python3 scripts/kv-list-amplification.py [TCPLAB_BINARY] [CLIENTS] [ROUNDS]
"""
import functools, json, os, socket, subprocess, sys, tempfile, time

print = functools.partial(print, flush=True)

binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/tcplab"
clients = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 4

def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0

with tempfile.TemporaryDirectory() as d:
    data = os.path.join(d, "kv.json")
    # 1,000 keys of 1,000-byte values: about 1 MiB of keys and values.
    json.dump({f"key{i:04}": "v" * 1000 for i in range(1000)}, open(data, "w"))
    server = subprocess.Popen(
        [binary, "serve", "kv", "--port", "0", "--data", data, "--color", "never",
         "--max-connections", str(clients + 10)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        first = server.stdout.readline()
        port = int(first.split("127.0.0.1:")[1].split()[0].strip(",;)"))
        time.sleep(0.3)
        print(f"binary {binary}; {clients} clients per round; store {os.path.getsize(data)} bytes")
        print(f"rss before: {rss_mib(server.pid):.1f} MiB")
        for r in range(1, rounds + 1):
            socks = []
            for _ in range(clients):
                s = socket.create_connection(("127.0.0.1", port))
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.sendall(b"list\n")
                socks.append(s)
            time.sleep(2.0)
            peak = rss_mib(server.pid)
            for s in socks:
                s.close()
            time.sleep(2.0)
            print(f"round {r}: rss with {clients} clients {peak:.1f} MiB, after they left {rss_mib(server.pid):.1f} MiB")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
