#!/usr/bin/env bash
# scripts/setup.sh: install what the build needs (Debian/Ubuntu packages), idempotently.
# A fast no-op when everything is already there. Run as root or with sudo available.
set -euo pipefail
packages=(build-essential cmake ninja-build pkg-config python3
          libopenblas-openmp-dev libyaml-cpp-dev catch2 libcli11-dev nlohmann-json3-dev
          libpcre2-dev libutf8proc-dev zlib1g-dev libcpp-httplib-dev
          libopenmpi-dev openmpi-bin)  # Open MPI: optional for the build, needed for CPU data parallelism and its tests
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all build dependencies present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
