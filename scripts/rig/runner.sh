#!/bin/sh
# runner.sh - run rig scenarios and report each as a machine-readable line.
#
# Usage: runner.sh [SCENARIO...]       (no names: every tests/*.sh of the rig)
#
# Runs inside the rig's outer host (or directly on an arm64 host with KVM).
# The rig tree is the directory above this script: torpor, Image and
# guest.cpio (the default guest kernel and its initramfs), kernels/K/ (every
# guest kernel K shipped, each with its initramfs), rootfs.ext4 (the guests'
# root disk), e2fsprogs/ (e2fsck), guests/*.bin, tests/*.sh.
# Each scenario runs in its own session with the environment TORPOR,
# GUEST_KERNEL, GUEST_INITRD, GUEST_KERNELS (the kernels/ directory),
# GUEST_ROOTFS (rootfs.ext4, the guests' root disk: copy it), GUESTS,
# WORK (fresh scratch dir under $WORK_ROOT) and RIG_LIB (helpers), under the
# timeout given by its "# rig-timeout: SECONDS" line (default 60;
# RIG_SCENARIO_TIMEOUT replaces it). It passes iff it exits 0. A scenario
# also gets RIG_SCENARIO (its name) and RIG_PROGRESS_FD, a descriptor on the
# runner's output: what it writes there is shown at once, not when it ends
# (for the long soak).
# RIG_OWN_HOST=1 (set by the rig's /init) allows dropping page caches and
# kernel messages between scenarios and shows the latter on failure.
#
# Output: RIG-START <uptime> <host kernel release>, then per scenario
#   RIG-RESULT <name> PASS|FAIL|TIMEOUT <seconds> <host kernel release>
#   RIG-INFO <name>| <line>     (its "rig-info: " lines)
#   RIG-LOG <name>| <line>      (its last output lines, on failure only)
# and finally RIG-END.
RIG_DIR=$(cd "$(dirname "$0")" && pwd)
WORK_ROOT=${WORK_ROOT:-/tmp/rig}
export TORPOR="$RIG_DIR/torpor" GUEST_KERNEL="$RIG_DIR/Image" \
	GUEST_INITRD="$RIG_DIR/guest.cpio" GUEST_KERNELS="$RIG_DIR/kernels" \
	GUEST_ROOTFS="$RIG_DIR/rootfs.ext4" \
	GUESTS="$RIG_DIR/guests" RIG_LIB="$RIG_DIR/lib.sh"
# The kernel this runs on (the rig's outer host, or the arm64 machine).
release=$(uname -r)

# now_cs and secs_cs (the clock of the figures) are the scenarios' own.
. "$RIG_LIB"

# run_one NAME: runs tests/NAME.sh under its timeout, prints its result line.
run_one() {
	name=$1 script="$RIG_DIR/tests/$1.sh"
	work="$WORK_ROOT/$name"
	rm -rf "$work" && mkdir -p "$work" || return
	out="$WORK_ROOT/$name.out"
	if [ ! -f "$script" ]; then
		echo "no such scenario: $name" >"$out"
		status=FAIL
		elapsed=0
	else
		limit=$(sed -n 's/^# rig-timeout: *\([0-9][0-9]*\).*/\1/p' "$script" | head -n 1)
		limit=${RIG_SCENARIO_TIMEOUT:-${limit:-60}}
		# In the rig's own host, forget the previous scenario's page
		# cache (see notes/rig.md) and kernel messages; never on a real,
		# shared machine.
		if [ "${RIG_OWN_HOST:-}" = 1 ]; then
			sync
			echo 3 >/proc/sys/vm/drop_caches
			dmesg -c >/dev/null
		fi
		start=$(now_cs)
		# setsid: the scenario and everything it starts share one process
		# group, so the watchdog can end all of it.
		WORK="$work" RIG_SCENARIO="$name" RIG_PROGRESS_FD=8 \
			setsid sh "$script" 8>&1 </dev/null >"$out" 2>&1 &
		pid=$!
		setsid sh -c "sleep $limit; touch '$work.timeout'; kill -TERM -$pid;
			sleep 2; kill -KILL -$pid" >/dev/null 2>&1 &
		watchdog=$!
		wait $pid
		rc=$?
		kill -TERM -$watchdog 2>/dev/null
		elapsed=$(($(now_cs) - start))
		if [ -e "$work.timeout" ]; then
			status=TIMEOUT
			echo "(killed after $limit s)" >>"$out"
		elif [ $rc -eq 0 ]; then
			status=PASS
		else
			status=FAIL
			echo "(exit status $rc)" >>"$out"
		fi
		# The host kernel's word on it (a segfault's PC, a KVM warning).
		if [ "$status" != PASS ] && [ "${RIG_OWN_HOST:-}" = 1 ]; then
			dmesg | tail -n 8 | sed 's/^/dmesg: /' >>"$out"
		fi
	fi
	echo "RIG-RESULT $name $status $(secs_cs $elapsed) $release"
	grep '^rig-info: ' "$out" | tr -d '\r' | sed "s/^rig-info: /RIG-INFO $name| /"
	if [ "$status" != PASS ]; then
		tr -d '\r' <"$out" | tail -n 40 | sed "s/^/RIG-LOG $name| /"
	fi
	rm -rf "$work" "$work.timeout"
}

mkdir -p "$WORK_ROOT"
echo "RIG-START $(secs_cs $(now_cs)) $release"
if [ $# -eq 0 ]; then
	for f in "$RIG_DIR"/tests/*.sh; do
		n=${f##*/}
		set -- "$@" "${n%.sh}"
	done
fi
for name; do
	run_one "$name"
done
echo "RIG-END"
