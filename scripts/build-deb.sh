#!/usr/bin/env bash
# build-deb.sh — build target/debian/tcplab_VERSION_ARCH.deb with cargo-deb:
# the release binary, its man page and shell completions (made by the
# binary itself), and the postinst that lets the `tcplab` group capture.
#
#   bash scripts/build-deb.sh          # installs cargo-deb first if missing
#
# Needs the build's packages (scripts/setup.sh) and network access to
# crates.io the first time (cargo install cargo-deb).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
command -v dpkg-deb >/dev/null || { echo "build-deb.sh: dpkg-deb is missing (Debian's dpkg)" >&2; exit 1; }
if ! cargo deb --version >/dev/null 2>&1; then
  cargo install --locked cargo-deb
fi
cargo build --release --locked
extra=target/deb-extra
mkdir -p "$extra"
target/release/tcplab man | gzip -9n > "$extra/tcplab.1.gz"
target/release/tcplab completions bash > "$extra/tcplab.bash"
target/release/tcplab completions zsh > "$extra/_tcplab"
target/release/tcplab completions fish > "$extra/tcplab.fish"
cargo deb --no-build --strip
ls -l target/debian/*.deb
