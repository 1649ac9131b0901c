#!/usr/bin/env python3
"""Writes tshark's side of scripts/compare-tshark.py for every capture of
tests/data/wild/ to tests/fixtures/tshark/wild-tcp.tsv, which
tests/wild_agreement.rs compares with tcplab's records (so CI needs no tshark).

One line per TCP frame tshark decodes (a frame with a tcp.stream), sorted by
file name then frame number, after one header line. Tab separated; an absent
value is empty. The columns are `file`, `frame`, compare-tshark.py's COLUMNS
and `analysis`, read by its tshark() (the one place that says which tshark
field is which record field):
  flags      tcp.flags as tshark prints it (hex, 0x0012); the record names
             only the low 8 bits (docs/json.md), so the test compares those
  ack        0 when tshark prints no tcp.ack (ACK clear), as the record does
  analysis   the tcp.analysis.<name> fields present, space separated, in
             SPEC.md's order
Times (ack_rtt, initial_rtt) are tshark's text.

Usage: python3 scripts/wild-fixture.py [OUT]   (default: the path above)
Runs $JOBS tshark processes at once (default: one per CPU).
Needs tshark 4.0.17, the oracle; any other version is refused (its rules
differ). Takes a few minutes: one tshark run per capture."""
import concurrent.futures, importlib.util, os, subprocess, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
WILD = os.path.join(ROOT, "tests", "data", "wild")
OUT = os.path.join(ROOT, "tests", "fixtures", "tshark", "wild-tcp.tsv")
TSHARK_VERSION = "4.0.17"

def compare_tshark():
    spec = importlib.util.spec_from_file_location(
        "compare_tshark", os.path.join(os.path.dirname(os.path.abspath(__file__)), "compare-tshark.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod

def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else OUT
    version = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    if f"TShark (Wireshark) {TSHARK_VERSION} " not in version + " ":
        sys.exit(f"wild-fixture.py: needs tshark {TSHARK_VERSION}, found {version!r}")
    ct = compare_tshark()
    header = ["file", "frame"] + [name for name, _ in ct.COLUMNS] + ["analysis"]
    names = sorted(n for n in os.listdir(WILD) if not n.endswith(".md"))
    # One tshark per capture, a few at a time; the rows keep the file order.
    jobs = int(os.environ.get("JOBS") or os.cpu_count() or 1)
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(lambda n: ct.tshark(os.path.join(WILD, n)), names))
    lines = []
    for name, rows in zip(names, results):
        for frame in sorted(rows):
            row = rows[frame]
            values = [name, str(frame)] + [row[c] for c in header[2:]]
            assert not any("\t" in v or "\n" in v for v in values), (name, frame, values)
            lines.append("\t".join(values))
    with open(out_path, "w", newline="\n") as f:
        f.write("\t".join(header) + "\n")
        f.writelines(line + "\n" for line in lines)
    print(f"{os.path.relpath(out_path)}: {len(lines)} TCP frames of {len({l.split(chr(9))[0] for l in lines})} files "
          f"({len(names)} captures read)", file=sys.stderr)

if __name__ == "__main__":
    main()
