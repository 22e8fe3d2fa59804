#!/bin/sh
# linux-wake-sources: restore honours the wake sources a guest arms itself,
# without the wake button (--no-wake): an RTC alarm set before suspending
# fires by itself; with wakeup enabled on its serial port, one byte typed on
# the console wakes it. A guest that armed nothing is told about under
# --no-wake and stays asleep (no busy loop); a plain restore, the power
# button, resumes it at its PSCI entry point.
# rig-timeout: 300
. "$RIG_LIB"

img=$WORK/vm.torpor
resumed() {
	grep -q '^GUEST-RESUMED 1' "$WORK/console" || { show "$WORK/console"; show "$WORK/stderr"; fail "$1: guest did not resume (exit $rc)"; }
	expect_guest_ok "counter 1" "sha256 1" "clock 1"
	expect_rc 0 "$1"
}

# RTC alarm.
hibernate_guest suspend 1 "$img" "torpor.wake=rtc"
expect_rc 7 "hibernate (rtc)"
restore_guest "$img" --no-wake
grep -q "the guest's RTC alarm wakes it" "$WORK/stderr" || { show "$WORK/stderr"; fail "rtc: alarm not seen as the wake source"; }
resumed "rtc alarm"

# Serial console: a byte typed after the restore.
hibernate_guest suspend 1 "$img"
expect_rc 7 "hibernate (serial)"
rm -f "$WORK/in"; mkfifo "$WORK/in"
timeout 120 "$TORPOR" restore --no-wake "$img" <"$WORK/in" >"$WORK/console.raw" 2>"$WORK/stderr" &
pid=$!
exec 3>"$WORK/in"
n=0
while ! grep -q 'restored ' "$WORK/stderr" && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
sleep 1
grep -q '^GUEST-RESUMED' "$WORK/console.raw" && fail "serial: guest woke before any input"
echo >&3
wait $pid; rc=$?
exec 3>&-
tr -d '\r' <"$WORK/console.raw" >"$WORK/console"
resumed "serial"

# Nothing armed: --no-wake tells and holds it without spinning; then the
# default restore resumes it without a wake interrupt.
hibernate_guest suspend 1 "$img" "torpor.wake=none torpor.keys=no"
expect_rc 7 "hibernate (none)"
timeout 120 "$TORPOR" restore --no-wake "$img" </dev/null >"$WORK/console.raw" 2>"$WORK/stderr" &
pid=$!
n=0
while ! grep -q 'armed no wake source' "$WORK/stderr" && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
grep -q 'armed no wake source' "$WORK/stderr" || { kill $pid; show "$WORK/stderr"; fail "none: not told"; }
# The lazy restore's memory comes in meanwhile: that work done, held asleep,
# torpor must not spin (under 0.5 s of CPU in 3 s).
n=0
while ! grep -q 'memory resident' "$WORK/stderr" && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
grep -q 'memory resident' "$WORK/stderr" || { kill $pid; show "$WORK/stderr"; fail "none: memory never resident"; }
t1=$(awk '{ print $14 + $15 }' /proc/$pid/stat)
sleep 3
t2=$(awk '{ print $14 + $15 }' /proc/$pid/stat)
kill $pid; wait $pid
grep -q '^GUEST-RESUMED' "$WORK/console.raw" && fail "none: guest woke with nothing armed"
[ $((t2 - t1)) -lt 50 ] || fail "none: torpor used $((t2 - t1)) ticks of CPU while holding the guest"
echo "rig-info: held asleep for 3 s using $((t2 - t1)) CPU ticks"
restore_guest "$img"
grep -q 'without a wake interrupt (it armed no wake button)' "$WORK/stderr" || { show "$WORK/stderr"; fail "none: the default restore did not say how it woke the guest"; }
resumed "default wake"
