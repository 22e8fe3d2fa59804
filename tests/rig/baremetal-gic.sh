#!/bin/sh
# baremetal-gic: gic.bin programs the GICv3 (distributor, redistributor, SGI,
# PPI and SPI groups/priorities/enables/ICFGR/IROUTER, CPU interface), arms
# the wake button, leaves SPI 50 and SGI 5 pending with IRQs masked in
# PSTATE and suspends (exit 7). Restored, it must find every register as it
# left it and take SGI 5, SPI 50, then the wake button's SPI 39 ("gic ok 0");
# then it suspends again from the restored VM (exit 7, second image).
# Restored from that with --no-wake, the restored pending interrupts alone
# must wake it and all must hold again ("gic ok 1", exit 0). The first image
# restored with --no-wake must wake the same way.
# rig-timeout: 90
. "$RIG_LIB"

img=$WORK/gic.torpor
timeout 20 "$TORPOR" run --kernel "$GUESTS/gic.bin" --memory 64M --image "$img" \
	</dev/null >"$WORK/c1" 2>"$WORK/e1"
rc=$?
tr -d '\r' <"$WORK/c1" >"$WORK/out1"
[ $rc -eq 7 ] || { show "$WORK/out1"; show "$WORK/e1"; fail "run: exit $rc, want 7 (hibernated)"; }

# restore_gic N GEN BUTTON WANT_EXIT [OPTIONS]: restore N prints "gic ok GEN"
# and "wake button BUTTON" and exits WANT_EXIT.
restore_gic() {
	n=$1 gen=$2 button=$3 want=$4
	shift 4
	timeout 20 "$TORPOR" restore "$@" </dev/null >"$WORK/c$n" 2>"$WORK/e$n"
	rc=$?
	tr -d '\r' <"$WORK/c$n" >"$WORK/out$n"
	if ! grep -qx "gic ok $gen" "$WORK/out$n" || ! grep -qx "wake button $button" "$WORK/out$n" ||
		[ $rc -ne "$want" ]; then
		show "$WORK/out$n"; show "$WORK/e$n" 5
		fail "restore $*: exit $rc, want \"gic ok $gen\", \"wake button $button\" and exit $want"
	fi
}
restore_gic 2 0 pressed 7 --image "$WORK/gic2.torpor" "$img"
restore_gic 3 1 "not pressed" 0 --no-wake "$WORK/gic2.torpor"
restore_gic 4 0 "not pressed" 7 --no-wake --image "$WORK/gic3.torpor" "$img"
