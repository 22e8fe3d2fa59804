#!/bin/sh
# linux-vmgenid: the VM generation ID device (microsoft,vmgenid in torpor's
# device tree, which Linux binds from 6.10) in Debian 13's 6.12 guest (1
# vCPU, initramfs): the guest finds it bound, suspends, and torpor
# hibernates it (exit 7). The image is restored twice, each restore its own
# process from the same image (the initramfs: no disk the first restore
# could change); the first thing each guest does once `echo mem` returns is
# read 32 bytes of /dev/urandom. Every restore gives the guest a new ID and
# its interrupt: each guest's log must say "crng reseeded due to virtual
# machine fork", and the two reads must differ. Two restores with
# `restore --no-vmgenid` (the image's ID kept, no interrupt) must log no
# such line: that is the check that fails when the ID or its interrupt does
# not reach the guest.
# Not a check: the bytes the --no-vmgenid restores read. Linux (5.18 on)
# reseeds its RNG itself on every resume from suspend ("crng reseeded on
# system resumption": timestamps, the cycle counter and the CPU's RNDR or
# the hypervisor's TRNG), before userspace runs, and a restored torpor guest
# is one resuming from suspend: they differ too, which is printed.
# Last, a guest started with `run --no-vmgenid` has no such device.
# On hosts older than Linux 6.9 a 6.12 guest's restore is refused
# (linux-trixie-guest says why): there, the boot-time checks only.
# rig-guest-kernels: trixie
# rig-timeout: 300
. "$RIG_LIB"

use_guest_kernel trixie
img=$WORK/vm.torpor
t_start=$(now_cs)
hibernate_guest vmgenid 1 "$img"
expect_rc 7 "hibernate"
grep -q '^GUEST-SUSPENDING 1' "$WORK/console" || { show "$WORK/console"; fail "guest did not suspend"; }
expect_guest_ok vmgenid-bound
sum=$(sha256sum "$img" | cut -d' ' -f1)

# restore_read N [OPTS]: restores the image (OPTS to torpor restore); the
# guest's 32 bytes in $random, its VM-fork reseed line (or nothing) in
# $reseed; counts the restores whose guest reseeded for the resume itself.
restore_read() {
	rr_n=$1
	shift
	restore_guest "$img" "$@"
	expect_rc 0 "restore $rr_n${1:+ ($*)}"
	expect_guest_ok
	random=$(sed -n 's/^GUEST-RANDOM \([0-9a-f]*\)$/\1/p' "$WORK/console")
	[ ${#random} -eq 64 ] || { show "$WORK/console"; fail "restore $rr_n: no 32 random bytes from the guest"; }
	reseed=$(grep -m1 '^GUEST-DMESG random: crng reseeded due to virtual machine fork' "$WORK/console")
	grep -q '^GUEST-DMESG random: crng reseeded on system resumption' "$WORK/console" &&
		resumption=$((resumption + 1))
	[ "$(sha256sum "$img" | cut -d' ' -f1)" = "$sum" ] || fail "restore $rr_n changed the image"
}

resumption=0
release=$(uname -r)
if release_lt "$release" 6.9; then
	restore_guest "$img"
	expect_rc 5 "restore on $release"
	echo "rig-info: host $release refuses to restore a 6.12 guest: the reseed after a restore is not checked here"
else
	restore_read 1
	r1=$random
	[ -n "$reseed" ] || { show "$WORK/console"; fail "restore 1: no 'crng reseeded due to virtual machine fork' in the guest's log"; }
	restore_read 2
	r2=$random
	[ -n "$reseed" ] || { show "$WORK/console"; fail "restore 2: no 'crng reseeded due to virtual machine fork' in the guest's log"; }
	[ "$r1" != "$r2" ] || fail "two restores of one image read the same bytes from /dev/urandom: $r1"
	restore_read 3 --no-vmgenid
	r3=$random
	[ -z "$reseed" ] || fail "restore 3 (--no-vmgenid): the guest's RNG reseeded for a VM fork"
	restore_read 4 --no-vmgenid
	r4=$random
	[ -z "$reseed" ] || fail "restore 4 (--no-vmgenid): the guest's RNG reseeded for a VM fork"
	same=differ
	[ "$r3" != "$r4" ] || same="are the same"
	echo "rig-info: urandom first thing after the restores: $r1, $r2 (new IDs); $r3, $r4 (--no-vmgenid: they $same); 'crng reseeded on system resumption' after $resumption of the 4"
fi

t_restores=$(now_cs)
hibernate_guest vmgenid 1 "$WORK/unused.torpor" "torpor.vmgenid=no" "--no-vmgenid"
expect_rc 0 "run --no-vmgenid"
expect_guest_ok vmgenid-absent
echo "rig-info: times: boot and hibernate, restores $(secs_cs $((t_restores - t_start))) s; run --no-vmgenid $(secs_cs $(($(now_cs) - t_restores))) s"
