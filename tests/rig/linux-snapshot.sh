#!/bin/sh
# linux-snapshot: with --on-suspend snapshot the guest is checkpointed and
# wakes at once in the same torpor process (its state checks pass, it powers
# off, exit 0). The image is then restored twice, each restore independent:
# both resume from the same suspend, and the image is the same afterwards.
# rig-timeout: 240
. "$RIG_LIB"

img=$WORK/snap.torpor
hibernate_guest suspend 1 "$img" "" "--on-suspend snapshot"
stderr_info 'snapshot to'
grep -q '^GUEST-RESUMED 1' "$WORK/console" || { show "$WORK/console"; show "$WORK/stderr"; fail "snapshot: guest did not carry on"; }
expect_guest_ok "counter 1" "sha256 1" "clock 1" "pm-exit 1"
expect_rc 0 "snapshot run"
[ -s "$img" ] || fail "no image written"
sum=$(sha256sum "$img" | cut -d' ' -f1)

for n in 1 2; do
	# Later suspends of the restored guest would go elsewhere; this one
	# only suspends once, so the image must stay as it is.
	restore_guest "$img" --image "$WORK/next-$n.torpor"
	grep -q '^GUEST-RESUMED 1' "$WORK/console" || { show "$WORK/console"; show "$WORK/stderr"; fail "restore $n: no resume"; }
	expect_guest_ok "counter 1" "sha256 1" "clock 1"
	expect_rc 0 "restore $n"
	[ "$(sha256sum "$img" | cut -d' ' -f1)" = "$sum" ] || fail "restore $n changed the image"
done
