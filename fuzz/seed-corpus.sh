#!/usr/bin/env bash
# Rebuilds the fuzz seed corpora (not committed: fuzz/corpus is ignored).
#   frame:    the frames of captures/*.pcap*, in the frame target's layout
#   savefile: captures/*.pcap* and every file of tests/data/wild/
# Seeds are only added: what the fuzzer found before stays.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
wild="${CAPTURES_WILD:-$root/tests/data/wild}"

mkdir -p "$here/corpus/frame" "$here/corpus/savefile"
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
