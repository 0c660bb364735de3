#!/usr/bin/env bash
# Installs the Debian 12 packages understudy needs to build, run and test. Idempotent.
set -euo pipefail
packages=(
  build-essential cmake pkg-config clang-format
  libboost-dev libldns-dev libyaml-cpp-dev libspdlog-dev libcurl4-openssl-dev libsystemd-dev
  libcli11-dev nlohmann-json3-dev libssl-dev googletest libgtest-dev
  dnsutils knot-dnsutils knot systemd
  # promtool: the control system tests check /metrics with Prometheus' own parser.
  prometheus
  # The keygen system test checks DS and signing with ldns's and BIND's own tools.
  ldnsutils bind9-utils
  # tests/check_includes.py, the layering check.
  python3
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
