#!/bin/sh
# Install what torpor needs to build and test, on Debian 12, idempotently.
#
# Host packages are installed with apt-get (root needed only when one is
# missing). arm64 packages - the guest/rig kernel, busybox and the static
# libraries for the cross link - are downloaded and unpacked into
# $TORPOR_DEPS (default build/deps), never installed on the system.
#
# Usage: scripts/deps.sh [--host-only]
set -eu

DEPS=${TORPOR_DEPS:-build/deps}
ARCH=$(dpkg --print-architecture 2>/dev/null || uname -m)

HOST_PKGS="make gcc pkg-config libzstd-dev libfdt-dev libcriterion-dev \
zstd libxxhash-dev clang libclang-rt-14-dev cpio"
if [ "$ARCH" != arm64 ]; then
	HOST_PKGS="$HOST_PKGS gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
linux-libc-dev-arm64-cross qemu-system-arm"
fi
ARM64_PKGS="linux-image-arm64 busybox-static libzstd-dev libfdt-dev"

log() { echo "deps: $*" >&2; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

updated=
apt_update() {
	[ -n "$updated" ] && return 0
	log "apt-get update"
	as_root apt-get update -qq >&2
	updated=1
}

missing=
for p in $HOST_PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	apt_update
	log "installing$missing"
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends $missing >&2
fi

[ "${1:-}" = --host-only ] && exit 0

# arm64 packages, unpacked under $DEPS/arm64. A stamp records success so
# that an interrupted run starts over instead of using half a tree.
stamp="$DEPS/arm64/.complete"
[ -f "$stamp" ] && exit 0

if [ "$ARCH" != arm64 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
	log "adding the arm64 architecture to dpkg"
	as_root dpkg --add-architecture arm64
	updated=
fi
apt_update

rm -rf "$DEPS/arm64" "$DEPS/debs"
mkdir -p "$DEPS/arm64" "$DEPS/debs"
# linux-image-arm64 is a metapackage; the kernel is its versioned dependency.
kpkg=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9][^:]*\).*/\1/p' | head -n1)
[ -n "$kpkg" ] || { log "cannot resolve the arm64 kernel package"; exit 1; }
log "downloading $kpkg busybox-static libzstd-dev libfdt-dev (arm64)"
(cd "$DEPS/debs" && apt-get download -q "$kpkg:arm64" busybox-static:arm64 \
	libzstd-dev:arm64 libfdt-dev:arm64 >&2)
for deb in "$DEPS"/debs/*.deb; do
	dpkg -x "$deb" "$DEPS/arm64"
done
rm -rf "$DEPS/debs"
touch "$stamp"
log "arm64 packages ready in $DEPS/arm64"
