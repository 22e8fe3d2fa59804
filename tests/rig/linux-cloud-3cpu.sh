#!/bin/sh
# linux-cloud-3cpu: Debian 12's cloud kernel as the guest (3 vCPUs, 768 MiB).
# It has no gpio-keys driver, so it cannot arm torpor's wake button; it
# enables wakeup on its serial port and suspends; torpor hibernates it (exit
# 7). A plain, unattended restore (no flags, stdin /dev/null: no byte will
# ever reach the serial port) must still resume it by completing the PSCI
# resume itself ("without a wake interrupt"), not wait forever for a wake
# source; the guest's state checks pass and it powers off (exit 0). The
# restore is bounded (60 s) so that a restore that waits fails, not hangs.
# rig-guest-kernels: bookworm-cloud
# rig-timeout: 240
. "$RIG_LIB"

# On its ext4 root disk (virtio-blk), as every real VM is.
use_root_disk "$WORK/root.ext4"
use_guest_kernel bookworm-cloud
img=$WORK/vm.torpor
# shellcheck disable=SC2046
timeout 120 "$TORPOR" run --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
	--cpus 3 --memory 768M --image "$img" $(disk_args) --cmdline "$(guest_cmdline suspend 3)" \
	</dev/null >"$WORK/console.raw" 2>"$WORK/stderr"
rc=$?
tr -d '\r' <"$WORK/console.raw" >"$WORK/console"
expect_rc 7 "hibernate"
grep -q '^GUEST-SUSPENDING 1' "$WORK/console" || { show "$WORK/console"; fail "guest did not suspend"; }
grep -q '^GUEST-FAIL' "$WORK/console" && { show "$WORK/console"; fail "guest checks before the suspend"; }
stderr_info hibernated

timeout 60 "$TORPOR" restore "$img" </dev/null >"$WORK/console.raw" 2>"$WORK/stderr"
rc=$?
tr -d '\r' <"$WORK/console.raw" >"$WORK/console"
# busybox timeout sends SIGTERM to torpor itself, which then exits with 143.
if [ $rc -eq 124 ] || [ $rc -eq 143 ]; then
	show "$WORK/stderr" 5
	fail "restore still waiting after 60 s (the guest was not resumed)"
fi
grep -q 'without a wake interrupt' "$WORK/stderr" || { show "$WORK/stderr"; fail "restore did not say it resumed the guest itself"; }
stderr_info 'restored '
stderr_info 'without a wake interrupt'
grep -q '^GUEST-RESUMED 1' "$WORK/console" || { show "$WORK/console"; show "$WORK/stderr"; fail "guest did not resume (restore exit $rc)"; }
expect_guest_ok "counter 1" "sha256 1" "resume 1 cpus" "clock 1" "pm-exit 1"
expect_rc 0 "restored guest"
