#!/usr/bin/env bash
# The test command (README and .ci/run use this one): installs what is
# missing, builds, and runs every test. Capture tests need CAP_NET_RAW: as
# root they have it; as another user the freshly built binary is given the
# capability with setcap (sudo asks once).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cargo build --all-targets --locked
if [[ $(id -u) -ne 0 && "${TCPLAB_ALLOW_NO_CAPTURE:-}" != 1 ]]; then
  sudo setcap cap_net_raw,cap_net_admin=eip target/debug/tcplab
  # Root-only tests run through sudo here, then are skipped: the impaired
  # path (trace --loss/--delay...) makes network namespaces, and trace --
  # CMD reads a tracepoint through tracefs.
  for t in impaired_path program_closes; do
    bin=$(cargo test --locked --test "$t" --no-run --message-format=json 2>/dev/null |
      grep "\"name\":\"$t\"" | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
    sudo "$bin"
  done
  export TCPLAB_ROOT_TESTS_RAN=1
fi
cargo test --locked "$@"
