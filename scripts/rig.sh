#!/bin/bash
# rig.sh - run torpor's integration scenarios (tests/rig/*.sh) on real KVM.
#
# Usage: [RIG_HOST=K] [RIG_GUEST=K] scripts/rig.sh [SCENARIO...]
#        (no names: all of tests/rig/*.sh)
#
# A named scenario is tests/rig/NAME.sh or else tests/soak/NAME.sh: the soak
# (scripts/soak.sh, `make soak`) runs only when named.
#
# Builds, under build/rig/, the rig tree: a lean busybox root holding torpor,
# the bare-metal test guests, the nested guests' kernels, each with a busybox
# initramfs holding its own modules, the guests' ext4 root disk, e2fsck (to
# check it), the scenarios and the runner (scripts/rig/runner.sh). On x86 it
# packs that tree into an initramfs and boots it once in QEMU TCG with EL2
# (an arm64 host with a real /dev/kvm) on the host kernel RIG_HOST; the
# host's /init runs every scenario and powers off. On an arm64 Linux host
# with /dev/kvm, QEMU is skipped (and RIG_HOST with it) and the runner runs
# the tree directly.
#
# Kernels (K), unpacked by scripts/deps.sh under build/deps/:
#   bookworm        Debian 12's generic arm64 kernel (6.1)   build/deps/arm64
#   trixie          Debian 13's generic arm64 kernel (6.12)  build/deps/arm64-trixie
#   bookworm-cloud  Debian 12's cloud arm64 kernel (6.1)     build/deps/arm64-bookworm-cloud
# RIG_HOST (default bookworm) is the outer host's kernel; the host's own
# modules (virtio_mmio, virtio_blk) come from the same tree. RIG_GUEST
# (default bookworm) is the nested guests' default kernel (rig/Image and
# rig/guest.cpio in the tree). The tree holds only the kernels used: the
# default guest's and those the chosen scenarios name on a
# "# rig-guest-kernels: K..." line, under rig/kernels/K/{Image,guest.cpio}
# (see use_guest_kernel in scripts/rig/lib.sh). A scenario with a
# "# rig-next-host: K" line runs in a later boot of the host on kernel K, or
# with "other" on the other of bookworm and trixie (an image crosses from one
# host kernel to the next on the rig disk); a native run, which has one
# kernel, skips it (SKIP, counted neither passed nor failed).
#
# Prints one line per scenario with its result, the host kernel's release
# (uname -r in the host) and its time, the outer host's boot time, and ends
# with "N passed, N failed". Exit status 0 iff every scenario passed.
# RIG_DEMO=1 (what `make demo` sets) runs scripts/rig/demo.sh in place of the
# scenarios and shows its narration: the default guest hibernated and restored.
# RIG_SHELL=1 (what `make shell` sets) boots the host with an interactive
# shell (scripts/rig/shell.sh) on this terminal, for trying torpor by hand;
# stdin must be a terminal. QEMU's escape is moved to Ctrl-] (Ctrl-] x quits
# it) so that Ctrl-A reaches torpor, whose console escape is Ctrl-A x. No
# timeout; the rig stays locked until the shell exits.
# Environment: RIG_TIMEOUT (seconds for the whole QEMU run; default: the sum of
# the scenarios' timeouts plus 180), RIG_SCENARIO_TIMEOUT (seconds, replaces
# every scenario's own "# rig-timeout:"), SOAK_CYCLES (for the soak),
# RIG_KEEP_LOG=1 prints the console log path even on success.
#
# The host initramfs is left uncompressed: measured under TCG, gzip, lz4 and
# zstd images (14-20 MB instead of 36 MB) booted no faster (2.8-3.0 s to the
# runner either way) and cost packing time on every run.
set -euo pipefail

