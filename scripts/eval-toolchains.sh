#!/usr/bin/env bash
# The toolchains the evaluation set (tests/eval/build_real.py) runs real programs with:
# Node.js, a JDK, gcc/g++ (AddressSanitizer), Go and Rust. Whatever is missing is installed
# from Debian's archive when this machine allows it (root or passwordless sudo); the set's
# test then says which languages it could not build.
set -u
missing=()
command -v node >/dev/null || missing+=(nodejs)
command -v javac >/dev/null || missing+=(default-jdk-headless)
command -v gcc >/dev/null || missing+=(gcc)
command -v g++ >/dev/null || missing+=(g++)
command -v go >/dev/null || missing+=(golang-go)
command -v cargo >/dev/null || missing+=(cargo)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else
  echo "eval toolchains missing (${missing[*]}): install them to build the whole evaluation set" >&2
  exit 0
fi
echo "== installing eval toolchains: ${missing[*]}"
$sudo apt-get install -y -q "${missing[@]}" >/dev/null || echo "could not install ${missing[*]}" >&2
