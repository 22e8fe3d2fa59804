#!/bin/sh
# baremetal-smp: smp.bin on 4 vCPUs starts each secondary with PSCI CPU_ON;
# each programs its own redistributor, reports and calls CPU_OFF; vCPU 0
# waits until AFFINITY_INFO says OFF and suspends: exit 7, and the image
# holds vCPU 0 suspended and vCPUs 1-3 stopped. Restored, vCPU 0 finds every
# redistributor's state in its own frame, starts the secondaries again, each
# finds its redistributor intact and reports ("cpu N back", "smp ok").
# Then vCPU 0 powers itself off and vCPU 1 suspends: the restore exits 7 with
# a second image (vCPU 1 suspended, the others stopped, resume on vCPU 1);
# restored from that, vCPU 1 resumes at its entry point, starts vCPU 0, and
# the guest powers off cleanly: exit 0.
# Last, a fresh `run --on-suspend snapshot` lives through both suspends:
# vCPU 1 was created powered off, so its PSCI reset must repeat exactly that
# first KVM_ARM_VCPU_INIT (before Linux 6.5 other features are EINVAL).
# rig-timeout: 120
. "$RIG_LIB"

img=$WORK/smp.torpor
timeout 30 "$TORPOR" run --kernel "$GUESTS/smp.bin" --memory 64M --cpus 4 --image "$img" \
	</dev/null >"$WORK/c1" 2>"$WORK/e1"
rc=$?
tr -d '\r' <"$WORK/c1" >"$WORK/out1"
[ $rc -eq 7 ] || { show "$WORK/out1"; show "$WORK/e1"; fail "run: exit $rc, want 7 (hibernated)"; }
grep -qx 'secondaries off' "$WORK/out1" || { show "$WORK/out1"; fail "guest did not report its secondaries off"; }

# check_image IMAGE CALLER STATES: inspect --json shows the mp_states
# STATES (in vCPU order) and a PSCI resume on vCPU CALLER.
check_image() {
	timeout 20 "$TORPOR" inspect --json "$1" >"$WORK/json" 2>"$WORK/ej" ||
		{ show "$WORK/ej"; fail "inspect --json $1 failed"; }
	states=$(grep -o '"mp_state_name":"[a-z]*"' "$WORK/json" | cut -d'"' -f4 | tr '\n' ' ')
	[ "$states" = "$3 " ] || fail "$1: mp_states $states(want $3)"
	grep -q "\"psci_resume\":{\"vcpu\":$2," "$WORK/json" || fail "$1: resume is not on vCPU $2"
}
check_image "$img" 0 "suspended stopped stopped stopped"

# expect_out N WANT...: every WANT line is in restore N's console.
expect_out() {
	n=$1
	shift
	for want; do
		grep -qx "$want" "$WORK/out$n" ||
			{ show "$WORK/out$n"; show "$WORK/e$n" 5; fail "restore $n: no \"$want\" (exit $rc)"; }
	done
}
img2=$WORK/smp2.torpor
timeout 30 "$TORPOR" restore --force-wake --image "$img2" "$img" </dev/null >"$WORK/c2" 2>"$WORK/e2"
rc=$?
tr -d '\r' <"$WORK/c2" >"$WORK/out2"
expect_out 2 'cpu 1 back' 'cpu 2 back' 'cpu 3 back' 'smp ok'
[ $rc -eq 7 ] || { show "$WORK/out2"; show "$WORK/e2" 5; fail "restore 2: exit $rc, want 7 (vCPU 1 hibernated)"; }
check_image "$img2" 1 "stopped suspended stopped stopped"

timeout 30 "$TORPOR" restore --force-wake "$img2" </dev/null >"$WORK/c3" 2>"$WORK/e3"
rc=$?
tr -d '\r' <"$WORK/c3" >"$WORK/out3"
expect_out 3 'cpu 1 resumed' 'cpu 0 back'
[ $rc -eq 0 ] || { show "$WORK/e3" 5; fail "restore 3: exit $rc, want 0"; }

timeout 30 "$TORPOR" run --kernel "$GUESTS/smp.bin" --memory 64M --cpus 4 \
	--image "$WORK/snap.torpor" --on-suspend snapshot </dev/null >"$WORK/c4" 2>"$WORK/e4"
rc=$?
tr -d '\r' <"$WORK/c4" >"$WORK/out4"
expect_out 4 'secondaries off' 'smp ok' 'cpu 1 resumed' 'cpu 0 back'
[ "$(grep -c 'snapshot to ' "$WORK/e4")" -eq 2 ] || { show "$WORK/e4" 5; fail "run 4: want two snapshots"; }
[ $rc -eq 0 ] || { show "$WORK/e4" 5; fail "run 4 (snapshot, resume on vCPU 1): exit $rc, want 0"; }
check_image "$WORK/snap.torpor" 1 "stopped suspended stopped stopped"
