#!/bin/sh
# lpa2-guest-refusal: Debian 13's kernel (6.12) as the guest walks its page
# tables from level -1 (FEAT_LPA2: 52-bit addresses with 4K pages). Restored
# on a host before Linux 6.9, the guest's first walk takes a stage-2 fault
# reported at level -1 ("Unsupported FSC ... xFSC=0x2b" there), and KVM_RUN
# fails with EFAULT: torpor must refuse such an image before any VM runs
# (exit 5, one line naming the level and this host's kernel). On a newer
# host the same image restores and the guest passes its checks.
# rig-guest-kernels: trixie
# rig-timeout: 240
. "$RIG_LIB"

use_guest_kernel trixie
img=$WORK/vm.torpor
hibernate_guest suspend 1 "$img"
expect_rc 7 "hibernate"
release=$(uname -r)
if release_lt "$release" 6.9; then
	restore_guest "$img"
	expect_rc 5 "restore on $release"
	[ "$(wc -l <"$WORK/stderr")" -eq 1 ] || { show "$WORK/stderr"; fail "not one line"; }
	grep -q 'from level -1 .*Linux '"$release" "$WORK/stderr" || { show "$WORK/stderr"; fail "the refusal does not say why"; }
	echo "rig-info: host $release: refused: $(sed 's/^torpor: //' "$WORK/stderr")"
else
	restore_guest "$img"
	grep -q '^GUEST-RESUMED 1' "$WORK/console" || { show "$WORK/console"; show "$WORK/stderr"; fail "guest did not resume (exit $rc)"; }
	expect_guest_ok "counter 1" "sha256 1" "resume 1 cpus" "clock 1" "pm-exit 1"
	expect_rc 0 "restored guest"
	echo "rig-info: host $release: the LPA2 guest restores and resumes"
fi
