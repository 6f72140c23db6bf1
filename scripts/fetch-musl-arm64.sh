#!/usr/bin/env bash
# Debian's musl libc for arm64 (package musl:arm64), unpacked into $1
# (default /tmp/tcp-vitals-musl-arm64), for scripts/check-prebuilds.js: the
# exports the arm64 musl prebuild is checked against, and musl's arm64 loader
# (run under qemu-aarch64). Uses a private apt state directory, so the
# machine's dpkg architectures and package lists are left alone.
set -euo pipefail
dest="${1:-/tmp/tcp-vitals-musl-arm64}"
[ -e "$dest/lib/ld-musl-aarch64.so.1" ] && exit 0
state="$(mktemp -d /tmp/tcp-vitals-apt-arm64.XXXXXX)"
trap 'rm -rf "$state"' EXIT
mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
opts=(-o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o "Dir::State::Lists=$state/lists"
      -o "Dir::Cache=$state/cache" -o Dir::State::status=/dev/null -o APT::Sandbox::User=root)
apt-get "${opts[@]}" update -qq
(cd "$state" && apt-get "${opts[@]}" download -qq musl:arm64 2>/dev/null)
mkdir -p "$dest"
dpkg-deb -x "$state"/musl_*_arm64.deb "$dest"
test -e "$dest/lib/ld-musl-aarch64.so.1"
