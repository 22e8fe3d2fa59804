#!/bin/sh
# checkpoint-quit: Ctrl-A x typed on torpor's console (a pseudo-terminal,
# driven by the ptyrun tool) while it writes the checkpoint of a suspending
# Linux guest: the image it is writing decides, so torpor ends with 7
# (hibernated), not 0, and the image is complete: a restore resumes the guest
# with its state intact and it powers off (exit 0). A 0 would tell a script
# the guest had powered off, and the image would be left unused.
# rig-timeout: 200
. "$RIG_LIB"

dir=$WORK/img
mkdir -p "$dir"
img=$dir/vm.torpor
timeout 120 "$(dirname "$TORPOR")/ptyrun" --when-exists "$dir/.vm.torpor.*.tmp" -- \
	"$TORPOR" run --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --memory 256M \
	--image "$img" --cmdline "$(guest_cmdline suspend 1 torpor.fill=16)" \
	>"$WORK/console.raw" 2>"$WORK/stderr"
rc=$?
tr -d '\r' <"$WORK/console.raw" >"$WORK/console"
grep -q '^ptyrun: typed Ctrl-A x' "$WORK/stderr" || { show "$WORK/stderr"; fail "Ctrl-A x was not typed"; }
expect_rc 7 "Ctrl-A x during the checkpoint"
grep -q '^GUEST-SUSPENDING 1' "$WORK/console" || { show "$WORK/console"; fail "guest did not suspend"; }
[ "$(ls -A "$dir")" = vm.torpor ] || { ls -la "$dir" >&2; fail "files left behind"; }
stderr_info hibernated
restore_guest "$img"
grep -q '^GUEST-RESUMED 1' "$WORK/console" || { show "$WORK/console"; show "$WORK/stderr"; fail "guest did not resume (restore exit $rc)"; }
expect_guest_ok "counter 1" "sha256 1" "resume 1 cpus" "clock 1" "pm-exit 1"
expect_rc 0 "restored guest"
