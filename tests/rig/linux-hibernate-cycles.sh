#!/bin/sh
# linux-hibernate-cycles: one Linux guest goes through ten hibernate/restore
# cycles, each restore in a new torpor process writing the next image over
# the last; after every wakeup its counter continues, its blob checksum
# holds and its clock is right; after the tenth it powers off.
# rig-timeout: 420
. "$RIG_LIB"

# On its ext4 root disk (virtio-blk), as every real VM is.
use_root_disk "$WORK/root.ext4"
img=$WORK/vm.torpor
hibernate_guest suspend-loop 1 "$img" "torpor.cycles=10"
expect_rc 7 "first hibernate"
i=1
while [ $i -le 10 ]; do
	restore_guest "$img"
	grep -q "^GUEST-RESUMED $i\$" "$WORK/console" || { show "$WORK/console"; show "$WORK/stderr"; fail "cycle $i: guest did not resume (exit $rc)"; }
	expect_guest_ok "counter $i" "sha256 $i" "clock $i" "pm-exit $i"
	if [ $i -lt 10 ]; then expect_rc 7 "cycle $i"; else expect_rc 0 "last cycle"; fi
	i=$((i + 1))
done
stderr_info 'restored '
