#!/usr/bin/env bash
# Reruns every lab and puts its real output into docs/labs/NAME.md: the
# text block under "## Sample output" and the checks under "## What
# `--check` verifies". Needs capture rights (root). Ports and times differ
# from run to run; everything else should not. Pages without a "## Sample
# output" block (delay, loss: several runs each) are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q
# Every lab, or only those named: bash scripts/refresh-lab-samples.sh hello echo
pages=(docs/labs/*.md)
if (($# > 0)); then
    pages=()
    for name in "$@"; do pages+=("docs/labs/$name.md"); done
fi
for page in "${pages[@]}"; do
    name="$(basename "$page" .md)"
    if ! grep -q '^## Sample output$' "$page"; then
        echo "skipped $page (no sample block: its runs are shown by hand)"
        continue
    fi
    out="$(COLUMNS=100 ./target/debug/tcplab lab "$name" --color never --hexdump none)"
    OUT="$out" python3 - "$page" <<'PY'
import os, re, sys
page = sys.argv[1]
text = open(page).read()
out = os.environ["OUT"].rstrip("\n")
checks = "\n".join(l for l in out.splitlines() if l.startswith(("✓", "✗")))
def replace_block(text, heading, body):
    pat = re.compile(r"(" + re.escape(heading) + r"\n(?:.*\n)*?```text\n)(?:.*\n)*?(```)")
    new, n = pat.subn(lambda m: m.group(1) + body + "\n" + m.group(2), text, count=1)
    if n != 1:
        sys.exit(f"{page}: no text block under {heading!r}")
    return new
name = os.path.basename(page)[:-3]
command = f"$ COLUMNS=100 tcplab lab {name} --color never --hexdump none"
text = replace_block(text, "## Sample output", command + "\n" + out)
text = replace_block(text, "## What `--check` verifies", checks)
open(page, "w").write(text)
PY
    echo "refreshed $page"
done
