#!/bin/sh
# checkpoint-enospc: the image's directory is a full filesystem. The
# checkpoint fails, the guest's suspend call returns an error and the guest
# keeps running (it then powers off: exit 0); torpor reports the failure; the
# file that was at the image path is intact and no temporary file is left.
# rig-timeout: 180
. "$RIG_LIB"

dir=$WORK/small
mkdir -p "$dir"
mount -t tmpfs -o size=2m tmpfs "$dir" || fail "cannot mount a small tmpfs"
trap 'umount "$dir"' EXIT
echo "an older image" >"$dir/vm.torpor"
hibernate_guest suspend 1 "$dir/vm.torpor"
grep -q 'checkpoint failed, the guest keeps running' "$WORK/stderr" ||
	{ show "$WORK/stderr"; fail "no checkpoint failure reported"; }
stderr_info 'checkpoint failed'
grep -q '^GUEST-FAIL suspend 1: write to /sys/power/state failed' "$WORK/console" ||
	{ show "$WORK/console"; fail "the guest's suspend did not fail"; }
grep -q '^GUEST-DONE ' "$WORK/console" || { show "$WORK/console"; fail "guest did not carry on"; }
expect_rc 0 "guest powered off"
[ "$(cat "$dir/vm.torpor")" = "an older image" ] || fail "the existing file was damaged"
[ "$(ls -A "$dir" | wc -l)" -eq 1 ] || { ls -la "$dir" >&2; fail "files left behind"; }
