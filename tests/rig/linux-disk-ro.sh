#!/bin/sh
# linux-disk-ro: two disks, the root (/dev/vda) and a read-only copy of it
# (/dev/vdb, --disk PATH,readonly,serial=ro): the guest sees vdb read-only
# (/sys/block/vdb/ro = 1), a write to it fails, its ext4 mounts read-only;
# the read-only disk's file is byte for byte unchanged afterwards, and the
# root disk is clean.
# rig-timeout: 150
. "$RIG_LIB"

use_root_disk "$WORK/root.ext4"
cp "$GUEST_ROOTFS" "$WORK/ro.ext4" || fail "copy"
DISKS="$DISKS $WORK/ro.ext4,readonly,serial=ro"
boot_guest disk-ro 1
expect_guest_ok root "ro vdb" "ro-write vdb" "ro-mount vdb"
expect_rc 0 "disk-ro"
cmp -s "$GUEST_ROOTFS" "$WORK/ro.ext4" || fail "the read-only disk changed"
fsck_disk "$WORK/root.ext4"
