#!/usr/bin/env bash
# scripts/gpu_bundle.sh: gather the libraries the build needs into .gpu-bundle/, for a GPU machine
# that has the CUDA toolkit, cmake, a C++ compiler and PyTorch but no package registry (then run
# `bash scripts/gpu_check.sh` there, carrying .gpu-bundle).
#
#   bash scripts/gpu_bundle.sh          # on a Debian 12 (bookworm) machine with apt; no root needed
#
# It runs `apt-get download` for the Debian packages of scripts/setup.sh beyond the toolchain
# (yaml-cpp, Catch2, CLI11, nlohmann-json, PCRE2, utf8proc, zlib, cpp-httplib with the OpenSSL and
# Brotli headers its pkg-config file requires, OpenBLAS's OpenMP build with libgfortran) plus
# pkgconf (a pkg-config, in case the GPU machine has none), and unpacks them with `dpkg -x` into
# .gpu-bundle/usr (the folder is git-ignored). Then it makes the tree relocatable:
#   - /lib is merged into /usr/lib, and absolute symbolic links are made relative;
#   - every pkg-config file's /usr paths become ${pcfiledir}-relative, so pkg-config finds the
#     headers and libraries wherever the repository lies;
#   - documentation, manual pages and static libraries (.a) are dropped (size).
# It also copies Tiny Shakespeare (../shared/data/pretrain/tinyshakespeare.txt, which does not
# travel with the repository), the Tang poems and GPT-2's tokenizer to .gpu-bundle/data/ for gpu_check.sh's
# training runs, and writes
# .gpu-bundle/MANIFEST (packages and versions). Last, usr/ and data/ are packed into
# .gpu-bundle/bundle.tar.gz (about 20 MiB; unpacked they are 60, too much for the 64 MiB that
# travel with the tree); gpu_check.sh unpacks it into build-gpu/deps/. Nothing is installed here.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
B="$ROOT/.gpu-bundle"

packages=(
  libyaml-cpp-dev libyaml-cpp0.7
  catch2 libcli11-dev nlohmann-json3-dev
  libpcre2-dev libpcre2-8-0 libpcre2-16-0 libpcre2-32-0 libpcre2-posix3
  libutf8proc-dev libutf8proc2
  zlib1g-dev zlib1g
  libcpp-httplib-dev libcpp-httplib0.11 libssl-dev libssl3 libbrotli-dev libbrotli1
  libopenblas-openmp-dev libopenblas0-openmp libgfortran5 libquadmath0
  pkgconf pkgconf-bin libpkgconf3
)

command -v apt-get >/dev/null && command -v dpkg >/dev/null ||
  { echo "gpu_bundle: error: needs apt-get and dpkg (a Debian machine with the registry)" >&2; exit 1; }

