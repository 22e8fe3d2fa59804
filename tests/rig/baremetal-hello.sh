#!/bin/sh
# baremetal-hello: torpor runs the bare-metal guest hello.bin, whose greeting
# reaches stdout through the 16550, and exits 0 when it powers off via PSCI;
# with stdout closed under it, torpor drops the output and still exits 0.
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

# stdout is a pipe whose only reader has gone: the output is dropped (and
# said so), the guest runs to its power-off, torpor is not killed by SIGPIPE.
mkfifo "$WORK/gone"
(exec 3<"$WORK/gone"; exec 3<&-) &
timeout 20 "$TORPOR" run --kernel "$GUESTS/hello.bin" --memory 64M \
	</dev/null >"$WORK/gone" 2>"$WORK/err"
rc=$?
[ $rc -eq 0 ] || { show "$WORK/err" 5; fail "stdout closed: exit $rc, want 0"; }
grep -q 'console output were dropped' "$WORK/err" || { show "$WORK/err" 5; fail "stdout closed: no drop reported"; }
