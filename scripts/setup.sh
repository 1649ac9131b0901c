#!/usr/bin/env bash
# Installs the Debian packages tcplab needs to build and test, skipping what is
# already there. Run as root or with sudo available.
#   libpcap-dev, pkg-config: the pcap crate links libpcap
#   util-linux (setpriv), libcap2-bin (setcap): the unprivileged-run test and
#   granting capture rights to a non-root user's build
#   netcat-openbsd: the serve tests talk to the lesson servers with nc
#   tcpdump: tests check that files tcplab wrote read whole in tcpdump -r
#   iproute2 (ip), ethtool: the impaired path (trace --loss/--delay...) makes its
#   namespaces' links with them
#   tshark, python3: tests/impaired_path.rs checks a lossy trace against tshark
#   (iproute2's ss is tests/sockdiag.rs's oracle for TCP_INFO, and python3 runs
#   the processes whose sockets it follows)
#   nodejs: the seed lessons' own Node programs, when no node is installed
#   chromium, fonts-dejavu-core: tests/svg_browser.rs opens the ladder SVGs in
#   headless Chromium, and scripts/screenshots.sh draws the docs' PNGs with it
set -euo pipefail

packages=(libpcap-dev pkg-config util-linux libcap2-bin netcat-openbsd tcpdump iproute2 ethtool tshark python3 chromium fonts-dejavu-core)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
echo "setup: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
