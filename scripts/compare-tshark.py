#!/usr/bin/env python3
"""Compares tcplab replay with tshark on every TCP frame of the given captures:
stream, ports, flags, raw and relative seq, relative ack, payload length,
duplicate-ACK number, every analysis flag, the scaled window and its scale
factor, acks_frame, ack_rtt, bytes_in_flight and initial_rtt (times as text:
both print 9 decimals).
Prints one line per file that differs (count and the first difference) and a total.

Usage: python3 scripts/compare-tshark.py tests/data/wild/*.pcap*
Needs tshark and a built tcplab: target/debug/tcplab, or the binary named by
$TCPLAB (e.g. TCPLAB=$CARGO_TARGET_DIR/debug/tcplab).

COLUMNS and tshark() are the one list of what is compared and how tshark's
side is read; scripts/wild-fixture.py writes that side to
tests/fixtures/tshark/wild-tcp.tsv for tests/wild_agreement.rs."""
import json, os, subprocess, sys

# SPEC.md's analysis names in its order; each is tshark's tcp.analysis.<name>.
F = ["retransmission","fast_retransmission","spurious_retransmission","out_of_order","lost_segment","ack_lost_segment","duplicate_ack","zero_window","window_full","window_update","keep_alive","keep_alive_ack"]
# (record field, tshark field) for every compared value but the analysis
# flags, in the fixture's column order. A value is text; absent is "".
COLUMNS = [
    ("stream", "tcp.stream"),
    ("sport", "tcp.srcport"),
    ("dport", "tcp.dstport"),
    ("flags", "tcp.flags"),
    ("seq_raw", "tcp.seq_raw"),
    ("seq", "tcp.seq"),
    ("ack", "tcp.ack"),
    ("payload_len", "tcp.len"),
    ("dup_ack_num", "tcp.analysis.duplicate_ack_num"),
    ("window_size", "tcp.window_size"),
    ("window_scale_factor", "tcp.window_size_scalefactor"),
    ("acks_frame", "tcp.analysis.acks_frame"),
    ("ack_rtt", "tcp.analysis.ack_rtt"),
    ("bytes_in_flight", "tcp.analysis.bytes_in_flight"),
    ("initial_rtt", "tcp.analysis.initial_rtt"),
]
# The record's flag names, bit 0 first (tcp.flags is hex, NS/AE included).
FLAG_NAMES = ["FIN","SYN","RST","PSH","ACK","URG","ECE","CWR"]

def flag_names(hex_text):
    """tshark's tcp.flags (hex) as the record's names, space separated. The
    record names the 8 flags of docs/json.md; NS/AE (0x100) and the reserved
    bits are not in it, so they are not compared."""
    bits = int(hex_text, 16) if hex_text else 0
    return " ".join(n for i, n in enumerate(FLAG_NAMES) if bits & (1 << i))

def tshark(path):
    """tshark's TCP frames of one capture: frame number -> {column: text},
    with "analysis" the flags present, space separated in F's order, and
    "flags" tshark's hex (flag_names() gives the record's names). Frames
    with no tcp.stream (no TCP, or TCP tshark did not dissect) are left out.
    First occurrence of each field (the outer TCP of a tunnel has none)."""
    fields = ["frame.number"] + [t for _, t in COLUMNS] + ["tcp.analysis."+f for f in F]
    out = subprocess.run(["tshark","-r",path,"-T","fields","-E","separator=|","-E","occurrence=f"] + sum([["-e",f] for f in fields],[]), capture_output=True, text=True).stdout
    rows = {}
    for line in out.splitlines():
        v = line.split("|")
        row = {name: v[1+i] for i, (name, _) in enumerate(COLUMNS)}
        if not row["stream"]: continue
        # tshark leaves tcp.ack out when ACK is clear; the record shows 0.
        row["ack"] = row["ack"] or "0"
        row["analysis"] = " ".join(F[i] for i in range(len(F)) if v[1+len(COLUMNS)+i] != "")
        rows[int(v[0])] = row
    return rows

def ours(path):
    exe = os.environ.get("TCPLAB") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "debug", "tcplab")
    out = subprocess.run([exe,"replay",path,"--format","ndjson"], capture_output=True, text=True).stdout
    rows = {}
    for line in out.splitlines():
        r = json.loads(line, parse_float=str)
        if "stream" not in r: continue
        row = {name: str(r.get(name, "")) for name, _ in COLUMNS}
        row["flags"] = " ".join(r.get("flags", []))
        analysis = r.get("analysis", [])
        # F's order, then any name F lacks (so it differs, not vanishes).
        row["analysis"] = " ".join([f for f in F if f in analysis] + [a for a in analysis if a not in F])
        rows[r["frame"]] = row
    return rows

def main(paths):
    bad = 0; total = 0
    for path in paths:
        t, o = tshark(path), ours(path)
        fb = 0; first = None
        for n in sorted(set(t)|set(o)):
            total += 1
            a, b = o.get(n), t.get(n)
            if b is not None: b = dict(b, flags=flag_names(b["flags"]))
            if a != b:
                bad += 1; fb += 1
                if first is None: first = (n, a, b)
        if fb: print(path.split('/')[-1], fb, "of", len(set(t)|set(o)), "first:", first, flush=True)
    print(f"{bad} of {total} frames differ")

if __name__ == "__main__":
    main(sys.argv[1:])
