#!/usr/bin/env bash
# A newcomer's one command: install what is missing, build the release
# binary, let it capture (root already may; another user gets the capability
# once, through sudo), then run it with the given arguments.
#   bash scripts/try.sh trace --send hello
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
# Not -q: a first release build takes minutes, and cargo's progress (on
# stderr) shows it is working. Later runs finish at once.
echo "try: building the release binary (the first build takes a few minutes)" >&2
cargo build --release --locked
if [[ $(id -u) -ne 0 ]]; then
  sudo setcap cap_net_raw,cap_net_admin=eip target/release/tcplab
fi
exec ./target/release/tcplab "$@"
