#!/usr/bin/env bash
# bench-html.sh — how big `replay --html` pages are and how fast they open,
# for a 1,000-, 10,000- and 100,000-frame capture of a real bulk transfer.
#
# 1. The capture (made once into $BENCH_DIR, then reused): tcpdump -s 200 on
#    lo while python3 sends $BYTES bytes over one loopback connection whose
#    MSS is held to 1448 (TCP_MAXSEG), so the segments are the size an
#    Ethernet path gives and 100,000 frames take ~70 MB, not 6 GB. The lo
#    is that of a network namespace made here and deleted on exit (its
#    offloads turned off; the host's lo is not touched). editcap cuts the
#    1k, 10k and 100k files from it.
# 2. For each: `tcplab replay F --html P` timed (wall s, peak RSS) beside
#    `tshark -r F -T pdml` to /dev/null (the other way to get every field
#    of every frame), the page's size, and the page opened in headless
#    Chromium by tests/browser/page_probe.js: load time (navigation to the
#    load event, the data parsed and the page drawn), then a click on the
#    middle frame, which must select it and light its bytes, then how
#    smoothly it scrolls and steps (the gaps between drawn frames while the
#    timeline scrolls, while it jumps about, and per → key).
#
# Usage: sudo bash scripts/bench-html.sh      (root: a namespace, tcpdump)
# Environment: BENCH_DIR (/tmp/tcplab-bench-html), BYTES (140000000),
#    TCPLAB_BIN (use this binary, do not build).
# Needs: iproute2, ethtool, tcpdump, editcap + capinfos (wireshark-common), tshark, python3,
#    node, chromium, /usr/bin/time.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-/tmp/tcplab-bench-html}"
BYTES="${BYTES:-140000000}"
mkdir -p "$BENCH_DIR"
die() { echo "bench-html: $*" >&2; exit 1; }
for tool in ip ethtool tcpdump editcap capinfos tshark python3 node chromium /usr/bin/time; do
    command -v "$tool" >/dev/null || die "needs $tool (bash scripts/setup.sh)"
done

if [[ -n "${TCPLAB_BIN:-}" ]]; then
    bin="$TCPLAB_BIN"
else
    (cd "$here" && cargo build --release --quiet)
    bin="$here/target/release/tcplab"
fi
cp "$bin" "$BENCH_DIR/tcplab"
bin="$BENCH_DIR/tcplab"
echo "tcplab $(cd "$here" && git describe --always --dirty 2>/dev/null || echo '?')"

whole="$BENCH_DIR/bulk-lo.pcap"
if [[ ! -s "$whole" ]]; then
    # The loopback of a namespace made here (and deleted on exit), with
    # segmentation offloads off: the host's lo hands tcpdump 64 KB
    # super-segments, this one the 1448-byte segments TCP_MAXSEG asks for.
    ns="tcplab-bench-html-$$"
    ip netns add "$ns"
    trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
    ip -n "$ns" link set lo up
    ip netns exec "$ns" ethtool -K lo tso off gso off gro off >/dev/null
    port=5299
    ip netns exec "$ns" tcpdump -i lo -s 200 -B 65536 -U -w "$whole" "tcp port $port" \
        2>"$BENCH_DIR/tcpdump.err" &
    dump=$!
    until grep -q "listening on" "$BENCH_DIR/tcpdump.err" 2>/dev/null; do sleep 0.1; done
    ip netns exec "$ns" python3 - "$port" "$BYTES" <<'EOF'
import socket, sys, threading
port, total = int(sys.argv[1]), int(sys.argv[2])
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(1)
def sink():
    c, _ = srv.accept()
    buf = bytearray(1 << 20)
    while c.recv_into(buf):
        pass
    c.close()
t = threading.Thread(target=sink); t.start()
s = socket.socket()
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1448)
s.connect(("127.0.0.1", port))
chunk = bytes(range(256)) * 4096
sent = 0
while sent < total:
    s.sendall(chunk); sent += len(chunk)
s.close(); t.join(); srv.close()
EOF
    sleep 0.5
    kill -INT "$dump"; wait "$dump" || true
    ip netns del "$ns"
    trap - EXIT
    grep -h "dropped by kernel" "$BENCH_DIR/tcpdump.err" || true
fi
have=$(capinfos -c -M "$whole" | awk '/Number of packets/ {print $NF}')
echo "capture: $whole, $have frames"

printf '\n| frames | tcplab --html s | RSS MiB | tshark pdml s | RSS MiB | time ratio | RSS ratio | page MiB | load ms | scroll ms p50/p95/max | jumps ms p50/p95/max | → key ms p50/max | mid-frame click |\n'
printf '|-------:|----:|----:|----:|----:|----:|----:|----:|----:|:----|:----|:----|:----|\n'
for n in 1000 10000 100000; do
    (( n <= have )) || { echo "| $n | (the capture has $have frames) |"; continue; }
    cut="$BENCH_DIR/cut-$n.pcap"
    [[ -s "$cut" ]] || editcap -F pcap -r "$whole" "$cut" "1-$n"
    page="$BENCH_DIR/page-$n.html"
    read -r ts trss < <(/usr/bin/time -f "%e %M" "$bin" replay "$cut" --html "$page" 2>&1 >/dev/null | tail -1)
    read -r tw wrss < <(/usr/bin/time -f "%e %M" tshark -r "$cut" -T pdml 2>&1 >/dev/null | tail -1)
    size=$(stat -c %s "$page")
    mid=$(( n / 2 ))
    # Past the frames with fields (2,000 a part) the probe only clicks.
    field=tcp.srcport; (( mid <= 2000 )) || field=-
    probe=$(PROBE_SMOOTH=1 node "$here/tests/browser/page_probe.js" "$page" "" "$mid" "$field" 47)
    load=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["loadMs"])' "$probe")
    smooth=$(python3 -c 'import json,sys; s=json.loads(sys.argv[1])["smooth"]; t=lambda k: "/".join(str(s[k][q]) for q in ("p50","p95","max")); print(t("scroll"), t("jumps"), str(s["key"]["p50"])+"/"+str(s["key"]["max"]))' "$probe")
    read -r scroll jumps keys <<<"$smooth"
    picked=$(python3 -c 'import json,sys; v=json.loads(sys.argv[1]); print("ok" if v["clicked"]["row"]==sys.argv[2] and v.get("fieldHover",{"bytes":[34,35]})["bytes"]==[34,35] else "NOT ok: "+json.dumps(v["clicked"]))' "$probe" "$mid")
    ratio=$(python3 -c "print(f'{$ts/$tw:.2f}' if $tw > 0 else '-')")
    mratio=$(python3 -c "print(f'{$trss/$wrss:.2f}')")
    printf '| %d | %s | %d | %s | %d | %s | %s | %.1f | %s | %s | %s | %s | %s |\n' \
        "$n" "$ts" $(( trss / 1024 )) "$tw" $(( wrss / 1024 )) "$ratio" "$mratio" \
        "$(python3 -c "print($size/1048576)")" "$load" "$scroll" "$jumps" "$keys" "$picked"
done
