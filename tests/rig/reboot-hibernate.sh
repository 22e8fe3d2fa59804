#!/bin/sh
# reboot-hibernate: first half of "restore on another machine". A Linux guest
# with 2 vCPUs is hibernated and its image written to slot 0 of the rig disk
# (disk_put: with its size, its sha256 and this boot's id);
# restore-after-reboot restores it after the host has rebooted.
# rig-timeout: 180
. "$RIG_LIB"

img=$WORK/vm.torpor
hibernate_guest suspend 2 "$img"
expect_rc 7 "hibernate"
stderr_info hibernated
disk_put "$img" 0
echo "rig-info: $(wc -c <"$img") bytes written to $RIG_DISK"