# bash reads a script while it runs it: the braces make it parse all of it
# first, so that editing this file during a (long) run cannot break the run.
{

cd "$(dirname "$0")/.."
B=build/rig
DEPS=build/deps/arm64
ROOT=$B/root
host=${RIG_HOST:-bookworm}
guest=${RIG_GUEST:-bookworm}

die() { echo "rig: $*" >&2; exit 1; }

[ -z "${RIG_SHELL:-}" ] || [ -t 0 ] || die "RIG_SHELL (make shell) is interactive: stdin must be a terminal"

# One rig at a time: runs share build/rig, and the machine has 2 cores.
mkdir -p $B
exec 9>build/.rig.lock
if ! flock -n 9; then
	echo "rig: waiting for another rig run to finish" >&2
	flock 9
fi

# kernel_tree K: the directory scripts/deps.sh unpacked kernel K into.
kernel_tree() {
	case $1 in
	bookworm) echo build/deps/arm64 ;;
	trixie) echo build/deps/arm64-trixie ;;
	bookworm-cloud) echo build/deps/arm64-bookworm-cloud ;;
	*) die "unknown kernel '$1' (known: bookworm, trixie, bookworm-cloud)" ;;
	esac
}

# kernel_image TREE: the kernel Image of TREE (an uncompressed arm64 Image).
kernel_image() {
	local k
	k=$(ls "$1"/boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1) || true
	[ -n "$k" ] || die "no arm64 kernel under $1/boot: run scripts/deps.sh"
	echo "$k"
}

# kernel_module TREE PATH OUT: the module kernel/PATH.ko of TREE's kernel,
# uncompressed into OUT (busybox insmod reads no .ko.xz; Debian 13 ships
# its modules xz-compressed, Debian 12 plain). Status 1 if there is none.
kernel_module() {
	local f
	for f in "$1"/lib/modules/*/kernel/"$2".ko* "$1"/usr/lib/modules/*/kernel/"$2".ko*; do
		case $f in
		*.ko) cp "$f" "$3"; return 0 ;;
		*.ko.xz) xz -dc "$f" >"$3"; return 0 ;;
		*.ko.zst) zstd -qdc "$f" >"$3"; return 0 ;;
		esac
	done
	return 1
}

# module_dir TREE: the lib/modules/RELEASE directory of TREE's kernel.
module_dir() {
	local d
	for d in "$1"/lib/modules/* "$1"/usr/lib/modules/*; do
		[ -d "$d" ] && { echo "$d"; return 0; }
	done
	die "no lib/modules in $1"
}

# add_module TREE NAME OUT: module NAME of TREE's kernel, after the modules it
# depends on, uncompressed into OUT as NN-NAME.ko (NN: the load order), once
# each; nothing for one built into the kernel. Debian's packages have no
# modules.dep (depmod runs when they are installed): a module's dependencies
# are the "depends=" of its .modinfo, its path comes from modules.order.
add_module() {
	local dir rel dep f n
	ls "$3"/*-"$2".ko >/dev/null 2>&1 && return 0
	dir=$(module_dir "$1")
	# modules.order names files; a module name's "_" may be "-" there.
	rel=$(grep -m1 -E "/${2//_/[-_]}\.ko$" "$dir/modules.order") || true
	if [ -z "$rel" ]; then
		grep -qE "/${2//_/[-_]}\.ko$" "$dir/modules.builtin" && return 0
		die "no module $2 in $1"
	fi
	rel=${rel#kernel/}
	f=$3/$2.tmp
	kernel_module "$1" "${rel%.ko}" "$f" || die "no $rel in $1"
	for dep in $(tr '\0' '\n' <"$f" | sed -n 's/^depends=//p' | head -n 1 | tr , ' '); do
		add_module "$1" "$dep" "$3"
	done
	n=$(find "$3" -name '*.ko' | wc -l)
	mv "$f" "$3/$(printf %02d $((n + 1)))-$2.ko"
}

busybox=$DEPS/bin/busybox
[ -x $busybox ] || die "no $busybox: run scripts/deps.sh"
torpor=build/arm64/torpor
native=
if [ "$(uname -m)" = aarch64 ] && [ -c /dev/kvm ]; then
	native=1
	torpor=build/host/torpor
fi
host_tree=$(kernel_tree "$host")
kernel=
[ -n "$native" ] || kernel=$(kernel_image "$host_tree")
[ -x $torpor ] || echo "rig: warning: $torpor is not built; its scenarios will fail" >&2

# Scenarios: the names given, or all. Unknown names are failures, not errors,
# so that a typo cannot look like a pass.
if [ $# -eq 0 ]; then
	set -- $(for f in tests/rig/*.sh; do basename "$f" .sh; done)
fi
scenarios=("$@")
# scenario_file NAME: the scenario's script (which may not exist).
scenario_file() {
	if [ ! -e "tests/rig/$1.sh" ] && [ -e "tests/soak/$1.sh" ]; then
		echo "tests/soak/$1.sh"
	else
		echo "tests/rig/$1.sh"
	fi
}
for v in RIG_SCENARIO_TIMEOUT SOAK_CYCLES; do
	case ${!v:-0} in *[!0-9]*) die "$v='${!v}' is not a number" ;; esac
done
entry=runner.sh
if [ -n "${RIG_SHELL:-}" ]; then
	scenarios=(shell)
	entry=shell.sh
elif [ -n "${RIG_DEMO:-}" ]; then
	scenarios=(demo)
	entry=demo.sh
fi

# The host kernel each scenario marked "# rig-next-host: K" runs on; the
# kernels of those later boots, once each.
declare -A next_host
next_hosts=()
for s in "${scenarios[@]}"; do
	# The demo and the shell are no scenario files: no header to read
	# (pipefail).
	k=$(sed -n 's/^# rig-next-host: *\([a-z-]*\).*/\1/p' "$(scenario_file "$s")" 2>/dev/null |
		head -n 1) || true
	[ -n "$k" ] || continue
	if [ "$k" = other ]; then
		[ "$host" = trixie ] && k=bookworm || k=trixie
	fi
	kernel_tree "$k" >/dev/null || exit 1
	next_host[$s]=$k
	[[ " ${next_hosts[*]} " == *" $k "* ]] || next_hosts+=("$k")
