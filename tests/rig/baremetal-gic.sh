#!/bin/sh
# baremetal-gic: gic.bin programs the GICv3 (distributor, redistributor, SGI,
# PPI and SPI groups/priorities/enables/ICFGR/IROUTER, CPU interface), leaves
# SPI 50 pending with IRQs masked in PSTATE, arms the wake button and
# suspends (exit 7). Restored, it must find every register as it left it and
# take SPI 50, then the wake button's SPI 39 ("gic ok", exit 0). Restored a
# second time from the same image with --no-wake, the restored pending SPI 50
# alone must wake it.
# rig-timeout: 90
. "$RIG_LIB"

img=$WORK/gic.torpor
timeout 20 "$TORPOR" run --kernel "$GUESTS/gic.bin" --memory 64M --image "$img" \
	</dev/null >"$WORK/c1" 2>"$WORK/e1"
rc=$?
tr -d '\r' <"$WORK/c1" >"$WORK/out1"
[ $rc -eq 7 ] || { show "$WORK/out1"; show "$WORK/e1"; fail "run: exit $rc, want 7 (hibernated)"; }

# restore_gic N BUTTON [OPTIONS]: restore N must print "gic ok" and
# "wake button BUTTON", and exit 0.
restore_gic() {
	n=$1 button=$2
	shift 2
	timeout 20 "$TORPOR" restore "$@" "$img" </dev/null >"$WORK/c$n" 2>"$WORK/e$n"
	rc=$?
	tr -d '\r' <"$WORK/c$n" >"$WORK/out$n"
	if ! grep -qx 'gic ok' "$WORK/out$n" || ! grep -qx "wake button $button" "$WORK/out$n" ||
		[ $rc -ne 0 ]; then
		show "$WORK/out$n"; show "$WORK/e$n" 5
		fail "restore $*: exit $rc, want \"gic ok\" with \"wake button $button\" and exit 0"
	fi
}
restore_gic 2 pressed
restore_gic 3 "not pressed" --no-wake
