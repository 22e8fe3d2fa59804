#!/bin/sh
# baremetal-levels: levels.bin leaves the 16550's THR-empty interrupt line
# high (SPI 33 pending, IRQs masked in PSTATE) and suspends: exit 7.
# Restored with --no-wake, that device line alone must wake it: restore has
# to bring back the line level and the UART's interrupt state. The guest
# finds SPI 33 pending, the UART's IIR saying THR empty, and the SPI no
# longer pending once that is acknowledged: "levels ok", exit 0.
# rig-timeout: 60
. "$RIG_LIB"

img=$WORK/levels.torpor
timeout 20 "$TORPOR" run --kernel "$GUESTS/levels.bin" --memory 64M --image "$img" \
	</dev/null >"$WORK/c1" 2>"$WORK/e1"
rc=$?
tr -d '\r' <"$WORK/c1" >"$WORK/out1"
[ $rc -eq 7 ] || { show "$WORK/out1"; show "$WORK/e1"; fail "run: exit $rc, want 7 (hibernated)"; }

timeout 20 "$TORPOR" restore --no-wake "$img" </dev/null >"$WORK/c2" 2>"$WORK/e2"
rc=$?
tr -d '\r' <"$WORK/c2" >"$WORK/out2"
grep -qx 'levels ok' "$WORK/out2" && [ $rc -eq 0 ] ||
	{ show "$WORK/out2"; show "$WORK/e2" 5; fail "restore --no-wake: exit $rc, want \"levels ok\" and exit 0"; }