done

# --- the nested guests' kernels and initramfs --------------------------------
# The default guest kernel, then those the scenarios ask for, once each.
guest_kernels=("$guest")
for s in "${scenarios[@]}"; do
	for k in $(sed -n 's/^# rig-guest-kernels: *//p' "tests/rig/$s.sh" 2>/dev/null); do
		[[ " ${guest_kernels[*]} " == *" $k "* ]] || guest_kernels+=("$k")
	done
done
rm -rf $B/guest-root $B/rootfs $ROOT
mkdir -p $B/guest-root/{bin,dev,lib,proc,sys,tmp} $ROOT/{bin,dev,proc,sys,tmp,rig/guests,rig/tests}
cp $busybox $B/guest-root/bin/busybox
install -m 0755 scripts/rig/guest-init.sh $B/guest-root/init
for k in "${guest_kernels[@]}"; do
	tree=$(kernel_tree "$k")
	mkdir -p $ROOT/rig/kernels/$k
	cp "$(kernel_image "$tree")" $ROOT/rig/kernels/$k/Image
	# gpio-keys is a module in Debian's generic kernels: the guest loads it
	# so that it arms torpor's wake button (the gpio-keys node in torpor's
	# device tree). Each kernel gets its own; the cloud kernel has none.
	rm -rf $B/guest-root/lib/gpio_keys.ko $B/guest-root/lib/disk
	kernel_module "$tree" drivers/input/keyboard/gpio_keys $B/guest-root/lib/gpio_keys.ko || true
	# What a root file system on the ext4 of a virtio disk needs
	# (torpor.root=, see guest-init.sh), in load order. crc32c_generic:
	# ext4 and jbd2 ask the crypto API for "crc32c" as they mount (their
	# softdep is the alias crypto-crc32c; the guest has no modprobe).
	mkdir -p $B/guest-root/lib/disk
	for m in virtio_mmio virtio_blk crc32c_generic ext4; do
		add_module "$tree" $m $B/guest-root/lib/disk
	done
	# The network card and the entropy device (torpor.ip=, see
	# guest-init.sh): virtio_net (with failover, net_failover) and
	# virtio_rng (rng-core is built in), after their transport virtio_mmio,
	# which lib/disk has too: the guest skips a module already loaded.
	rm -rf $B/guest-root/lib/net
	mkdir -p $B/guest-root/lib/net
	for m in virtio_mmio virtio_net virtio_rng; do
		add_module "$tree" $m $B/guest-root/lib/net
	done
	# torpor's buttons (torpor.buttons=, see guest-init.sh): virtio_input
	# and the evdev interface the guest reads them through.
	rm -rf $B/guest-root/lib/input
	mkdir -p $B/guest-root/lib/input
	for m in virtio_mmio virtio_input evdev; do
		add_module "$tree" $m $B/guest-root/lib/input
	done
	(cd $B/guest-root && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) \
		>$ROOT/rig/kernels/$k/guest.cpio
