#!/bin/sh
# linux-disk-boot: the Debian guest (1 vCPU) boots from an ext4 root disk
# (torpor --disk, virtio-blk over virtio-mmio): its initramfs loads the
# drivers, mounts /dev/vda and switch_roots to it; there the usual boot
# checks pass (CPUs, deep sleep, RTC, alarm, console input) and a file is
# written, fsynced and read back from the disk; the guest leaves its file
# system clean (e2fsck -fn finds nothing) and torpor exits 0.
# rig-timeout: 150
. "$RIG_LIB"

use_root_disk "$WORK/root.ext4"
boot_guest boot 1
guest_times
expect_guest_ok cpus deep rtc alarm input
grep -q '^GUEST-DONE boot ' "$WORK/console" || { show "$WORK/console"; fail "guest did not finish"; }
expect_rc 0 "guest on the root disk"
fsck_disk "$WORK/root.ext4"
boot_guest disk-boot 1
expect_guest_ok root cpus disk-write
expect_rc 0 "disk-boot"
fsck_disk "$WORK/root.ext4"