rm -rf "$B"
mkdir -p "$B/debs" "$B/data"
echo "gpu_bundle: downloading ${#packages[@]} packages"
sandbox=()
[ "$(id -u)" -eq 0 ] && sandbox=(-o APT::Sandbox::User=root)  # _apt cannot write into the repository
(cd "$B/debs" && apt-get "${sandbox[@]}" download -q "${packages[@]}")
: >"$B/MANIFEST"
for deb in "$B"/debs/*.deb; do
  dpkg-deb -f "$deb" Package Version | paste -sd' ' >>"$B/MANIFEST"
  dpkg -x "$deb" "$B"
done
rm -rf "$B/debs"

# merged /usr: lib/ -> usr/lib/ (zlib1g still ships /lib/x86_64-linux-gnu/libz.so.1 in bookworm)
if [ -d "$B/lib" ]; then
  mkdir -p "$B/usr/lib"
  cp -a "$B/lib/." "$B/usr/lib/"
  rm -rf "${B:?}/lib"
fi
# not needed by the build (size): docs, static libraries, OpenBLAS's separate BLAS/LAPACK
# alternatives (gptcu links libopenblas itself), OpenSSL's engines and modules
rm -rf "${B:?}/usr/share/doc" "$B/usr/share/man" "$B/usr/share/lintian" "$B/usr/share/doc-base" "${B:?}/etc" \
  "$B"/usr/lib/x86_64-linux-gnu/openblas-openmp/lib{blas,lapack}.so* \
  "$B"/usr/lib/x86_64-linux-gnu/engines-3 "$B"/usr/lib/x86_64-linux-gnu/ossl-modules
find "$B" -name '*.a' ! -name 'libCatch2*' -delete  # Catch2's CMake config names its .a files

python3 - "$B" <<'EOF'
# Relocate: absolute symlinks -> relative ones inside the bundle; .pc files -> ${pcfiledir}-relative.
import os, re, sys
B = sys.argv[1]
def inside(target):  # an absolute target as a path in the bundle (/lib is now /usr/lib)
    if target.startswith("/lib/"):
        target = "/usr" + target
    return B + target
for dirpath, dirs, files in os.walk(B):
    for name in dirs + files:
        p = os.path.join(dirpath, name)
        if os.path.islink(p) and os.readlink(p).startswith("/"):
            t = inside(os.readlink(p))
            os.remove(p)
            os.symlink(os.path.relpath(t, dirpath), p)
for dirpath, _, files in os.walk(B):
    for name in files:
        if not name.endswith(".pc"):
            continue
        p = os.path.join(dirpath, name)
        up = os.path.relpath(B, dirpath)  # e.g. ../../../.. from usr/lib/x86_64-linux-gnu/pkgconfig
        text = open(p).read()
        # a /usr path that starts a value or a flag: prefix=/usr, libdir=/usr/lib/..., -I/usr/include
        text = re.sub(r"(^|[=\s'\"]|-I|-L)/usr(?=/|\s|$)", lambda m: m.group(1) + "${pcfiledir}/" + up + "/usr",
                      text, flags=re.M)
        open(p, "w").write(text)
broken = [os.path.join(d, n) for d, ds, fs in os.walk(B) for n in ds + fs
          if os.path.islink(os.path.join(d, n)) and not os.path.exists(os.path.join(d, n))]
for p in broken:
    print("gpu_bundle: warning: broken link", os.path.relpath(p, B), "->", os.readlink(p))
EOF

data="$ROOT/../shared/data/pretrain/tinyshakespeare.txt"
if [ -f "$data" ]; then
  cp "$data" "$B/data/"
else
  echo "gpu_bundle: warning: $data not found: gpu_check.sh's training runs will be skipped" >&2
fi
# GPT-2's tokenizer, for gpu_check.sh's train-bench stage (GPT-2 124M beside PyTorch)
tok="$ROOT/../shared/data/tokenizers/gpt2"
if [ -f "$tok/encoder.json" ]; then
  mkdir -p "$B/data/gpt2" && cp "$tok/encoder.json" "$tok/vocab.bpe" "$B/data/gpt2/"
else
  echo "gpu_bundle: warning: $tok not found: gpu_check.sh's train-bench stage will fail" >&2
fi

# The Tang poems, for gpu_check.sh's train-tang stage (GPT-2 124M, validation curve and plot)
tang="$ROOT/../shared/data/pretrain/quan_tang_shi.txt"
if [ -f "$tang" ]; then
  cp "$tang" "$B/data/"
else
  echo "gpu_bundle: warning: $tang not found: gpu_check.sh's train-tang stage will fail" >&2
fi

# One compressed file travels; gpu_check.sh unpacks it into its build folder.
tar -czf "$B/bundle.tar.gz" -C "$B" usr data
rm -rf "${B:?}/usr" "${B:?}/data"

# The size that travels: the repository's files (tracked and untracked-not-ignored) plus the bundle.
bundle_kb=$(du -sk "$B" | cut -f1)
tree_kb=$(git ls-files -co --exclude-standard -z | xargs -0 du -ck 2>/dev/null | tail -1 | cut -f1)
total_mib=$(( (bundle_kb + tree_kb + 1023) / 1024 ))
echo "gpu_bundle: .gpu-bundle is $((bundle_kb / 1024)) MiB, the tree $((tree_kb / 1024)) MiB: $total_mib MiB travel (limit 64)"
[ "$total_mib" -lt 64 ] || { echo "gpu_bundle: error: over 64 MiB" >&2; exit 1; }
echo "gpu_bundle: done. On the GPU machine (with .gpu-bundle carried): bash scripts/gpu_check.sh"
