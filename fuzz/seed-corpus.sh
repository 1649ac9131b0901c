#!/usr/bin/env bash
# Rebuilds the fuzz seed corpora (not committed: fuzz/corpus is ignored).
#   frame:    the frames of captures/*.pcap*, in the frame target's layout
#   savefile: captures/*.pcap* and every file of tests/data/wild/
#   cli:      command lines with every duration and size option, at its edges
# Seeds are only added: what the fuzzer found before stays.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
wild="${CAPTURES_WILD:-$root/tests/data/wild}"

mkdir -p "$here/corpus/frame" "$here/corpus/savefile" "$here/corpus/cli"
# cli: the subcommand byte (0 trace, 1 replay, 2 capture, 3 serve, 4 send,
# 5 lab), then NUL-separated arguments.
n=0
for seed in '\x00--timeout-ms\x0050000' '\x00--send\x00hi\x00--hex\x000c 22' \
    '\x01x.pcap\x00--max-hex\x0018446744073709551616' \
    '\x02--duration\x001e19\x00--count\x000\x00--snaplen\x0065535' \
    '\x03kv\x00--idle-timeout\x0010000000000000000000\x00--max-line\x000' \
    '\x03chat\x00--idle-timeout\x00500ms\x00--max-connections\x002500\x00--safe' \
    '\x04127.0.0.1:1\x00--idle\x002m\x00--retry\x003' '\x05list\x00--format\x00json'; do
    n=$((n + 1))
    printf "$seed" > "$here/corpus/cli/seed-$n"
done
python3 "$here/seed_frames.py" "$here/corpus/frame" "$root"/captures/*.pcap*
cp -f "$root"/captures/*.pcap* "$here/corpus/savefile/"
if [ -d "$wild" ]; then
    # Read-only originals: copy the bytes, not the modes.
    for f in "$wild"/*; do
        [ -f "$f" ] && cat "$f" > "$here/corpus/savefile/wild-$(basename "$f")"
    done
else
    echo "seed-corpus: $wild not found; savefile seeds are captures/ only" >&2
fi
echo "savefile seeds: $(ls "$here/corpus/savefile" | wc -l) files"
