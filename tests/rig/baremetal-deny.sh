#!/bin/sh
# baremetal-deny: SYSTEM_SUSPEND calls torpor must refuse, each answered in
# x0 while the guest runs on (deny.bin, 2 vCPUs): (a) a secondary still
# running: DENIED; (a2) both vCPUs calling at once: both DENIED; (b) entry
# points outside RAM: INVALID_ADDRESS; then the
# guest powers off: exit 0 and no image written. (c) A valid call is DENIED
# without --image and with --on-suspend deny (no image written either).
# rig-timeout: 90
. "$RIG_LIB"

img=$WORK/deny.torpor

# deny_run N WANT... -- TORPOR_RUN_OPTIONS: the guest prints every WANT line
# and "deny ok", torpor exits 0, and no image exists afterwards.
deny_run() {
	n=$1
	shift
	wants=
	while [ "$1" != -- ]; do wants="$wants$1,"; shift; done
	shift
	rm -f "$img"
	timeout 20 "$TORPOR" run --kernel "$GUESTS/deny.bin" --memory 64M --cpus 2 "$@" \
		</dev/null >"$WORK/c$n" 2>"$WORK/e$n"
	rc=$?
	tr -d '\r' <"$WORK/c$n" >"$WORK/out$n"
	wants="${wants}deny ok"
	IFS=,
	for want in $wants; do
		grep -qx "$want" "$WORK/out$n" && continue
		unset IFS
		show "$WORK/out$n"; show "$WORK/e$n" 5
		fail "run $*: no \"$want\" (exit $rc)"
	done
	unset IFS
	[ $rc -eq 0 ] || { show "$WORK/e$n" 5; fail "run $*: exit $rc, want 0"; }
	[ ! -e "$img" ] || fail "run $*: an image was written for a denied suspend"
}

deny_run 1 'a denied' 'a2 both denied' 'b invalid address' -- --image "$img"
deny_run 2 'a denied' 'a2 both denied' 'b invalid address' 'c denied' -- --cmdline bm-mode=expect-denied
deny_run 3 'a denied' 'a2 both denied' 'b invalid address' 'c denied' -- --image "$img" --on-suspend deny \
	--cmdline bm-mode=expect-denied
