#!/bin/sh
# baremetal-vblk-inflight: vblk.bin (2 vCPUs, 16 MiB, a 1 MiB --disk) has
# vCPU 1 make 12 virtio-blk writes of 4 KiB available, each with the
# pattern of its sector, the first 4 notified and 8 not, and power off at
# once; vCPU 0 suspends as soon as vCPU 1 is off. torpor must serve every
# chain made available before it saves memory: the run exits 7 and the disk
# already holds all 12 writes (the disk is only read between checkpoint and
# restore, or restore would refuse it). Round 0 makes the 8 available right
# after the notified ones (the device may still be serving those); round 1
# only once the notified ones completed and the device went idle, so that
# nothing but the checkpoint serves them. Restored (wake button), the guest
# finds its 12 used entries and OK status bytes at once and reads the
# sectors back ("vblk round R inflight ok 12", "... readback ok 12"); the
# first restore exits 7 (round 1 hibernated), the second 0. After each step
# the disk holds exactly the writes so far (zeros elsewhere), size unchanged.
# rig-timeout: 150
. "$RIG_LIB"

disk=$WORK/disk.raw
img=$WORK/vblk.torpor
dd if=/dev/zero of="$disk" bs=1024 count=1024 2>/dev/null || fail "creating the disk"
size=$(wc -c <"$disk")

now_cs() {
	read -r up _ </proc/uptime
	echo "${up%.*}${up#*.}" | sed 's/^0*//; s/^$/0/'
}
secs() { printf '%d.%02d' $(($1 / 100)) $(($1 % 100)); }

# disk_holds ROUNDS WHEN: the disk holds the writes of rounds 0..ROUNDS-1
# (request i of round r at sector 8 + 24 i + 8 r, as vblk.S) and zeros
# elsewhere, at its size.
disk_holds() {
	[ "$(wc -c <"$disk")" -eq "$size" ] || fail "$2: the disk is $(wc -c <"$disk") bytes, was $size"
	sectors=
	r=0
	while [ $r -lt "$1" ]; do
		i=0
		while [ $i -lt 12 ]; do
			s=$((8 + 24 * i + 8 * r))
			pattern_ok "$disk" $s || fail "$2: write $i of round $r (sector $s) is not on the disk"
			sectors="$sectors $s"
			i=$((i + 1))
		done
		r=$((r + 1))
	done
	# shellcheck disable=SC2086
	zero_except "$disk" $sectors || fail "$2: the disk holds more than the guest wrote"
}

# step N CMD...: runs torpor (bounded), console in $WORK/outN, stderr in
# $WORK/eN, exit status in rc, time in rig-info.
step() {
	n=$1
	shift
	t0=$(now_cs)
	timeout 60 "$TORPOR" "$@" </dev/null >"$WORK/c$n" 2>"$WORK/e$n"
	rc=$?
	t1=$(now_cs)
	tr -d '\r' <"$WORK/c$n" >"$WORK/out$n"
	echo "rig-info: $1 $(secs $((t1 - t0))) s, exit $rc"
	grep -a 'hibernated\|restored \|flushed' "$WORK/e$n" | sed 's/^torpor: /rig-info:   /'
}

# expect_out N ROUND: restore N's console says the round's checks passed.
expect_out() {
	for want in "vblk round $2 inflight ok 12" "vblk round $2 readback ok 12"; do
		grep -aqx "$want" "$WORK/out$1" ||
			{ show "$WORK/out$1"; show "$WORK/e$1" 5; fail "restore $1: no \"$want\" (exit $rc)"; }
	done
	grep -q 'pressed the wake button' "$WORK/e$1" || { show "$WORK/e$1" 5; fail "restore $1: no wake button"; }
	u=$(sed -n "s/^vblk round $2 used at suspend //p" "$WORK/out$1")
	echo "rig-info: round $2: $((u)) of 12 writes completed when vCPU 0 suspended"
	[ "$2" -eq 0 ] || [ $((u)) -eq 4 ] ||
		echo "rig-info: (so round 1 did not test that the checkpoint serves what was not notified)"
}

step 1 run --kernel "$GUESTS/vblk.bin" --memory 16M --cpus 2 --disk "$disk" --image "$img"
[ $rc -eq 7 ] || { show "$WORK/out1"; show "$WORK/e1" 5; fail "run: exit $rc, want 7 (hibernated)"; }
grep -aq '^vblk features ' "$WORK/out1" || { show "$WORK/out1"; fail "the guest did not bring the disk up"; }
disk_holds 1 "at the first checkpoint"

step 2 restore "$img"
expect_out 2 0
[ $rc -eq 7 ] || { show "$WORK/out2"; show "$WORK/e2" 5; fail "restore 2: exit $rc, want 7 (round 1 hibernated)"; }
disk_holds 2 "at the second checkpoint"

step 3 restore "$img"
expect_out 3 1
[ $rc -eq 0 ] || { show "$WORK/out3"; show "$WORK/e3" 5; fail "restore 3: exit $rc, want 0"; }
disk_holds 2 "after the guest powered off"
if grep -aq '^FAIL' "$WORK/out1" "$WORK/out2" "$WORK/out3"; then
	grep -a '^FAIL' "$WORK/out1" "$WORK/out2" "$WORK/out3" >&2
	fail "the guest reported a failure"
fi
