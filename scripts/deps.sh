#!/bin/bash
# Install the Debian 12 packages the toolkit needs to build, test and benchmark.
# Idempotent: does nothing when every package is already installed.
# Usage: scripts/deps.sh [--build-only] [--loss] [--netns]
#   --build-only  only what the build needs (the labs use it)
#   --loss        also the loss lab's tools (iproute2, nftables: tests/lib/netns.sh)
#   --netns       also the namespace lab's (iproute2, nftables, dnsmasq-base: labs/netns.sh)
set -euo pipefail

build=(cmake g++ pkg-config libre-dev libcli11-dev libtomlplusplus-dev doctest-dev libfmt-dev
  libsqlite3-dev libpugixml-dev nlohmann-json3-dev libexpected-dev libssl-dev zlib1g-dev
  libxxhash-dev libsmpp34-dev librem-dev libopus-dev)
tests=(sip-tester sipsak tshark mandoc zsh fish python3 clang-14 libclang-rt-14-dev
  clang-format iproute2 nftables shellcheck linphone-cli baresip-core libnet-smpp-perl
  librsvg2-bin sngrep dnsmasq-base)
bench=(kamailio kannel)
loss=(iproute2 nftables)
netns=(iproute2 nftables dnsmasq-base)

pkgs=("${build[@]}")
only_build=0
for arg in "$@"; do
  case $arg in
  --build-only) only_build=1 ;;
  --loss) pkgs+=("${loss[@]}") ;;
  --netns) pkgs+=("${netns[@]}") ;;
  *)
    echo "usage: scripts/deps.sh [--build-only] [--loss] [--netns]" >&2
    exit 2
    ;;
  esac
done
((only_build)) || pkgs+=("${tests[@]}" "${bench[@]}" "${netns[@]}")

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ $status == installed ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "deps: all ${#pkgs[@]} packages are installed"
  exit 0
fi

sudo=()
((EUID == 0)) || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
echo "deps: installing ${missing[*]}"
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
  "${sudo[@]}" debconf-set-selections
"${sudo[@]}" apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "${missing[@]}"
