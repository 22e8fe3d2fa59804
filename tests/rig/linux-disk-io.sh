#!/bin/sh
# linux-disk-io: the disk figures, printed and never judged (only a broken
# run fails: a missing figure, a failed check, a wrong exit status).
# blkbench (tests/tools) runs on a scratch file first on the rig's host,
# then inside a guest (1 vCPU, on its root disk) on the same file as its
# second disk, /dev/vdb: sequential 1 MiB writes (+ fdatasync) and reads,
# random 4 KiB reads; each figure comes out as guest, host and guest/host.
# The guest then suspends and torpor hibernates it: the checkpoint's time
# on the disks (quiesce + fdatasync, its "disks finished and flushed" line)
# beside the rest of it (the RAM image); a restore lets the guest check
# its state and power off.
#
# What is compared: the guest uses O_DIRECT, so that its own page cache
# does not answer for the disk, and each request reaches torpor, which
# serves it with buffered preadv/pwritev on the file; the host side runs
# blkbench -b, buffered: the same calls on the same file, without the
# virtio-blk path in between. The ratio is the cost of that path. In the
# rig the file is on tmpfs (the host's /tmp is RAM), so both sides' I/O is
# memory copies and fdatasync does nothing: the ratios show the request
# path's overhead, not a disk's, and the checkpoint's disk part is what
# quiescing and flushing cost with nothing left to write (the guest's own
# suspend syncs what it dirtied before it calls torpor).
# rig-timeout: 180
. "$RIG_LIB"

mib=32
bench=$(dirname "$TORPOR")/blkbench
scratch=$WORK/scratch.raw
# Written in full before either side runs: neither pays for the file
# system allocating pages the other then finds.
dd if=/dev/zero of="$scratch" bs=1M count=$mib 2>/dev/null || fail "creating $scratch"
"$bench" -b "$scratch" $mib >"$WORK/host.out" 2>&1 || {
	show "$WORK/host.out"
	fail "blkbench on the host"
}

use_root_disk "$WORK/root.ext4"
DISKS="$DISKS $scratch"
hibernate_guest disk-bench 1 "$WORK/vm.torpor" "torpor.bench_mib=$mib"
expect_rc 7 "hibernate"
grep -q '^GUEST-SUSPENDING 1' "$WORK/console" || { show "$WORK/console"; fail "guest did not suspend"; }
expect_guest_ok root bench

# figure NAME FILE: "MB/s IOPS" of blkbench's test NAME in FILE.
figure() {
	awk -v n="$1" '$1 == "blkbench" && $2 == n { print $3, $4; exit }' "$2"
}

fs=$(stat -f -c %T "$WORK" 2>/dev/null)
echo "rig-info: $mib MiB scratch file on ${fs:-?}; host: blkbench -b (buffered)," \
	"guest: blkbench on /dev/vdb (O_DIRECT, served buffered by torpor)"
for t in seq-write-1M seq-read-1M rand-read-4K; do
	g=$(figure $t "$WORK/console")
	h=$(figure $t "$WORK/host.out")
	[ -n "$g" ] || { show "$WORK/console"; fail "no $t figure from the guest"; }
	[ -n "$h" ] || { show "$WORK/host.out"; fail "no $t figure from the host"; }
	# Random reads are counted in IOPS, the sequential tests in MB/s.
	echo "$t $g $h" | awk '{
		if ($1 ~ /^rand/) { g = $3; h = $5; u = "IOPS" } else { g = $2; h = $4; u = "MB/s" }
		printf "rig-info: %-13s guest %9.1f %s, host %9.1f %s, guest/host %.3g\n", $1, g, u, h, u, (h > 0 ? g / h : 0)
	}'
done

# The checkpoint's log lines (torpor's stderr): disks, then the whole.
disks=$(sed -n 's/.*disks* finished and flushed in \([0-9.]*\) s.*/\1/p' "$WORK/stderr")
total=$(sed -n 's/.*hibernated to .* checkpoint \([0-9.]*\) s.*/\1/p' "$WORK/stderr")
if [ -z "$disks" ] || [ -z "$total" ]; then
	show "$WORK/stderr"
	fail "no checkpoint times on torpor's stderr"
fi
stderr_info hibernated
echo "$disks $total" | awk '{
	printf "rig-info: checkpoint %.3f s: disks (quiesce + fdatasync) %.3f s, the rest (RAM image) %.3f s\n", $2, $1, $2 - $1
}'

restore_guest "$WORK/vm.torpor"
grep -q '^GUEST-RESUMED 1' "$WORK/console" || { show "$WORK/console"; show "$WORK/stderr"; fail "guest did not resume (restore exit $rc)"; }
expect_guest_ok "counter 1" "sha256 1" "resume 1 cpus" "clock 1" "pm-exit 1"
expect_rc 0 "restored guest"
