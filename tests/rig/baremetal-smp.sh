#!/bin/sh
# baremetal-smp: smp.bin on 4 vCPUs starts each secondary with PSCI CPU_ON;
# each programs its own redistributor, reports and calls CPU_OFF; vCPU 0
# waits until AFFINITY_INFO says OFF and suspends: exit 7, and the image
# holds vCPU 0 suspended and vCPUs 1-3 stopped. Restored, vCPU 0 finds every
# redistributor's state in its own frame, starts the secondaries again, each
# finds its redistributor intact and reports ("cpu N back", "smp ok"), and
# the guest powers off cleanly: exit 0.
# rig-timeout: 90
. "$RIG_LIB"

img=$WORK/smp.torpor
timeout 30 "$TORPOR" run --kernel "$GUESTS/smp.bin" --memory 64M --cpus 4 --image "$img" \
	</dev/null >"$WORK/c1" 2>"$WORK/e1"
rc=$?
tr -d '\r' <"$WORK/c1" >"$WORK/out1"
[ $rc -eq 7 ] || { show "$WORK/out1"; show "$WORK/e1"; fail "run: exit $rc, want 7 (hibernated)"; }
grep -qx 'secondaries off' "$WORK/out1" || { show "$WORK/out1"; fail "guest did not report its secondaries off"; }

timeout 20 "$TORPOR" inspect --json "$img" >"$WORK/json" 2>"$WORK/e2" ||
	{ show "$WORK/e2"; fail "inspect --json failed"; }
states=$(grep -o '"mp_state_name":"[a-z]*"' "$WORK/json" | cut -d'"' -f4 | tr '\n' ' ')
[ "$states" = "suspended stopped stopped stopped " ] ||
	fail "image mp_states: $states(want suspended stopped stopped stopped)"

timeout 30 "$TORPOR" restore --force-wake "$img" </dev/null >"$WORK/c3" 2>"$WORK/e3"
rc=$?
tr -d '\r' <"$WORK/c3" >"$WORK/out3"
for want in 'cpu 1 back' 'cpu 2 back' 'cpu 3 back' 'smp ok'; do
	grep -qx "$want" "$WORK/out3" || { show "$WORK/out3"; show "$WORK/e3" 5; fail "after restore: no \"$want\" (exit $rc)"; }
done
[ $rc -eq 0 ] || { show "$WORK/e3" 5; fail "restore exit $rc, want 0"; }
