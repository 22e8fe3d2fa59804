#!/bin/sh
# linux-net-hibernate: a Linux guest (1 vCPU, initramfs) with a virtio-net
# card on the host's persistent tap0 (--net tap=tap0; guest 10.0.0.2, host
# 10.0.0.1) answers the host's ping, then streams a counter (one integer a
# line, 5 a second) to the host over one TCP connection (busybox nc), and
# suspends; torpor hibernates it (exit 7) and a new torpor restores it
# (`torpor restore IMAGE` reopens tap0 by name). Before the restore the host
# forgets the guest's MAC (ip neigh flush) and accepts gratuitous ARP on tap0
# (arp_accept=1); the guest sends nothing after its resume until the host
# types "go" on its console (it held its counter until the host had
# acknowledged every byte), so the host's neighbour entry for the guest must
# come back, with the guest's MAC, from the card's announce alone
# (VIRTIO_NET_F_GUEST_ANNOUNCE: a gratuitous ARP) within 10 s, while the host
# has sent nothing into tap0 (its tx counters unchanged, no ARP frame out
# of it), and the first ARP frame from the guest must be its gratuitous ARP
# (tests/tools/arpwatch on tap0). Then the host
# pings it and types "go"; the guest streams on, and suspends again in the
# middle of the stream (not held this time), is hibernated and restored once
# more. At the end the host's file holds 1, 2, 3... with no gap and no
# repeat, more of them after each restore than before it, from one nc that
# stayed connected throughout.
# Figures: restore start to the announce learnt, and to the first ping reply.
# rig-timeout: 300
. "$RIG_LIB"

G=10.0.0.2
net_down tap1 2>/dev/null # linux-net-clone's, had it been killed: 10.0.0.1 too
net_up tap0 10.0.0.1/24
trap 'net_down tap0 2>/dev/null' EXIT
img=$WORK/vm.torpor

# --- boot, ping, the stream, the hibernate -----------------------------------
spawn_torpor run --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --cpus 1 --memory 256M \
	--image "$img" --on-suspend hibernate --net tap=tap0 \
	--cmdline "$(guest_cmdline net-stream 1 "torpor.ip=$G/24 ipv6.disable=1")"
wait_line '^GUEST-NET listening 5000' || guest_died "the guest did not come up on the network"
mac=$(sed -n 's/^GUEST-NET eth0 \([0-9a-f:]*\) .*/\1/p' "$WORK/console.raw" | head -n 1)
[ -n "$mac" ] || guest_died "the guest did not say its MAC"
ping -c 1 -W 5 $G >"$WORK/ping" 2>&1 || { cat "$WORK/ping" >&2; guest_died "no ping reply before the hibernate"; }
# The host's end: one nc for the whole scenario, its stdin a FIFO held open
# (busybox nc shuts its sending side down at EOF on stdin, and the guest's
# nc then ends the connection).
mkfifo "$WORK/nc.in"
nc $G 5000 <"$WORK/nc.in" >"$WORK/stream" 2>"$WORK/nc.err" &
reader=$!
exec 4>"$WORK/nc.in"
trap 'kill $reader 2>/dev/null; net_down tap0 2>/dev/null' EXIT
wait_line '^GUEST-SUSPENDING 1' 1 60 || guest_died "the guest did not suspend"
reap_torpor 120
expect_rc 7 "hibernate"
stderr_info hibernated
kill -0 $reader 2>/dev/null || { cat "$WORK/nc.err" >&2; fail "the host's connection ended at the hibernate"; }

# consecutive FILE: status 0 if FILE holds the lines 1, 2, ... N (N >= 1);
# prints N, or what is wrong.
consecutive() {
	awk '$0 != NR { print "line " NR " is \"" $0 "\""; bad = 1; exit } END { if (!bad) print NR }' "$1"
}
before=$(consecutive "$WORK/stream")
case $before in *[!0-9]* | '' | 0) fail "the stream before the hibernate: ${before:-empty}" ;; esac
echo "rig-info: $before lines streamed before the hibernate"

# --- the restore: the announce, with nothing sent by the host ---------------
ip neigh flush dev tap0 >/dev/null
echo 1 >/proc/sys/net/ipv4/conf/tap0/arp_accept || fail "arp_accept on tap0"
[ -z "$(neigh_mac tap0 $G)" ] || fail "the neighbour entry for $G survived the flush"
sent=$(tap_sent tap0)
# Every ARP frame on tap0 from here (tests/tools/arpwatch).
"$(dirname "$TORPOR")/arpwatch" tap0 100 >"$WORK/arp" 2>&1 &
watcher=$!
trap 'kill $reader $watcher 2>/dev/null; net_down tap0 2>/dev/null' EXIT
n=0
until grep -q '^watching' "$WORK/arp"; do
	[ $n -lt 50 ] || { cat "$WORK/arp" >&2; fail "arpwatch does not watch tap0"; }
	sleep 0.1
	n=$((n + 1))
