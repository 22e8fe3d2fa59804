#!/bin/sh
# baremetal-memory: memory.bin (64 MiB) fills its RAM above 1 MiB with a
# position-dependent pattern (some pages never touched, some written with
# zeros, some with one word, most full) and suspends: torpor exits 7 with an
# image. `restore --force-wake` brings it back at its entry point, where it
# checks every word and the device tree block: "memory ok", exit 0.
# rig-timeout: 90
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

timeout 40 "$TORPOR" restore --force-wake "$img" </dev/null >"$WORK/c3" 2>"$WORK/e3"
rc=$?
tr -d '\r' <"$WORK/c3" >"$WORK/out3"
echo "rig-info: $(grep 'restored' "$WORK/e3" | sed 's/^torpor: //')"
grep -qx 'memory ok' "$WORK/out3" || { show "$WORK/out3"; show "$WORK/e3" 5; fail "memory check after restore (exit $rc)"; }
[ $rc -eq 0 ] || { show "$WORK/e3" 5; fail "restore exit $rc, want 0"; }
