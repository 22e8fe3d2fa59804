#!/bin/sh
# restore-disk-after-reboot: second half of reboot-disk-hibernate: after the
# host rebooted, the image and its disk are unpacked from the rig disk into
# another directory, and `restore --disk` resumes the guest on the disk
# there: the file written before the hibernate is intact, the writer goes
# on without a gap, the guest powers off and its disk is clean.
# rig-after-reboot: yes
# rig-timeout: 240
. "$RIG_LIB"

disk_get "$WORK/pack.tar" 2
[ "$disk_boot" != "$(cat /proc/sys/kernel/random/boot_id)" ] || fail "same boot: the host did not reboot"
(cd "$WORK" && tar -xf pack.tar) || fail "tar"
restore_guest "$WORK/vm.torpor" --disk "$WORK/root.ext4"
stderr_info 'restored '
grep -q '^GUEST-RESUMED 1' "$WORK/console" || { show "$WORK/console"; show "$WORK/stderr"; fail "guest did not resume (exit $rc)"; }
expect_guest_ok "counter 1" "sha256 1" "resume 1 cpus" "clock 1" "pm-exit 1" "disk-file 1" "disk-writer 1"
expect_rc 0 "restored guest"
fsck_disk "$WORK/root.ext4"
