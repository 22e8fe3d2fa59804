#!/bin/sh
# baremetal-hello: torpor runs the bare-metal guest hello.bin, whose greeting
# reaches stdout through the 16550, and exits 0 when it powers off via PSCI.
# rig-timeout: 30
. "$RIG_LIB"

timeout 20 "$TORPOR" run --kernel "$GUESTS/hello.bin" --memory 64M \
	</dev/null >"$WORK/out" 2>"$WORK/err"
rc=$?
if [ $rc -ne 0 ] || ! grep -qx 'hello from a bare-metal guest' "$WORK/out"; then
	echo "exit status $rc (want 0); stdout:" >&2; show "$WORK/out" 5
	echo "stderr:" >&2; show "$WORK/err" 5
	fail "hello.bin"
fi
