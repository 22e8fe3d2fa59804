#!/bin/sh
# checkpoint-signal: SIGTERM, then in a second run SIGINT, sent to torpor
# while it writes the checkpoint of a suspending Linux guest (the moment its
# temporary ".vm.torpor.*.tmp" appears) stops torpor promptly with 128+N (143,
# 130): a user who asks torpor to stop is obeyed, not overruled by a guest
# that carries on after its suspend call is refused. The file that was at the
# image path is byte-identical and no temporary file is left. The guest
# holds 16 MiB of random data so that the write lasts long enough to hit.
# rig-timeout: 150
. "$RIG_LIB"

dir=$WORK/img
mkdir -p "$dir"
head -c 65536 /dev/urandom >"$WORK/before"
tmp_exists() {
	for f in "$dir"/.vm.torpor.*.tmp; do [ -e "$f" ] && return 0; done
	return 1
}

# round SIG WANT: one guest, signal SIG during its checkpoint, exit WANT.
round() {
	cp "$WORK/before" "$dir/vm.torpor"
	"$TORPOR" run --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --memory 256M \
		--image "$dir/vm.torpor" --cmdline "$(guest_cmdline suspend 1 torpor.fill=16)" \
		</dev/null >"$WORK/console.raw" 2>"$WORK/stderr" &
	pid=$!
	n=0
	while kill -0 $pid 2>/dev/null && ! tmp_exists && [ $n -lt 6000 ]; do
		sleep 0.01
		n=$((n + 1))
	done
	tmp_exists || { kill -KILL $pid; wait $pid; show "$WORK/stderr"; fail "$1: no checkpoint started"; }
	t0=$(uptime_s)
	kill -"$1" $pid
	n=0
	while kill -0 $pid 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	t1=$(uptime_s)
	if kill -0 $pid 2>/dev/null; then
		kill -KILL $pid
		wait $pid
		show "$WORK/stderr" 5
		fail "$1: torpor still running 10 s after the signal"
	fi
	wait $pid
	rc=$?
	tr -d '\r' <"$WORK/console.raw" >"$WORK/console"
	expect_rc "$2" "SIG$1 during the checkpoint"
	grep -q "stopped by signal .* during the checkpoint" "$WORK/stderr" ||
		{ show "$WORK/stderr" 5; fail "$1: not stopped during the checkpoint (signal too late?)"; }
	cmp -s "$WORK/before" "$dir/vm.torpor" || fail "$1: the file at the image path changed"
	[ "$(ls -A "$dir")" = vm.torpor ] || { ls -la "$dir" >&2; fail "$1: files left behind"; }
	echo "rig-info: SIG$1: exit $rc $(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }') s after the signal"
}

round TERM 143
round INT 130
stderr_info 'stopped by signal'
