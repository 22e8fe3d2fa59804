#!/bin/sh
# linux-net-clone: a Linux guest (1 vCPU, on its ext4 root disk) with its
# card on tap0
# (guest 10.0.0.2, host 10.0.0.1) suspends and torpor hibernates it (exit
# 7). tap0 is then deleted and the host's address moves to a new tap1 (the
# clone's network); `torpor restore --net tap=tap1,mac=02:00:00:00:00:42`
# brings the guest up on tap1 with that MAC. Linux's virtio_net reads the MAC
# only when it probes, so the guest (net-clone) rebinds its card after the
# resume and gives eth0 its address again; it must then report the new MAC,
# answer the host's ping over tap1, and the host's neighbour entry for it on
# tap1 must carry 02:00:00:00:00:42. The guest's hardware RNG is torpor's
# virtio-rng and gives bytes, before the hibernate and after the restore.
# Then the network bench (net_bench in
# lib.sh: guest->host and host->guest TCP against the host's loopback, as
# figures) and the guest powers off (exit 0).
# Figure: restore start to the first ping reply over tap1 (the rebind
# included).
# rig-timeout: 300
. "$RIG_LIB"

G=10.0.0.2
NEW=02:00:00:00:00:42
MIB=8
# On its root disk: netbench (the bench's tool) is there.
use_root_disk "$WORK/root.ext4"
net_down tap1 2>/dev/null
net_up tap0 10.0.0.1/24
trap 'net_down tap0 2>/dev/null; net_down tap1 2>/dev/null' EXIT
img=$WORK/vm.torpor

# shellcheck disable=SC2046
spawn_torpor run --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --cpus 1 --memory 256M \
	--image "$img" --on-suspend hibernate --net tap=tap0 $(disk_args) \
	--cmdline "$(guest_cmdline net-clone 1 "torpor.ip=$G/24 torpor.net_mib=$MIB ipv6.disable=1")"
wait_line '^GUEST-SUSPENDING 1' || guest_died "the guest did not suspend"
reap_torpor 120
expect_rc 7 "hibernate"
expect_guest_ok "rng 1"
old=$(sed -n 's/^GUEST-NET eth0 \([0-9a-f:]*\) .*/\1/p' "$WORK/console" | head -n 1)
[ -n "$old" ] || { show "$WORK/console"; fail "the guest did not say its MAC"; }
[ "$old" != $NEW ] || fail "the original already has $NEW"

# The clone's network: tap0 gone, the host's address on tap1.
net_down tap0 || fail "deleting tap0"
net_up tap1 10.0.0.1/24
t0=$(now_cs)
spawn_torpor restore --net tap=tap1,mac=$NEW "$img"
wait_line '^GUEST-OK rebind' || guest_died "the guest did not rebind its card after the restore"
got=$(tr -d '\r' <"$WORK/console.raw" | sed -n 's/^GUEST-NET eth0 \([0-9a-f:]*\) .*/\1/p' | tail -n 1)
[ "$got" = $NEW ] || guest_died "after the rebind the guest's eth0 is '$got', want $NEW (it was $old)"
# What the host knew of the guest on tap1 before it answered is of no
# account: from here the entry is what the guest answers.
ip neigh flush dev tap1 >/dev/null
until ping -c 1 -W 1 $G >/dev/null 2>&1; do
	kill -0 "$pid" 2>/dev/null || guest_died "torpor restore exited"
	[ $(($(now_cs) - t0)) -lt 6000 ] || guest_died "no ping reply over tap1 after the restore"
done
pinged=$(($(now_cs) - t0))
mac=$(neigh_mac tap1 $G)
[ "$mac" = $NEW ] || { ip neigh show dev tap1 >&2; guest_died "the host's neighbour entry for $G on tap1 is '$mac', want $NEW"; }
echo "figure: clone restore to first ping reply over tap1 $(secs_cs $pinged) s"
echo "rig-info: figure: clone restore to first ping reply over tap1 $(secs_cs $pinged) s (rebind included); $G at $mac on tap1"
wait_line '^GUEST-READY cmd' || guest_died "the guest does not wait for the bench"
net_bench $G 2
wait_line '^GUEST-READY cmd' 3 || guest_died "the guest did not finish the bench"
type_line off
reap_torpor 60
expect_guest_ok rebind "rng 2" bench
expect_rc 0 "restored clone"
fsck_disk "$WORK/root.ext4"
