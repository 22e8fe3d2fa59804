#!/bin/sh
# linux-boot-2cpu: the Debian kernel boots under torpor with 2 vCPU(s) and
# the rig's guest initramfs: all CPUs online, deep sleep offered (PSCI
# SYSTEM_SUSPEND), the RTC tells the host's time and an alarm armed while the
# guest runs fires, console input arrives; the guest powers off and torpor
# exits 0.
# rig-timeout: 120
. "$RIG_LIB"

# On its ext4 root disk (virtio-blk), as every real VM is.
use_root_disk "$WORK/root.ext4"
boot_guest boot 2
guest_times
expect_guest_ok cpus deep rtc alarm input
grep -q '^GUEST-DONE boot ' "$WORK/console" || { show "$WORK/console"; fail "guest did not finish"; }
[ $rc -eq 0 ] || { show "$WORK/stderr" 5; fail "torpor exit status $rc, want 0"; }
