#!/bin/sh
# baremetal-timer: timer.bin arms the virtual timer 1.5 s ahead (PPI 27
# enabled in the GIC) and suspends with an SMC32 call whose x1/x2 carry
# garbage in their upper halves: exit 7, and the image resumes SMC32 with
# the low halves only (entry, context id). With no wake button pressed
# (--no-wake) the timer alone must wake the restored guest, after its
# deadline, with the timer condition and PPI 27 there ("timer ok", exit 0).
# Restored after $nap s with --clock continue, the counter must have advanced
# by at least $nap s since the guest's last reading; restored from the same
# image with --clock freeze, by less (the timer's 1.5 s and some slack).
# Where the image holds the physical counter (hosts >= 6.4 list
# KVM_REG_ARM_PTIMER_CNT), CNTPCT - CNTVCT must come back within 20 ms under
# both policies: one owner of the time, the physical counter advanced with
# the virtual one.
# rig-timeout: 90
. "$RIG_LIB"

nap=4
img=$WORK/timer.torpor
timeout 20 "$TORPOR" run --kernel "$GUESTS/timer.bin" --memory 64M --image "$img" \
	</dev/null >"$WORK/c1" 2>"$WORK/e1"
rc=$?
tr -d '\r' <"$WORK/c1" >"$WORK/out1"
[ $rc -eq 7 ] || { show "$WORK/out1"; show "$WORK/e1"; fail "run: exit $rc, want 7 (hibernated)"; }
freq=$(($(sed -n 's/^freq=//p' "$WORK/out1")))
t0=$(($(sed -n 's/^t0=//p' "$WORK/out1")))
entry=$(($(sed -n 's/^entry=//p' "$WORK/out1")))
[ "$freq" -gt 0 ] && [ "$t0" -gt 0 ] && [ "$entry" -gt 0 ] ||
	{ show "$WORK/out1"; fail "guest did not print freq=, entry= and t0="; }
timeout 20 "$TORPOR" inspect --json "$img" >"$WORK/json" 2>"$WORK/ej" ||
	{ show "$WORK/ej"; fail "inspect --json failed"; }
grep -q "\"psci_resume\":{\"vcpu\":0,\"smc64\":0,\"entry\":$entry,\"context_id\":$((0x70726f74))}" \
	"$WORK/json" || fail "the image's psci_resume is not SMC32, entry $entry, context 0x70726f74"
sleep $nap

# restore_timer N CLOCK: restore N with --clock CLOCK and --no-wake must end
# in "timer ok" and exit 0; sets $delta to the counter advance in ms.
restore_timer() {
	timeout 20 "$TORPOR" restore --no-wake --clock "$2" "$img" </dev/null \
		>"$WORK/c$1" 2>"$WORK/e$1"
	rc=$?
	tr -d '\r' <"$WORK/c$1" >"$WORK/out$1"
	if ! grep -qx 'timer ok' "$WORK/out$1" || [ $rc -ne 0 ]; then
		show "$WORK/out$1"; show "$WORK/e$1" 5
		fail "restore --clock $2 --no-wake: exit $rc, want \"timer ok\" and exit 0"
	fi
	now=$(($(sed -n 's/^now=//p' "$WORK/out$1")))
	delta=$(((now - t0) * 1000 / freq))
	echo "rig-info: --clock $2: counter advanced $delta ms across the checkpoint"
	if [ -n "$ptimer" ]; then
		pv1=$(($(sed -n 's/^pv=//p' "$WORK/out$1")))
		skew=$(((pv1 - pv0) * 1000 / freq))
		echo "rig-info: --clock $2: CNTPCT - CNTVCT moved $skew ms"
		[ $skew -gt -20 ] && [ $skew -lt 20 ] ||
			fail "--clock $2: CNTPCT - CNTVCT moved $skew ms across the checkpoint"
	fi
}
pv0=$(($(sed -n 's/^pv=//p' "$WORK/out1")))
# KVM_REG_ARM_PTIMER_CNT = ARM64_SYS_REG(3, 3, 14, 0, 1)
ptimer=
grep -qi '"id":"0x603000000013df01"' "$WORK/json" && ptimer=1
[ -n "$ptimer" ] || echo "rig-info: this host's KVM has no physical counter register"
restore_timer 2 continue
[ $delta -ge $((nap * 1000)) ] || fail "--clock continue: counter advanced $delta ms, want >= $((nap * 1000))"
restore_timer 3 freeze
[ $delta -lt $((nap * 1000 - 500)) ] || fail "--clock freeze: counter advanced $delta ms, want < $((nap * 1000 - 500))"
