#!/bin/sh
# linux-snapshot: with --on-suspend snapshot the guest is checkpointed and
# wakes at once in the same torpor process (its state checks pass, it powers
# off, exit 0). The image is then restored twice, each restore independent
# (--disk-overlay: the guest's writes to its disk stay private): both resume
# from the same suspend, and the image is the same afterwards.
# rig-timeout: 240
. "$RIG_LIB"

# On its ext4 root disk (virtio-blk), as every real VM is.
use_root_disk "$WORK/root.ext4"
export TMPDIR=$WORK
img=$WORK/snap.torpor
hibernate_guest suspend 1 "$img" "" "--on-suspend snapshot"
stderr_info 'snapshot to'
grep -q '^GUEST-RESUMED 1' "$WORK/console" || { show "$WORK/console"; show "$WORK/stderr"; fail "snapshot: guest did not carry on"; }
expect_guest_ok "counter 1" "sha256 1" "clock 1" "pm-exit 1"
expect_rc 0 "snapshot run"
[ -s "$img" ] || fail "no image written"
sum=$(sha256sum "$img" | cut -d' ' -f1)

for n in 1 2; do
	restore_guest "$img" --disk-overlay
	grep -q '^GUEST-RESUMED 1' "$WORK/console" || { show "$WORK/console"; show "$WORK/stderr"; fail "restore $n: no resume"; }
	expect_guest_ok "counter 1" "sha256 1" "clock 1"
	expect_rc 0 "restore $n"
	[ "$(sha256sum "$img" | cut -d' ' -f1)" = "$sum" ] || fail "restore $n changed the image"
done
