#!/bin/sh
# linux-disk-hibernate: a guest on its ext4 root disk (1 vCPU) writes and
# syncs a file, starts a writer appending numbered lines (fsync every 5),
# suspends; torpor hibernates it (exit 7) with the disk named in the image;
# a new torpor restores it: the file reads back intact from the disk (page
# cache dropped), the writer went on without a gap, the usual state checks
# pass, the guest remounts / read-only and powers off (exit 0). e2fsck -fn
# then finds the disk clean, and a fresh boot on the same disk reads the
# file and the lines back (disk-read).
# rig-timeout: 300
. "$RIG_LIB"

disk=$WORK/root.ext4
use_root_disk "$disk"
img=$WORK/vm.torpor
hibernate_guest disk-suspend 1 "$img"
expect_rc 7 "hibernate"
grep -q '^GUEST-SUSPENDING 1' "$WORK/console" || { show "$WORK/console"; fail "guest did not suspend"; }
grep -q '^GUEST-FAIL' "$WORK/console" && { show "$WORK/console"; fail "guest checks before the suspend"; }
stderr_info hibernated
stderr_info flushed
restore_guest "$img"
stderr_info 'restored '
grep -q '^GUEST-RESUMED 1' "$WORK/console" || { show "$WORK/console"; show "$WORK/stderr"; fail "guest did not resume (restore exit $rc)"; }
expect_guest_ok "counter 1" "sha256 1" "resume 1 cpus" "clock 1" "pm-exit 1" "disk-file 1" "disk-writer 1"
expect_rc 0 "restored guest"
fsck_disk "$disk"
boot_guest disk-read 1
expect_guest_ok root disk-file disk-lines
expect_rc 0 "disk-read"
fsck_disk "$disk"
