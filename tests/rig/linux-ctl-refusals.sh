#!/bin/sh
# linux-ctl-refusals: the control socket when things do not go to plan. The
# guest sees its buttons but ignores them (torpor.buttons=ignore). A second
# torpor on the same --api-socket is refused (exit 2) and the first goes on;
# `hibernate --timeout 3` fails at its timeout (exit 1) with the guest still
# running and no image written; meanwhile status says suspend-requested and
# a second hibernate is "busy";
# `poweroff --timeout 2` fails likewise; `wake` on a running guest fails;
# garbage on the socket (not JSON, an unknown request, an unknown argument,
# a NUL byte, a line of 64 KiB) gets one error line each and the socket
# still answers; `ctl` to a path where nothing listens exits 10; `quit` ends
# torpor at once (exit 0) saying the guest is lost. Then a torpor killed with
# SIGKILL leaves its socket behind, and the next one on that path replaces
# it.
# rig-timeout: 300
. "$RIG_LIB"

sock=$WORK/vm.sock
img=$WORK/vm.torpor
tool=$(dirname "$TORPOR")/sockline

spawn_torpor run --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --cpus 1 --memory 256M \
	--image "$img" --api-socket "$sock" --cmdline "$(guest_cmdline buttons 1 torpor.buttons=ignore)"
wait_line '^GUEST-READY buttons' 1 90 || guest_died "the guest did not set up its buttons"

"$TORPOR" run --kernel "$GUEST_KERNEL" --api-socket "$sock" </dev/null >/dev/null 2>"$WORK/second"
r=$?
[ $r -eq 2 ] && grep -q 'in use' "$WORK/second" || guest_died "a second torpor on the socket: exit $r, $(cat "$WORK/second")"
ctl "$sock" status >/dev/null 2>&1 || guest_died "the first torpor stopped answering"

ctl "$sock" hibernate --timeout 3 >"$WORK/h1" 2>&1 &
h=$!
sleep 1
ctl "$sock" status --json >"$WORK/status" || guest_died "status while a hibernate waits"
[ "$(member state "$WORK/status")" = suspend-requested ] || guest_died "while a hibernate waits: $(cat "$WORK/status")"
ctl "$sock" hibernate >"$WORK/h2" 2>&1
r=$?
[ $r -eq 1 ] && grep -q 'busy' "$WORK/h2" || guest_died "a second hibernate: exit $r, $(cat "$WORK/h2")"
wait $h
r=$?
[ $r -eq 1 ] && grep -q 'did not suspend within 3 s; it keeps running' "$WORK/h1" ||
	guest_died "hibernate of a guest that ignores the key: exit $r, $(cat "$WORK/h1")"
wait_line '^GUEST-IGNORED-KEY 142' 1 10 || guest_died "the guest did not see the sleep key"
[ ! -e "$img" ] || guest_died "an image was written"
ctl "$sock" status --json >"$WORK/status" || guest_died "status after the timeout"
[ "$(member state "$WORK/status")" = running ] || guest_died "after the timeout: $(cat "$WORK/status")"

ctl "$sock" poweroff --timeout 2 >"$WORK/p" 2>&1
r=$?
[ $r -eq 1 ] && grep -q 'did not power off within 2 s' "$WORK/p" || guest_died "poweroff ignored: exit $r, $(cat "$WORK/p")"
ctl "$sock" wake >"$WORK/w" 2>&1
r=$?
[ $r -eq 1 ] && grep -q 'not asleep' "$WORK/w" || guest_died "wake of a running guest: exit $r, $(cat "$WORK/w")"

# Six lines, six replies: five errors, then the status that follows them.
{
	echo 'not json'
	echo '{"request": "fly"}'
	echo '{"request": "status", "speed": 1}'
	printf '{"request": "st\000atus"}\n'
	head -c 65536 /dev/zero | tr '\0' x
	echo
	echo '{"request": "status"}'
} | "$tool" "$sock" 6 20 >"$WORK/garbage" || guest_died "garbage: $(wc -l <"$WORK/garbage") replies: $(cat "$WORK/garbage")"
[ "$(grep -c '"ok": *false' "$WORK/garbage")" -eq 5 ] && [ "$(grep -c '"ok": *true' "$WORK/garbage")" -eq 1 ] ||
	{ show "$WORK/garbage"; guest_died "garbage: want 5 errors and 1 ok"; }
grep -q 'unknown request' "$WORK/garbage" && grep -q 'longer than' "$WORK/garbage" ||
	{ show "$WORK/garbage"; guest_died "garbage: the errors do not say why"; }

ctl "$WORK/nothing.sock" status >/dev/null 2>"$WORK/none"
r=$?
[ $r -eq 10 ] || fail "ctl to no socket: exit $r, $(cat "$WORK/none")"

ctl "$sock" quit >"$WORK/q" 2>&1 || guest_died "quit: $(cat "$WORK/q")"
grep -q 'lost' "$WORK/q" || guest_died "quit does not say the guest is lost: $(cat "$WORK/q")"
reap_torpor 30
expect_rc 0 "quit"
[ ! -e "$sock" ] || fail "the socket outlived torpor"

# A stale socket: its torpor died without removing it.
spawn_torpor run --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --memory 256M \
	--api-socket "$sock" --cmdline "$(guest_cmdline buttons 1 torpor.buttons=ignore)"
n=0
while [ ! -S "$sock" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
kill -KILL "$pid"
reap_torpor 10
[ -S "$sock" ] || fail "SIGKILL removed the socket (nothing stale to test)"
spawn_torpor run --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --memory 256M \
	--api-socket "$sock" --cmdline "$(guest_cmdline buttons 1 torpor.buttons=ignore)"
wait_line '^GUEST-READY buttons' 1 90 || guest_died "a torpor on a stale socket"
ctl "$sock" quit >/dev/null 2>&1 || guest_died "quit on the replaced socket"
reap_torpor 30
expect_rc 0 "quit on the replaced socket"
