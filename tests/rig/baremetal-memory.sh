#!/bin/sh
# baremetal-memory: memory.bin (64 MiB) fills its RAM above 1 MiB with a
# position-dependent pattern (some pages never touched, some written with
# zeros, some with one word, most full) and suspends: torpor exits 7 with an
# image. `restore` presses the wake button the guest armed (both edges),
# which brings it back at its entry point, where it checks every word and
# the device tree block ("memory ok 0"), rewrites it all with another
# pattern (pages change between data and zero) and suspends again: the
# restore exits 7, hibernated into the image it was restored from. Restored
# from that, it checks again: "memory ok 1", exit 0.
# rig-timeout: 120
. "$RIG_LIB"

img=$WORK/memory.torpor
timeout 40 "$TORPOR" run --kernel "$GUESTS/memory.bin" --memory 64M --image "$img" \
	</dev/null >"$WORK/c1" 2>"$WORK/e1"
rc=$?
tr -d '\r' <"$WORK/c1" >"$WORK/out1"
[ $rc -eq 7 ] || { show "$WORK/out1"; show "$WORK/e1"; fail "run: exit $rc, want 7 (hibernated)"; }
untouched=$(sed -n 's/^untouched //p' "$WORK/out1")
zero=$(sed -n 's/^zero //p' "$WORK/out1")
data=$(sed -n 's/^data //p' "$WORK/out1")
[ -n "$untouched" ] && [ -n "$zero" ] && [ -n "$data" ] ||
	{ show "$WORK/out1"; fail "guest did not report its page counts"; }
echo "rig-info: guest pages: untouched $((untouched)), zero $((zero)), data $((data))"
echo "rig-info: $(grep hibernated "$WORK/e1" | sed 's/^torpor: //')"

timeout 20 "$TORPOR" inspect --json "$img" >"$WORK/json" 2>"$WORK/e2" ||
	{ show "$WORK/e2"; fail "inspect --json failed"; }
stored=$(grep -o '"data_pages":[0-9]*' "$WORK/json" | head -n 1 | cut -d: -f2)
[ -n "$stored" ] && [ "$stored" -ge $((data)) ] ||
	fail "image stores ${stored:-no} data pages, the guest wrote $((data))"

# restore_check G WANT_EXIT: a restore prints "memory ok G" and exits WANT_EXIT.
restore_check() {
	out=$WORK/out-r$1 err=$WORK/err-r$1
	timeout 40 "$TORPOR" restore "$img" </dev/null >"$out.raw" 2>"$err"
	rc=$?
	tr -d '\r' <"$out.raw" >"$out"
	echo "rig-info: $(grep 'restored' "$err" | sed 's/^torpor: //')"
	grep -qx "memory ok $1" "$out" ||
		{ show "$out"; show "$err" 5; fail "memory check after restore $1 (exit $rc)"; }
	[ $rc -eq "$2" ] || { show "$err" 5; fail "restore $1: exit $rc, want $2"; }
	grep -q 'pressed the wake button' "$err" || { show "$err" 5; fail "restore $1: no wake button"; }
}
restore_check 0 7
restore_check 1 0