done
t0=$(now_cs)
spawn_torpor restore "$img"
learnt='' resumed=''
while :; do
	got=$(neigh_mac tap0 $G)
	if [ -n "$got" ]; then
		learnt=$(($(now_cs) - t0))
		break
	fi
	kill -0 "$pid" 2>/dev/null || guest_died "torpor restore exited"
	if [ -z "$resumed" ] && grep -q '^GUEST-RESUMED 1' "$WORK/console.raw"; then
		resumed=$(now_cs)
	fi
	# 10 s after the guest says it resumed (it holds its traffic until
	# told), 90 s at most in all.
	if { [ -n "$resumed" ] && [ $(($(now_cs) - resumed)) -gt 1000 ]; } ||
		[ $(($(now_cs) - t0)) -gt 9000 ]; then
		ip neigh show dev tap0 >&2
		guest_died "no neighbour entry for $G on tap0 ${resumed:+10 s after the resume }without the host asking: no announce (gratuitous ARP)"
	fi
	sleep 0.05
done
state=$(neigh_state tap0 $G)
now_sent=$(tap_sent tap0)
[ "$now_sent" = "$sent" ] ||
	guest_died "the host sent $((now_sent - sent)) frame(s) into tap0 before it learnt $G's MAC: not the announce alone"
[ "$got" = "$mac" ] || guest_died "the neighbour entry for $G has $got, the guest's card is $mac"
# The first ARP frame the guest sent after the restore is its gratuitous
# ARP (sender and target address its own), and the host sent none.
n=0
until grep -q '^in ' "$WORK/arp"; do
	[ $n -lt 20 ] || { cat "$WORK/arp" >&2; guest_died "arpwatch saw no ARP frame from the guest"; }
	sleep 0.1
	n=$((n + 1))
done
kill $watcher 2>/dev/null
first=$(grep -m1 '^in ' "$WORK/arp")
# shellcheck disable=SC2086
set -- $first
[ "$4" = "$G" ] && [ "$6" = "$G" ] && [ "$3" = "$mac" ] ||
	{ cat "$WORK/arp" >&2; guest_died "the guest's first ARP frame after the restore is no gratuitous ARP from $mac: $first"; }
! grep -q '^out ' "$WORK/arp" || { cat "$WORK/arp" >&2; guest_died "the host sent ARP on tap0 before it learnt $G"; }
echo "rig-info: learnt $G at $got ($state) from the announce ($first), $(secs_cs $learnt) s after the restore began"
until ping -c 1 -W 1 $G >/dev/null 2>&1; do
	kill -0 "$pid" 2>/dev/null || guest_died "torpor restore exited"
	[ $(($(now_cs) - t0)) -lt 9000 ] || guest_died "no ping reply after the restore"
done
pinged=$(($(now_cs) - t0))
echo "figure: restore to announce learnt $(secs_cs $learnt) s, to first ping reply $(secs_cs $pinged) s"
echo "rig-info: figure: restore to announce learnt $(secs_cs $learnt) s, to first ping reply $(secs_cs $pinged) s"

# --- the same connection goes on, across a second hibernate ----------------
wait_line '^GUEST-READY go' || guest_died "the guest does not wait for go"
type_line go
wait_line '^GUEST-SUSPENDING 2' || guest_died "the guest did not suspend again"
reap_torpor 120
expect_rc 7 "second hibernate"
expect_guest_ok "stream-connected 1"
kill -0 $reader 2>/dev/null || { cat "$WORK/nc.err" >&2; fail "the host's connection ended at the second hibernate"; }
mid=$(consecutive "$WORK/stream")
case $mid in *[!0-9]* | '') fail "the stream before the second hibernate: $mid" ;; esac
[ "$mid" -gt "$before" ] || fail "the stream did not go on after the first restore ($before lines, then $mid)"
spawn_torpor restore "$img"
n=0
while [ "$(wc -l <"$WORK/stream")" -lt $((mid + 10)) ]; do
	[ $n -lt 600 ] || guest_died "the stream did not go on after the second restore ($(wc -l <"$WORK/stream") lines, $mid before)"
	kill -0 "$pid" 2>/dev/null || guest_died "torpor restore exited"
	sleep 0.1
	n=$((n + 1))
done
kill -0 $reader 2>/dev/null || { cat "$WORK/nc.err" >&2; guest_died "the host's connection ended"; }
wait_line '^GUEST-READY stop' || guest_died "the guest does not wait for stop"
type_line stop
wait_line '^GUEST-READY cmd' || guest_died "the guest did not stop its stream"
type_line off
reap_torpor 60
expect_guest_ok "stream-connected 2"
expect_rc 0 "restored guest"
# The guest's nc ended the connection: the host's ends with it.
n=0
while kill -0 $reader 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
kill -0 $reader 2>/dev/null && fail "the host's nc still runs after the guest ended the connection"
exec 4>&-
after=$(consecutive "$WORK/stream")
case $after in *[!0-9]* | '') fail "the stream across the restore: $after" ;; esac
[ "$after" -gt "$mid" ] || fail "the stream did not grow after the second restore ($mid lines, then $after)"
echo "rig-info: $after lines over one connection: $before before the first hibernate, $mid before the second"