done
ln -s kernels/$guest/Image $ROOT/rig/Image
ln -s kernels/$guest/guest.cpio $ROOT/rig/guest.cpio

# The guests' root disk (torpor.root=/dev/vda), one for every kernel (the
# modules to mount it are in each kernel's initramfs): busybox, guest-init.sh
# as /init, the directories it mounts on or writes to (/data: the disk
# checks), made with mke2fs -d as an ordinary user can. 16 MiB: the host's
# initramfs holds it whole (cpio keeps no holes); its checks write little.
# blkbench (disk-bench) goes here rather than in the guests' initramfs:
# every guest loads that, and only guests on this disk run the bench.
mke2fs=$(PATH=$PATH:/usr/sbin:/sbin command -v mke2fs) || die "no mke2fs: run scripts/deps.sh"
mkdir -p $B/rootfs/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,mnt,data}
cp $busybox $B/rootfs/bin/busybox
[ -x build/arm64/tools/blkbench ] && cp build/arm64/tools/blkbench $B/rootfs/bin/
# netbench likewise, for the network bench (net_bench).
[ -x build/arm64/tools/netbench ] && cp build/arm64/tools/netbench $B/rootfs/bin/
install -m 0755 scripts/rig/guest-init.sh $B/rootfs/init
truncate -s 16M $ROOT/rig/rootfs.ext4
"$mke2fs" -q -F -t ext4 -L torpor-root -E root_owner=0:0 -d $B/rootfs $ROOT/rig/rootfs.ext4

# --- the rig tree (the outer host's root) ------------------------------------
cp $busybox $ROOT/bin/busybox
install -m 0755 scripts/rig/host-init.sh $ROOT/init
install -m 0755 scripts/rig/runner.sh $ROOT/rig/runner.sh
install -m 0755 scripts/rig/demo.sh $ROOT/rig/demo.sh
install -m 0755 scripts/rig/shell.sh $ROOT/rig/shell.sh
cp scripts/rig/lib.sh $ROOT/rig/lib.sh
cp tests/rig/*.sh $ROOT/rig/tests/
for s in "${scenarios[@]}"; do
	f=$(scenario_file "$s")
	[ "${f#tests/soak/}" = "$f" ] || cp "$f" $ROOT/rig/tests/
done
# The outer host's own modules, from its kernel's tree, for each kernel the
# host boots (not needed native), under lib/rig-modules/RELEASE: the rig
# disk's virtio_mmio and virtio_blk, and tun for the guests' taps (Debian's
# tun has no dependencies).
mkdir -p $ROOT/lib/rig-modules
if [ -z "$native" ]; then
	for k in "$host" "${next_hosts[@]}"; do
		tree=$(kernel_tree "$k")
		release=$(basename "$(kernel_image "$tree")")
		release=${release#vmlinuz-}
		mkdir -p $ROOT/lib/rig-modules/$release
		for m in virtio/virtio_mmio block/virtio_blk net/tun; do
			kernel_module "$tree" drivers/$m $ROOT/lib/rig-modules/$release/${m#*/}.ko ||
				die "no $m module in $tree"
		done
	done
