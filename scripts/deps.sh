#!/bin/sh
# Install what torpor needs to build and test, on Debian 12, idempotently.
#
# Host packages are installed with apt-get (root needed only when one is
# missing). arm64 packages - the rig's kernels, busybox and the static
# libraries for the cross link - are downloaded and unpacked under
# $TORPOR_DEPS (default build/deps), never installed on the system:
#   arm64/                 Debian 12's generic kernel (linux-image-arm64),
#                          busybox-static, libzstd-dev, libfdt-dev; through
#                          the system's own apt sources
#   arm64-trixie/          Debian 13's generic kernel (linux-image-arm64 of
#                          the trixie suite)
#   arm64-bookworm-cloud/  Debian 12's cloud kernel (linux-image-cloud-arm64)
#   arm64-e2fsprogs/       Debian 12's e2fsprogs and the libraries e2fsck
#                          links (libc6 included): the rig's host checks the
#                          guests' disks with it; through the system's sources
# The last two come through a private apt configuration under $DEPS/apt
# (its own sources list, state and cache; the mirror is the one the system's
# sources name): the system's sources and package state are left alone. Each
# tree has a stamp (.complete): an interrupted run starts that tree over, a
# finished one is not fetched again.
#
# Usage: scripts/deps.sh [--host-only]
set -eu

DEPS=${TORPOR_DEPS:-build/deps}
ARCH=$(dpkg --print-architecture 2>/dev/null || uname -m)

HOST_PKGS="make gcc pkg-config libzstd-dev libfdt-dev libcriterion-dev \
zstd libxxhash-dev clang libclang-rt-14-dev cpio xz-utils \
debian-archive-keyring e2fsprogs"
if [ "$ARCH" != arm64 ]; then
	HOST_PKGS="$HOST_PKGS gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
linux-libc-dev-arm64-cross qemu-system-arm"
fi
ARM64_PKGS="linux-image-arm64 busybox-static libzstd-dev libfdt-dev"
# e2fsck and what it is linked against, for the rig's host (which has no C
# library of its own): its own tree, so that adding it left arm64/ as it was.
E2FS_PKGS="e2fsprogs libext2fs2 libcom-err2 libblkid1 libuuid1 libc6"

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
if [ ! -f "$stamp" ]; then
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
fi

stamp="$DEPS/arm64-e2fsprogs/.complete"
if [ ! -f "$stamp" ]; then
	apt_update
	rm -rf "$DEPS/arm64-e2fsprogs" "$DEPS/e2fs-debs"
	mkdir -p "$DEPS/arm64-e2fsprogs" "$DEPS/e2fs-debs"
	log "downloading $E2FS_PKGS (arm64)"
	# shellcheck disable=SC2046
	(cd "$DEPS/e2fs-debs" && apt-get download -q $(for p in $E2FS_PKGS; do echo "$p:arm64"; done) >&2)
	for deb in "$DEPS"/e2fs-debs/*.deb; do
		dpkg -x "$deb" "$DEPS/arm64-e2fsprogs"
	done
	rm -rf "$DEPS/e2fs-debs"
	touch "$stamp"
	log "arm64 e2fsprogs ready in $DEPS/arm64-e2fsprogs"
fi

# --- more kernels, through a private apt configuration ----------------------
# The mirror: the one the system's own sources use for its release (and for
# its security updates, if it has them), whichever host that is.
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
# repo_uri RELEASE: the system's source URI for suite RELEASE, or nothing.
repo_uri() {
	apt-get indextargets --format '$(RELEASE) $(REPO_URI)' 2>/dev/null |
		awk -v r="$1" '$1 == r { print $2; exit }'
}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

# private_apt SUITE: prints apt options for a private configuration under
# $DEPS/apt/SUITE that sees only the arm64 packages of SUITE and
# SUITE-security, updating its package lists first (once per run).
private_apt() {
	dir=$(cd "$DEPS" && pwd)/apt/$1
	opts="-o Dir::Etc::sourcelist=$dir/sources.list -o Dir::Etc::sourceparts=$dir/sources.list.d \
-o Dir::State=$dir/state -o Dir::State::status=$dir/state/status -o Dir::Cache=$dir/cache \
-o APT::Architecture=arm64 -o APT::Architectures=arm64"
	if [ ! -f "$dir/.updated" ]; then
		archive=$(repo_uri "$codename")
		# apt lists its sources' targets only once it has their lists.
		[ -n "$archive" ] || { apt_update; archive=$(repo_uri "$codename"); }
		security=$(repo_uri "$codename-security")
		[ -n "$archive" ] || { log "no apt source for $codename in the system's sources"; exit 1; }
		rm -rf "$dir"
		mkdir -p "$dir/sources.list.d" "$dir/state/lists/partial" "$dir/cache/archives/partial"
		: >"$dir/state/status"
		{
			echo "deb [arch=arm64 signed-by=$keyring] $archive $1 main"
			[ -z "$security" ] || echo "deb [arch=arm64 signed-by=$keyring] $security $1-security main"
		} >"$dir/sources.list"
		log "apt-get update ($1, arm64, private configuration in $dir)"
		# shellcheck disable=SC2086
		apt-get $opts update -qq >&2
		touch "$dir/.updated"
	fi
	echo "$opts"
}

# fetch_kernel SUITE METAPACKAGE TREE: unpacks the kernel METAPACKAGE of
# SUITE depends on (image and modules) into $DEPS/TREE, unless done before.
fetch_kernel() {
	tree=$DEPS/$3
	[ -f "$tree/.complete" ] && return 0
	opts=$(private_apt "$1")
	# shellcheck disable=SC2086
	pkg=$(apt-cache $opts depends "$2" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^:]*\).*/\1/p' | head -n1)
	[ -n "$pkg" ] || { log "cannot resolve $2 in $1"; exit 1; }
	rm -rf "$tree" "$tree.debs"
	mkdir -p "$tree" "$tree.debs"
	log "downloading $pkg ($1, arm64)"
	# shellcheck disable=SC2086
	(cd "$tree.debs" && apt-get $opts download -q "$pkg" >&2)
	for deb in "$tree.debs"/*.deb; do
		dpkg -x "$deb" "$tree"
	done
	rm -rf "$tree.debs"
	touch "$tree/.complete"
	log "$pkg ready in $tree"
}

fetch_kernel trixie linux-image-arm64 arm64-trixie
fetch_kernel bookworm linux-image-cloud-arm64 arm64-bookworm-cloud
# The package lists are only needed to fetch: drop them (a later fetch
# updates afresh).
rm -rf "$DEPS/apt"
