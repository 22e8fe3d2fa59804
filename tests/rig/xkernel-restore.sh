#!/bin/sh
# xkernel-restore: second half of "restore on another host kernel": the host
# rebooted on the other kernel, and the image xkernel-hibernate left is
# restored here.
# - From an older kernel (an upgrade, 6.1 -> 6.12): it restores. Where this
#   KVM offers more in an ID register field than the image's and cannot set
#   it lower, torpor keeps this host's value and says so (the guest loses
#   nothing); the guest resumes, its checks pass, it powers off.
# - From a newer kernel (6.12 -> 6.1): refused before any VM runs, exit 5,
#   one line naming the first register of the image this KVM does not have;
#   which one that is, is worked out here from a fresh image of this host.
# rig-next-host: other
# rig-timeout: 240
. "$RIG_LIB"

img=$WORK/vm.torpor
disk_get "$img" 1
[ "$disk_boot" != "$(cat /proc/sys/kernel/random/boot_id)" ] || fail "same boot: the host did not reboot"
from=$disk_kernel to=$(uname -r)
[ "$from" != "$to" ] || fail "the image comes from this same kernel ($to): nothing crosses"
regs="$(dirname "$TORPOR")/image-regs"
if release_lt "$from" "$to"; then
	restore_guest "$img"
	grep -q '^GUEST-RESUMED 1' "$WORK/console" || { show "$WORK/console"; show "$WORK/stderr"; fail "$from -> $to: guest did not resume (exit $rc)"; }
	expect_guest_ok "counter 1" "sha256 1" "resume 1 cpus" "clock 1" "pm-exit 1"
	expect_rc 0 "$from -> $to: restored guest"
	echo "rig-info: $from -> $to: restored, the guest resumed and passed its checks"
	grep 'keeps this host' "$WORK/stderr" | sed 's/^torpor: /rig-info:   /'
	sed -n 's/^GUEST-NOTE /rig-info:   guest: /p' "$WORK/console"
else
	# This host's register list, from an image of its own.
	hibernate_guest suspend 1 "$WORK/here.torpor"
	expect_rc 7 "hibernate on $to"
	"$regs" "$WORK/here.torpor" | cut -d' ' -f1 >"$WORK/here.ids"
	first=$("$regs" "$img" | cut -d' ' -f1 | grep -vxF -f "$WORK/here.ids" | head -n 1)
	[ -n "$first" ] || fail "the image of $from has no register $to lacks"
	restore_guest "$img"
	expect_rc 5 "$from -> $to: restore"
	[ "$(wc -l <"$WORK/stderr")" -eq 1 ] || { show "$WORK/stderr"; fail "$from -> $to: not one line"; }
	grep -q "register $first in the image is unknown" "$WORK/stderr" ||
		{ show "$WORK/stderr"; fail "$from -> $to: the refusal does not name $first, the first register $to lacks"; }
	echo "rig-info: $from -> $to: refused: $(sed 's/^torpor: //' "$WORK/stderr")"
	echo "rig-info:   $("$regs" "$img" | cut -d' ' -f1 | grep -cvxF -f "$WORK/here.ids") registers of the image are not on $to"
fi
