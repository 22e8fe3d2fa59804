#!/bin/sh
# baremetal-vblk-hostile: vblk_hostile.bin (16 MiB, a 1 MiB --disk) makes
# malformed chains available, one per device bring-up: a loop, a head past
# the table, buffers below RAM, across its end and wrapping 2^64, avail->idx
# 100 ahead on a 16-entry queue, a readable buffer after a writable one, an
# indirect descriptor not negotiated. Each time the device must set
# DEVICE_NEEDS_RESET with a configuration change interrupt, use nothing,
# and come back from a reset (the guest waits a bounded time: a device that
# never notices makes it fail, one that spins on the chain makes torpor
# hang, killed here). Then requests past the end of the disk (at the
# capacity, straddling it, a sector whose byte offset wraps, a read) must
# get IOERR, an unknown type UNSUPP, with the queue still running, and a
# write read back must match. torpor exits 0, the disk keeps its size and
# holds only the good write (no bad chain was followed: sector 0 stays
# zero), and stderr has exactly one line about the malformed queue.
# rig-timeout: 90
. "$RIG_LIB"

disk=$WORK/disk.raw
dd if=/dev/zero of="$disk" bs=1024 count=1024 2>/dev/null || fail "creating the disk"
size=$(wc -c <"$disk")

read -r t0 _ </proc/uptime
timeout 60 "$TORPOR" run --kernel "$GUESTS/vblk_hostile.bin" --memory 16M --disk "$disk" \
	</dev/null >"$WORK/c1" 2>"$WORK/e1"
rc=$?
read -r t1 _ </proc/uptime
tr -d '\r' <"$WORK/c1" >"$WORK/out1"
echo "rig-info: run $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s, exit $rc"
case $rc in
0) ;;
124 | 143 | 137) show "$WORK/out1" 5; show "$WORK/e1" 5; fail "torpor hung: still running after 60 s (killed)" ;;
*) show "$WORK/out1"; show "$WORK/e1" 5; fail "torpor exit $rc, want 0" ;;
esac
if grep -aq '^FAIL' "$WORK/out1"; then
	show "$WORK/out1" 8
	fail "the guest reported a failure"
fi
for c in loop head addr ram-end wrap avail-idx order indirect \
	beyond-end straddle-end sector-wrap read-beyond unsupp write read roundtrip; do
	grep -aqx "vblk hostile $c ok" "$WORK/out1" ||
		{ show "$WORK/out1"; fail "no \"vblk hostile $c ok\""; }
done
grep -aqx 'vblk hostile done' "$WORK/out1" || { show "$WORK/out1"; fail "the guest did not finish"; }

[ "$(wc -c <"$disk")" -eq "$size" ] || fail "the disk is $(wc -c <"$disk") bytes, was $size: written past its end"
pattern_ok "$disk" 8 || fail "the round trip's write (sector 8) is not on the disk"
zero_except "$disk" 8 || fail "the disk holds more than the good write: a bad chain or a request past the end was served"

lines=$(wc -l <"$WORK/e1")
malformed=$(grep -c "virtio-blk .*: the driver's queue is malformed (.*): the device needs a reset" "$WORK/e1")
echo "rig-info: $lines stderr lines; $(grep -m1 'queue is malformed' "$WORK/e1" | sed 's/^torpor: //')"
[ "$malformed" -eq 1 ] || { show "$WORK/e1"; fail "$malformed lines about the malformed queue on stderr, want 1 (the first fault)"; }
dpath=$(realpath "$disk" 2>/dev/null || echo "$disk")
grep -qF "virtio-blk $dpath: " "$WORK/e1" || { show "$WORK/e1"; fail "the malformed queue's line does not name the disk $dpath"; }
[ "$lines" -le 20 ] || { show "$WORK/e1"; fail "torpor wrote $lines lines to stderr (at most 20)"; }