fi
[ -x $torpor ] && cp $torpor $ROOT/rig/torpor
# Test tools (tests/tools), next to torpor.
for t in build/arm64/tools/*; do [ -x "$t" ] && cp "$t" $ROOT/rig/; done
for g in build/guests/*.bin; do [ -e "$g" ] && cp "$g" $ROOT/rig/guests/; done
# e2fsck for the guests' disks (fsck_disk in lib.sh): the host root has no C
# library, so e2fsck comes with the libraries it links (its NEEDED) and the
# dynamic loader that runs it.
e2fs=build/deps/arm64-e2fsprogs
if [ -f $e2fs/.complete ]; then
	mkdir -p $ROOT/rig/e2fsprogs
	cp $e2fs/sbin/e2fsck $ROOT/rig/e2fsprogs/
	for l in ld-linux-aarch64.so.1 libc.so.6 libext2fs.so.2 libe2p.so.2 libcom_err.so.2 \
		libblkid.so.1 libuuid.so.1; do
		f=$(find $e2fs/lib $e2fs/usr/lib -name $l | head -n 1)
		[ -n "$f" ] || die "no $l in $e2fs"
		cp -L "$f" $ROOT/rig/e2fsprogs/
	done
else
	echo "rig: warning: no $e2fs (run scripts/deps.sh): scenarios that check a disk will fail" >&2
fi

timeout_of() {
	local t
	t=$(sed -n 's/^# rig-timeout: *\([0-9][0-9]*\).*/\1/p' "$(scenario_file "$1")" 2>/dev/null | head -n 1)
	echo "${RIG_SCENARIO_TIMEOUT:-${t:-60}}"
}
total=180
for s in "${scenarios[@]}"; do total=$((total + $(timeout_of "$s"))); done
total=${RIG_TIMEOUT:-$total}

# --- run ----------------------------------------------------------------------
log=$B/console.log
declare -A result secs
t0=$EPOCHREALTIME
boot=
# parse: reads the runner's output, prints progress, fills result/secs.
parse() {
	local line word name status s release
	while IFS= read -r line; do
		line=${line%$'\r'}
		printf '%s\n' "$line" >>$log
		case $line in
		RIG-START*)
			boot=$(printf '%.2f' "$(echo "$EPOCHREALTIME - $t0" | bc)")
			read -r word s release <<<"$line"
			[ -n "$native" ] ||
				echo "rig: outer host up in $boot s (kernel ${release:-?}, uptime $s)"
			;;
		RIG-RESULT\ *)
			read -r word name status s release <<<"$line"
			result[$name]=$status secs[$name]=$s
			printf 'rig: %-8s %-24s (host %s) %7s s\n' "$status" "$name" "${release:-?}" "$s"
			;;
		RIG-LOG\ * | RIG-INFO\ *)
			echo "rig:     ${line#RIG-* }"
			;;
		demo:* | guest:* | torpor:*)
			[ -n "${RIG_DEMO:-}" ] && printf '%s\n' "$line"
			;;
		esac
	done
}

# Scenarios marked "# rig-after-reboot: yes" run in a second boot of the host:
# what they need from the first boot (an image) crosses on the rig disk, a raw
# virtio disk both boots share ($RIG_DISK inside; a plain file when native).
phase1=() phase2=()
for s in "${scenarios[@]}"; do
	if [ -n "${next_host[$s]:-}" ]; then
		continue
	elif grep -q '^# rig-after-reboot: *yes' "$(scenario_file "$s")" 2>/dev/null; then
		phase2+=("$s")
	else
		phase1+=("$s")
	fi
done
disk=$B/disk.img
rm -f $disk
truncate -s 768M $disk
boots=0

# run_boot SCENARIO...: one boot of the host (or one runner pass when native)
# on kernel $boot_host, Image $boot_kernel.
boot_host=$host boot_kernel=$kernel
run_boot() {
	local list rc
	boots=$((boots + 1))
	if [ -n "$native" ]; then
		parse < <(RIG_DISK=$disk WORK_ROOT=$work timeout "$total" \
			sh $ROOT/rig/$entry "$@" 2>&1)
		wait $!
		return
	fi
	list=$(IFS=,; echo "$*")
	echo "rig: booting the outer host: $boot_host, $(basename "$boot_kernel") ($(du -m $img | cut -f1) MB initramfs, timeout $total s)"
	t0=$EPOCHREALTIME
	parse < <(timeout -k 5 "$total" "${qemu[@]}" -kernel "$boot_kernel" \
		-append "console=ttyAMA0 quiet panic=-1 RIG_SCENARIOS=$list RIG_DEMO=${RIG_DEMO:-} \
RIG_SCENARIO_TIMEOUT=${RIG_SCENARIO_TIMEOUT:-} SOAK_CYCLES=${SOAK_CYCLES:-}" </dev/null 2>&1)
	wait $!
}

