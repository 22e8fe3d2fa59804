#!/bin/sh
# restore-after-reboot: second half of "restore on another machine": after
# the rig's host rebooted (a new boot id), the image reboot-hibernate left on
# the rig disk is read back, checked, and restored; the guest resumes with
# its state intact, both CPUs online, its clock right, and powers off.
# rig-after-reboot: yes
# rig-timeout: 180
. "$RIG_LIB"

img=$WORK/vm.torpor
disk_get "$img" 0
[ "$disk_boot" != "$(cat /proc/sys/kernel/random/boot_id)" ] || fail "same boot: the host did not reboot"
restore_guest "$img"
stderr_info 'restored '
grep -q '^GUEST-RESUMED 1' "$WORK/console" || { show "$WORK/console"; show "$WORK/stderr"; fail "guest did not resume (exit $rc)"; }
expect_guest_ok "counter 1" "sha256 1" "resume 1 cpus" "clock 1" "pm-exit 1"
expect_rc 0 "restored guest"
