#!/usr/bin/env bash
# Redraws the pictures the docs show, from real traffic, in headless Chromium
# (Debian's chromium, installed by scripts/setup.sh). Needs capture rights:
#   sudo bash scripts/screenshots.sh
# docs/ladder-hello.svg and .png: a traced hello with both applications' lanes.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
tcplab=target/release/tcplab
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

# shot SVG PNG: the SVG at its own size, as a browser draws it.
shot() {
  local svg=$1 png=$2 w h
  w=$(grep -o -m1 'width="[0-9.]*"' "$svg" | grep -o '[0-9.]*' | head -1)
  h=$(grep -o -m1 'height="[0-9.]*"' "$svg" | grep -o '[0-9.]*' | head -1)
  chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
    --user-data-dir="$profile" --window-size="${w%.*},${h%.*}" \
    --screenshot="$png" "file://$PWD/$svg" 2>/dev/null
  echo "drew $png (${w%.*}x${h%.*})"
}

"$tcplab" trace --send hello --svg-page --svg docs/ladder-hello.svg >/dev/null
shot docs/ladder-hello.svg docs/ladder-hello.png

# The same exchange with its pure ACKs folded (--svg-fold-acks).
"$tcplab" trace --send hello --svg-page --svg docs/ladder-hello-folded.svg --svg-fold-acks >/dev/null
shot docs/ladder-hello-folded.svg docs/ladder-hello-folded.png

# The default: 16:9 slides, one phase each for a hello.
"$tcplab" trace --send hello --svg docs/ladder-hello-slides.svg >/dev/null
for f in docs/ladder-hello-slides.svg docs/ladder-hello-slides-slide2.svg docs/ladder-hello-slides-slide3.svg; do
  shot "$f" "${f%.svg}.png"
done

# The --html page of a traced hello, as a class sees it: frame 4 picked, the
# pointer on its source port (tests/browser/page_probe.js, 1600x1200).
"$tcplab" trace --send hello --html "$profile/hello.html" >/dev/null
node tests/browser/page_probe.js "$profile/hello.html" docs/html-hello.png 4 tcp.srcport 47 >/dev/null
echo "drew docs/html-hello.png"
