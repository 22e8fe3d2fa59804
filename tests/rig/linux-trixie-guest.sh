#!/bin/sh
# linux-trixie-guest: Debian 13's generic kernel (6.12) as the guest, 1 vCPU:
# it suspends, torpor hibernates it (exit 7), a new torpor restores it and
# presses the wake button; the guest's state checks pass (counter, blob,
# CPUs, clock, "PM: suspend exit") and it powers off (exit 0). The other
# scenarios run Debian 12's 6.1 guest; this one keeps a current kernel
# working.
# On hosts older than Linux 6.9 the restore must be refused instead, before
# any VM runs (exit 5, one line giving the level and the host's kernel):
# this guest walks its page tables from level -1 (FEAT_LPA2, 52-bit
# addresses with 4 KiB pages), and a restored VM's first walk takes a
# stage-2 fault reported at level -1, which those KVMs reject ("Unsupported
# FSC: EC=0x20 xFSC=0x2b"; KVM_RUN fails with EFAULT, seen on the rig's 6.1
# host). As far as we know KVM takes it as a translation fault since
# Linux's LPA2 support (6.9); only 6.1 (refused) and 6.12 (restores) were
# tried.
# rig-guest-kernels: trixie
# rig-timeout: 240
. "$RIG_LIB"

# On its ext4 root disk (virtio-blk), as every real VM is.
use_root_disk "$WORK/root.ext4"
use_guest_kernel trixie
release=$(uname -r)
if release_lt "$release" 6.9; then
	img=$WORK/vm.torpor
	hibernate_guest suspend 1 "$img"
	expect_rc 7 "hibernate"
	restore_guest "$img"
	expect_rc 5 "restore on $release"
	[ "$(wc -l <"$WORK/stderr")" -eq 1 ] || { show "$WORK/stderr"; fail "not one line"; }
	grep -q "from level -1 .*Linux $release" "$WORK/stderr" || { show "$WORK/stderr"; fail "the refusal does not say why"; }
	echo "rig-info: host $release: refused: $(sed 's/^torpor: //' "$WORK/stderr")"
else
	hibernate_roundtrip 1
fi
