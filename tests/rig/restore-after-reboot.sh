#!/bin/sh
# restore-after-reboot: second half of "restore on another machine": after
# the rig's host rebooted (a new boot id), the image reboot-hibernate left on
# the rig disk is read back, checked, and restored; the guest resumes with
# its state intact, both CPUs online, its clock right, and powers off.
# rig-after-reboot: yes
# rig-timeout: 180
. "$RIG_LIB"

[ -n "${RIG_DISK:-}" ] || fail "no rig disk"
set -- $(dd if="$RIG_DISK" bs=4096 count=1 2>/dev/null | head -n 1)
[ "$1" = torpor-rig-image ] || fail "no image on the rig disk (did reboot-hibernate run?)"
size=$2 sum=$3 boot=$4
[ "$boot" != "$(cat /proc/sys/kernel/random/boot_id)" ] || fail "same boot: the host did not reboot"
img=$WORK/vm.torpor
dd if="$RIG_DISK" bs=4096 skip=1 2>/dev/null | head -c "$size" >"$img"
[ "$(sha256sum "$img" | cut -d' ' -f1)" = "$sum" ] || fail "the image changed on the disk"
restore_guest "$img"
stderr_info 'restored '
grep -q '^GUEST-RESUMED 1' "$WORK/console" || { show "$WORK/console"; show "$WORK/stderr"; fail "guest did not resume (exit $rc)"; }
expect_guest_ok "counter 1" "sha256 1" "resume 1 cpus" "clock 1" "pm-exit 1"
expect_rc 0 "restored guest"