: >$log
t_all=$EPOCHREALTIME
if [ -n "$native" ]; then
	echo "rig: arm64 host with /dev/kvm: running the scenarios directly${RIG_HOST:+ (RIG_HOST ignored)}"
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
else
	command -v qemu-system-aarch64 >/dev/null || die "no qemu-system-aarch64: run scripts/deps.sh"
	img=$B/host.cpio
	(cd $ROOT && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >$img
	qemu=(qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 -cpu max,pauth-impdef=on
		-smp 2 -m 2048 -nographic -no-reboot -nic none -initrd $img
		-drive file=$disk,format=raw,if=none,id=rigdisk -device virtio-blk-device,drive=rigdisk)
fi
if [ -n "${RIG_SHELL:-}" ]; then
	# The terminal's size, which the host's serial console cannot learn.
	tty=$(stty size 2>/dev/null | tr ' ' ,) || true
	if [ -n "$native" ]; then
		WORK_ROOT=$work RIG_TTY=$tty sh $ROOT/rig/shell.sh
		exit
	fi
	echo "rig: booting the outer host ($host) with a shell on this terminal; Ctrl-] x quits QEMU"
	# No timeout(1): it would put QEMU out of the terminal's foreground
	# process group, and reading the terminal would stop it.
	exec "${qemu[@]}" -echr 0x1d -kernel "$kernel" \
		-append "console=ttyAMA0 quiet panic=-1 RIG_SHELL=1 RIG_TTY=$tty"
fi
set +e
qrc=0
if [ ${#phase1[@]} -gt 0 ]; then
	run_boot "${phase1[@]}"
	qrc=$?
fi
if [ ${#phase2[@]} -gt 0 ]; then
	echo "rig: rebooting the host for: ${phase2[*]}"
	run_boot "${phase2[@]}"
	rc=$?
	[ $qrc -ne 0 ] || qrc=$rc
fi
for k in "${next_hosts[@]}"; do
	list=()
	for s in "${scenarios[@]}"; do
		[ "${next_host[$s]:-}" = "$k" ] && list+=("$s")
	done
	if [ -n "$native" ]; then
		for s in "${list[@]}"; do
			result[$s]=SKIP
			printf 'rig: %-8s %-24s (needs host kernel %s; a native run has one)\n' SKIP "$s" "$k"
		done
		continue
	fi
	echo "rig: rebooting the host on $k for: ${list[*]}"
	boot_host=$k boot_kernel=$(kernel_image "$(kernel_tree "$k")")
	run_boot "${list[@]}"
	rc=$?
	[ $qrc -ne 0 ] || qrc=$rc
done
set -e
t0=$t_all
wall=$(printf '%.1f' "$(echo "$EPOCHREALTIME - $t0" | bc)")

passed=0 failed=0 skipped=0
for s in "${scenarios[@]}"; do
	case ${result[$s]:-} in
	PASS) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	'') failed=$((failed + 1)); printf 'rig: %-8s %s (no result)\n' MISSING "$s" ;;
	*) failed=$((failed + 1)) ;;
	esac
done
if [ $qrc -ne 0 ]; then
	[ $qrc -eq 124 ] && echo "rig: timed out after $total s" || echo "rig: runner/QEMU exit status $qrc"
fi
if [ "$(grep -c '^RIG-END' $log)" -lt $boots ]; then
	echo "rig: the runner did not finish; last console lines:"
	tail -n 15 $log | sed 's/^/rig:   /'
	[ $qrc -ne 0 ] || qrc=1
fi
[ $failed -ne 0 ] || [ "${RIG_KEEP_LOG:-}" = 1 ] && echo "rig: console log in $log"
if [ -n "$native" ]; then
	echo "rig: total ${wall} s"
else
	echo "rig: outer host ($host) boot ${boot:-?} s, total ${wall} s"
fi
[ $skipped -eq 0 ] || echo "rig: $skipped skipped"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ] && [ $qrc -eq 0 ]
exit
}
