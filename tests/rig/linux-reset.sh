#!/bin/sh
# linux-reset: a Linux guest that reboots (PSCI SYSTEM_RESET) is not
# restarted: torpor exits 6.
# rig-timeout: 90
. "$RIG_LIB"

timeout 60 "$TORPOR" run --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
	--cmdline "$(guest_cmdline reset 1)" </dev/null >"$WORK/console" 2>"$WORK/stderr"
rc=$?
grep -q '^GUEST-DONE reset' "$WORK/console" || { show "$WORK/console"; fail "guest did not reach its reboot"; }
[ $rc -eq 6 ] || { show "$WORK/stderr" 5; fail "torpor exit status $rc, want 6 (guest reset)"; }
