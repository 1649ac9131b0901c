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
fi
cargo test --locked "$@"
