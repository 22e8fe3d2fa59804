#!/bin/sh
# linux-ctl-hibernate: hibernation the host asks for, on Debian's generic and
# cloud kernels. The guest's init reads its virtio-input buttons
# (torpor.buttons=act, guest-init.sh) under `torpor run --api-socket` with no
# --image. `torpor ctl SOCK hibernate --image IMG` presses the sleep key; the
# guest suspends itself; torpor checkpoints it and exits 7, and the reply
# carries the image's figures with the time split into the guest's own
# suspend and torpor's checkpoint (rig-info). An events client sees
# suspend-requested, checkpoint-started, checkpoint-done and exit 7, in that
# order, and the socket is gone afterwards. A new torpor restores the image
# with --no-wake and its own socket: status says asleep, `wake` wakes it,
# the guest's checks pass, two clients at once each get their reply,
# `snapshot` writes a second image and the guest runs on, and `poweroff`
# presses the power key: the guest powers off cleanly (exit 0), the events
# being wakeup, resumed, the snapshot's, resumed, poweroff and exit 0.
# rig-guest-kernels: bookworm-cloud
# rig-timeout: 420
. "$RIG_LIB"

sock=$WORK/vm.sock
img=$WORK/vm.torpor

# round LABEL: one hibernate and restore on the current guest kernel.
round() {
	rm -f "$img" "$sock"
	spawn_torpor run --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --cpus 1 \
		--memory 256M --api-socket "$sock" \
		--cmdline "$(guest_cmdline buttons 1 torpor.buttons=act)"
	wait_line '^GUEST-READY buttons' 1 90 || guest_died "$1: the guest did not set up its buttons"
	ctl "$sock" events --json >"$WORK/events.run" 2>&1 &
	ev=$!
	ctl "$sock" status --json >"$WORK/status" || guest_died "$1: status: $(cat "$WORK/status")"
	[ "$(member state "$WORK/status")" = running ] || guest_died "$1: status: $(cat "$WORK/status")"
	t0=$(uptime_s)
	ctl "$sock" hibernate --image "$img" --json >"$WORK/reply" 2>&1 ||
		guest_died "$1: hibernate failed: $(cat "$WORK/reply")"
	t1=$(uptime_s)
	# The reply comes once the image is durable: how long torpor takes to
	# be gone after it.
	n=0
	while kill -0 "$pid" 2>/dev/null && [ $n -lt 3000 ]; do sleep 0.02; n=$((n + 1)); done
	t2=$(uptime_s)
	reap_torpor 60
	expect_rc 7 "$1: hibernate on request"
	wait $ev || fail "$1: the events client ended with status $?"
	grep -q '^GUEST-SLEEP-KEY' "$WORK/console" || { show "$WORK/console"; fail "$1: the guest saw no sleep key"; }
	grep -q '^GUEST-SUSPENDING 1' "$WORK/console" || { show "$WORK/console"; fail "$1: the guest did not suspend"; }
	[ -s "$img" ] || fail "$1: no image at $img"
	[ "$(member bytes "$WORK/reply")" = "$(wc -c <"$img")" ] ||
		fail "$1: the reply's bytes are not the image's size: $(cat "$WORK/reply")"
	events_in_order "$WORK/events.run" suspend-requested checkpoint-started checkpoint-done exit
	grep -q '"event": *"exit".*"code": *7' "$WORK/events.run" || { show "$WORK/events.run"; fail "$1: no exit 7 event"; }
	[ ! -e "$sock" ] || fail "$1: the socket outlived torpor"
	echo "rig-info: figure: ctl hibernate ($1): request to image durable $(since "$t0" "$t1") s" \
		"as the client saw it; guest's suspend $(member suspend_s "$WORK/reply") s," \
		"torpor's checkpoint $(member checkpoint_s "$WORK/reply") s;" \
		"$(member bytes "$WORK/reply") bytes, $(member ratio "$WORK/reply"):1;" \
		"torpor gone $(since "$t1" "$t2") s after the reply"

	spawn_torpor restore --no-wake --api-socket "$sock" "$img"
	n=0
	while [ ! -S "$sock" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
	ctl "$sock" events --json >"$WORK/events.restore" 2>&1 &
	ev=$!
	ctl "$sock" status --json >"$WORK/status" || guest_died "$1: status after restore: $(cat "$WORK/status")"
	[ "$(member state "$WORK/status")" = asleep ] || guest_died "$1: restored with --no-wake: $(cat "$WORK/status")"
	ctl "$sock" wake >"$WORK/reply" 2>&1 || guest_died "$1: wake: $(cat "$WORK/reply")"
	wait_line '^GUEST-RESUMED 1' 1 90 || guest_died "$1: the guest did not resume"
	wait_line '^GUEST-OK pm-exit 1' 1 60 || guest_died "$1: the guest's checks did not finish"
	ctl "$sock" status --json >"$WORK/s1" 2>&1 &
	c1=$!
	ctl "$sock" status --json >"$WORK/s2" 2>&1 &
	c2=$!
	wait $c1 || guest_died "$1: first of two clients: $(cat "$WORK/s1")"
	wait $c2 || guest_died "$1: second of two clients: $(cat "$WORK/s2")"
	for s in s1 s2; do
		[ "$(member state "$WORK/$s")" = running ] || guest_died "$1: $s: $(cat "$WORK/$s")"
	done
	# A snapshot on request: the guest suspends (its second cycle), the
	# image is written next to the first, and the guest runs on.
	ctl "$sock" snapshot --image "$WORK/snap.torpor" --json >"$WORK/reply" 2>&1 ||
		guest_died "$1: snapshot: $(cat "$WORK/reply")"
	[ "$(member bytes "$WORK/reply")" = "$(wc -c <"$WORK/snap.torpor")" ] ||
		guest_died "$1: the snapshot's reply is not its image: $(cat "$WORK/reply")"
	wait_line '^GUEST-OK pm-exit 2' 1 60 || guest_died "$1: the guest did not run on after the snapshot"
	ctl "$sock" poweroff --json >"$WORK/reply" 2>&1 || guest_died "$1: poweroff: $(cat "$WORK/reply")"
	reap_torpor 60
	expect_rc 0 "$1: poweroff on request"
	wait $ev || fail "$1: the restore's events client ended with status $?"
	grep -q '^GUEST-POWER-KEY' "$WORK/console" || { show "$WORK/console"; fail "$1: the guest saw no power key"; }
	expect_guest_ok "counter 1" "sha256 1" "resume 1 cpus" "clock 1" "pm-exit 1" \
		"counter 2" "sha256 2" "pm-exit 2"
	events_in_order "$WORK/events.restore" wakeup resumed suspend-requested checkpoint-started \
		checkpoint-done resumed poweroff exit
	grep -q '"event": *"checkpoint-done".*"mode": *"snapshot"' "$WORK/events.restore" ||
		{ show "$WORK/events.restore"; fail "$1: no snapshot's checkpoint-done event"; }
	grep -q '"event": *"exit".*"code": *0' "$WORK/events.restore" || { show "$WORK/events.restore"; fail "$1: no exit 0 event"; }
	echo "rig-info: $1: poweroff on request took $(member seconds "$WORK/reply") s"
}

round generic
use_guest_kernel bookworm-cloud
round cloud
