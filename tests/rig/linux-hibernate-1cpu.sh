#!/bin/sh
# linux-hibernate-1cpu: a Linux guest (1 vCPU) runs `echo mem >
# /sys/power/state`; torpor hibernates it to an image and exits 7; a new
# torpor process restores the image, presses the wake button, and the guest
# carries on: counter continues, blob checksum holds, CPUs online, clock
# right; then it powers off (exit 0).
# rig-timeout: 240
. "$RIG_LIB"

img=$WORK/vm.torpor
timeout 120 "$TORPOR" run --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
	--cpus 1 --memory 256M --image "$img" \
	--cmdline "$(guest_cmdline suspend 1)" </dev/null >"$WORK/c1" 2>"$WORK/e1"
rc=$?
[ $rc -eq 7 ] || { show "$WORK/c1"; show "$WORK/e1"; fail "run: exit $rc, want 7 (hibernated)"; }
grep -q '^GUEST-SUSPENDING 1' "$WORK/c1" || { show "$WORK/c1"; fail "guest did not suspend"; }
[ -s "$img" ] || fail "no image written"
echo "rig-info: $(grep hibernated "$WORK/e1" | sed 's/^torpor: //')"

timeout 120 "$TORPOR" restore "$img" </dev/null >"$WORK/c2" 2>"$WORK/e2"
rc=$?
tr -d '\r' <"$WORK/c2" >"$WORK/console"
echo "rig-info: $(grep 'restored' "$WORK/e2" | sed 's/^torpor: //')"
grep -q '^GUEST-RESUMED 1' "$WORK/console" || { show "$WORK/console"; show "$WORK/e2"; fail "guest did not resume (restore exit $rc)"; }
expect_guest_ok "counter 1" "sha256 1" "resume 1 cpus" "clock 1"
[ $rc -eq 0 ] || { show "$WORK/e2" 5; fail "restore exit status $rc, want 0"; }
