#!/usr/bin/env python3
"""Compares tcplab replay with tshark on every TCP frame of the given captures:
stream, relative seq/ack, duplicate-ACK number, every analysis flag, the
scaled window and its scale factor, acks_frame, ack_rtt, bytes_in_flight and
initial_rtt (times as text: both print 9 decimals).
Prints one line per file that differs (count and the first difference) and a total.

Usage: python3 scripts/compare-tshark.py tests/data/wild/*.pcap*
Needs tshark and a built target/debug/tcplab."""
import json, os, subprocess, sys
F = ["retransmission","fast_retransmission","spurious_retransmission","out_of_order","lost_segment","ack_lost_segment","duplicate_ack","zero_window","window_full","window_update","keep_alive","keep_alive_ack"]
# tshark's fields beside the flags, and the record's names for them.
X = ["tcp.window_size","tcp.window_size_scalefactor","tcp.analysis.acks_frame","tcp.analysis.ack_rtt","tcp.analysis.bytes_in_flight","tcp.analysis.initial_rtt"]
X_OURS = ["window_size","window_scale_factor","acks_frame","ack_rtt","bytes_in_flight","initial_rtt"]
def tshark(path):
    fields = ["frame.number","tcp.stream","tcp.seq","tcp.ack","tcp.analysis.duplicate_ack_num"] + ["tcp.analysis."+f for f in F] + X
    out = subprocess.run(["tshark","-r",path,"-T","fields","-E","separator=|","-E","occurrence=f"] + sum([["-e",f] for f in fields],[]), capture_output=True, text=True).stdout
    rows = {}
    for line in out.splitlines():
        v = line.split("|")
        if not v[1]: continue
        flags = [F[i] for i in range(len(F)) if v[5+i] != ""]
        rows[int(v[0])] = (int(v[1]), int(v[2]), int(v[3] or 0), v[4], *v[5+len(F):], flags)
    return rows
def ours(path):
    out = subprocess.run([os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "debug", "tcplab"),"replay",path,"--format","ndjson"], capture_output=True, text=True).stdout
    rows = {}
    for line in out.splitlines():
        r = json.loads(line, parse_float=str)
        if "stream" not in r: continue
        rows[r["frame"]] = (r["stream"], r["seq"], r["ack"], str(r.get("dup_ack_num","")), *[str(r.get(k,"")) for k in X_OURS], r["analysis"])
    return rows
bad = 0; total = 0
for path in sys.argv[1:]:
    t, o = tshark(path), ours(path)
    fb = 0; first = None
    for n in sorted(set(t)|set(o)):
        total += 1
        a, b = o.get(n), t.get(n)
        if a is None or b is None or a[:-1] != b[:-1] or sorted(a[-1]) != sorted(b[-1]):
            bad += 1; fb += 1
            if first is None: first = (n, a, b)
    if fb: print(path.split('/')[-1], fb, "of", len(set(t)|set(o)), "first:", first, flush=True)
print(f"{bad} of {total} frames differ")
