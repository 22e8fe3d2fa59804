#!/bin/sh
# reboot-disk-hibernate: first half of "a VM on its own disk restored on
# another machine". A Linux guest on its ext4 root disk hibernates
# (disk-suspend: a file written before, a writer running across); the image
# and the disk, packed with tar (which keeps the disk's mtime to the
# second), go to slot 2 of the rig disk; restore-disk-after-reboot restores
# them after the host has rebooted.
# rig-timeout: 240
. "$RIG_LIB"

use_root_disk "$WORK/root.ext4"
hibernate_guest disk-suspend 1 "$WORK/vm.torpor"
expect_rc 7 "hibernate"
stderr_info hibernated
(cd "$WORK" && tar -cf pack.tar vm.torpor root.ext4) || fail "tar"
disk_put "$WORK/pack.tar" 2
echo "rig-info: $(wc -c <"$WORK/pack.tar") bytes (image and disk) written to $RIG_DISK"
