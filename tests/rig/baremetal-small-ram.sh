#!/bin/sh
# baremetal-small-ram: hello.bin (a few bytes) runs in every small RAM size
# `--memory` accepts, from the 1 MiB minimum up.
# rig-timeout: 60
. "$RIG_LIB"

errors=0
for m in 1M 2M 3M 4M; do
	timeout 15 "$TORPOR" run --kernel "$GUESTS/hello.bin" --memory $m \
		</dev/null >"$WORK/out" 2>"$WORK/err"
	rc=$?
	if [ $rc -ne 0 ] || ! grep -qx 'hello from a bare-metal guest' "$WORK/out"; then
		echo "--memory $m: exit status $rc (want 0)" >&2
		show "$WORK/err" 2
		errors=$((errors + 1))
	fi
done
[ $errors -eq 0 ] || fail "$errors memory size(s) refused or broken"
