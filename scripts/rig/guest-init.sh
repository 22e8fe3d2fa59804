#!/bin/busybox sh
# guest-init.sh - /init of the rig's nested Linux guest (runs under torpor),
# on its initramfs and on its root disk alike.
#
# Mounts the pseudo file systems, then runs the in-guest check named by
# torpor.test= on the kernel command line (boot, suspend, suspend-loop,
# reset, vmgenid, buttons; on a root disk also disk-boot, disk-suspend,
# disk-read, disk-ro, disk-bench; with torpor.ip= also net-stream,
# net-clone; shell, an interactive shell for `make shell`) and powers off
# (reset: reboots). Other parameters:
#   torpor.cpus=N      vCPUs the guest should have online
#   torpor.now=EPOCH   the host's time when it started the guest
#   torpor.token=WORD  line the host types on the console once asked to
#   torpor.cycles=N    suspend cycles for suspend-loop
#   torpor.bench_mib=N MiB of /dev/vdb that disk-bench runs blkbench on (32)
#   torpor.root=DEV    the root file system is the ext4 on DEV (/dev/vda):
#                      the initramfs loads the drivers, mounts it and
#                      switch_roots to the disk's copy of this script
#   torpor.ip=A/N      a network: the initramfs loads virtio_net and
#                      virtio_rng (lib/net/NN-NAME.ko), eth0 comes up with
#                      address A/N (net-stream, net-clone)
#   torpor.net_mib=N   MiB each way for the network bench (8; netbench is on
#                      the root disk only)
#   torpor.vmgenid=no  vmgenid: the generation ID device must be absent
#   torpor.buttons=M   the initramfs loads the drivers of torpor's buttons
#                      (lib/input: virtio_input, evdev); the check buttons
#                      reads them: M=act suspends on KEY_SLEEP and powers
#                      off on KEY_POWER, M=ignore only reports each key
# Checks print "GUEST-OK <what>" or "GUEST-FAIL <what>: <details>". The
# first line is "GUEST-INIT <uptime>" (printed from the root the checks run
# on), the last "GUEST-DONE <mode> <uptime>" (to tell guest boot time from
# monitor overhead). Output is kept short: nested, every console character
# is a trap to the monitor.
/bin/busybox mkdir -p /proc /sys /dev /tmp /usr/bin /usr/sbin /sbin
/bin/busybox mount -t proc proc /proc
# On the root disk (the initramfs switched to it) no applet links are made,
# so that booting writes nothing to the disk: Debian's static busybox runs
# its own applets by name, links or none.
ondisk=
if /bin/busybox grep -q '^[^ ]* / ext4 ' /proc/mounts; then ondisk=1
else /bin/busybox --install -s; fi
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp

# param NAME: value of torpor.NAME= on the kernel command line, or empty.
param() {
	for w in $(cat /proc/cmdline); do
		case $w in torpor.$1=*) echo "${w#*=}"; return ;; esac
	done
}

ok() { echo "GUEST-OK $*"; }
bad() { echo "GUEST-FAIL $*"; }

# wake_button: torpor's wake button (gpio-keys on the PL061), armed for
# wakeup by the driver; torpor.keys=no leaves it out (a guest with no wake
# source). A kernel without the driver (Debian's cloud kernel) has no module
# here, nor has the root disk, which serves every kernel: a guest on it
# loaded the module from its initramfs.
wake_button() {
	[ "$(param keys)" = no ] || [ ! -e /lib/gpio_keys.ko ] || insmod /lib/gpio_keys.ko
}

# load_modules DIR: insmod DIR/NN-NAME.ko in order (dependencies first: see
# scripts/rig.sh), but for a module already loaded; status 1 if one fails.
load_modules() {
	for m in "$1"/*.ko; do
		[ -e "$m" ] || continue
		n=${m##*/}
		n=${n#*-}
		[ -e "/sys/module/${n%.ko}" ] && continue
		insmod "$m" || { bad "modules: insmod ${m##*/} failed"; return 1; }
	done
}

# net_modules: with torpor.ip=, on the initramfs, the network card's and
# the entropy device's drivers (lib/net: virtio_mmio, virtio_net and its
# failover modules, virtio_rng). Without it neither is loaded, and guests
# run as they did before torpor had the devices.
net_modules() {
	[ -z "$ondisk" ] && [ -n "$(param ip)" ] || return 0
	load_modules /lib/net || poweroff -f
}

# input_modules: with torpor.buttons=, on the initramfs, the drivers of
# torpor's buttons (lib/input: virtio_mmio, virtio_input, evdev).
input_modules() {
	[ -z "$ondisk" ] && [ -n "$(param buttons)" ] || return 0
	load_modules /lib/input || poweroff -f
}

# torpor.root=DEV, still on the initramfs: load the modules for it
# (lib/disk/NN-NAME.ko, in dependency order: see scripts/rig.sh), wait for
# DEV, mount it, leave it the pseudo file systems to mount anew and hand
# over to its /init.
root=$(param root)
if [ -n "$root" ] && [ -z "$ondisk" ]; then
	wake_button
	for m in /lib/disk/*.ko; do
		[ -e "$m" ] || continue
		insmod "$m" || { bad "root: insmod ${m##*/} failed"; poweroff -f; }
	done
	net_modules
	input_modules
	# Probing is asynchronous and, nested under TCG with several vCPUs,
	# takes seconds.
	n=0
	while [ ! -b "$root" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
	mkdir -p /newroot
	if ! mount -t ext4 "$root" /newroot; then
		bad "root: cannot mount $root as ext4 ($(ls /sys/block | tr '\n' ' '))"
		poweroff -f
	fi
	[ -x /newroot/init ] || { bad "root: no /init on $root"; poweroff -f; }
	umount /tmp /dev /sys /proc
	exec switch_root /newroot /init
fi
net_modules
input_modules
read -r up _ </proc/uptime
echo "GUEST-INIT $up"

check_cpus() {
	want=$(param cpus)
	if [ "${want:-1}" -le 1 ]; then expect=0; else expect="0-$((want - 1))"; fi
	got=$(cat /sys/devices/system/cpu/online)
	if [ "$got" = "$expect" ]; then ok "${1}cpus"; else bad "${1}cpus: online $got, want $expect"; fi
}

check_deep() {
	if grep -qw deep /sys/power/mem_sleep; then ok deep
	else bad "deep: mem_sleep is '$(cat /sys/power/mem_sleep)'"; fi
}

# check_rtc: the RTC must agree with the host time passed as torpor.now.
check_rtc() {
	now=$(param now)
	rtc=$(cat /sys/class/rtc/rtc0/since_epoch 2>/dev/null)
	if [ -z "$rtc" ] || [ -z "$now" ]; then
		bad "rtc: rtc0='$rtc' torpor.now='$now'"; return
	fi
	d=$((rtc - now))
	if [ $d -ge -60 ] && [ $d -le 60 ]; then ok rtc
	else bad "rtc: rtc0 $rtc is $d s from host $now"; fi
}

# rtc_irqs: interrupts the PL031 has raised so far, all CPUs.
rtc_irqs() {
	awk '/pl031/ { s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; print s }' /proc/interrupts
}

# check_alarm: an RTC alarm armed while the guest runs fires on time (the
# monitor must wake up for it with nothing else happening).
check_alarm() {
	before=$(rtc_irqs)
	echo 0 >/sys/class/rtc/rtc0/wakealarm
	echo +2 >/sys/class/rtc/rtc0/wakealarm
	n=0
	while [ "$(rtc_irqs)" = "$before" ] && [ $n -lt 25 ]; do sleep 0.2; n=$((n + 1)); done
	if [ "$(rtc_irqs)" != "$before" ]; then ok alarm
	else bad "alarm: no RTC interrupt 5 s after arming one for 2 s"; fi
}

# check_input: ask the host for the token, read one console line (20 s).
check_input() {
	want=$(param token)
	stty -echo 2>/dev/null
	echo "GUEST-READY input"
	if read -t 20 -r line; then
		line=$(echo "$line" | tr -d '\r')
		if [ -n "$want" ] && [ "$line" = "$want" ]; then ok input
		else bad "input: read '$line', want '$want'"; fi
	else
		bad "input: nothing read in 20 s"
	fi
}

# The suspend state: a counter ticking every 0.2 s and a blob with its hash.
start_state() {
	stty -echo 2>/dev/null
	(i=0; while :; do
		i=$((i + 1)); echo $i >/tmp/count.new; mv /tmp/count.new /tmp/count
		sleep 0.2
	done) &
	head -c 262144 /dev/urandom >/tmp/blob
	sha256sum /tmp/blob >/tmp/blob.sha256
	# torpor.fill=N: N MiB of random data in tmpfs, a guest that uses its RAM.
	fill=$(param fill)
	[ -n "$fill" ] && dd if=/dev/urandom of=/tmp/fill bs=1M count="$fill" 2>/dev/null
	# torpor.work=1: after each resume, the sha256 of that data, a workload
	# that reads all of it (a restore's time to responsiveness).
	[ -n "$fill" ] && [ "$(param work)" = 1 ] && sha256sum /tmp/fill >/tmp/fill.sha256
	sleep 0.5
}

# suspend_once N: suspend to memory and check the state on return.
suspend_once() {
	# Wake sources the guest arms itself (torpor.wake=): serial (default)
	# enables wakeup on the console port, rtc sets an alarm 3 s ahead, none
	# arms nothing.
	wake=/sys/class/tty/ttyS0/power/wakeup
	case $(param wake) in
	rtc) echo 0 >/sys/class/rtc/rtc0/wakealarm; echo +3 >/sys/class/rtc/rtc0/wakealarm ;;
	none) ;;
	*) if [ ! -e $wake ]; then bad "wakeup: no $wake"; return 1; fi
	   echo enabled >$wake ;;
	esac
	if ! grep -qw deep /sys/power/mem_sleep; then bad "deep: no deep sleep"; return 1; fi
	echo deep >/sys/power/mem_sleep
	before=$(cat /tmp/count)
	echo "GUEST-SUSPENDING $1 count=$before"
	if ! echo mem >/sys/power/state; then bad "suspend $1: write to /sys/power/state failed"; return 1; fi
	echo "GUEST-RESUMED $1"
	# The counter first, before a workload delays it.
	c1=$(cat /tmp/count)
	if [ -s /tmp/fill.sha256 ]; then
		if sha256sum -c -s /tmp/fill.sha256; then echo "GUEST-WORKLOAD $1"; ok "work $1"
		else bad "work $1: /tmp/fill changed"; fi
	fi
	# The counter must go on from where it was: above it, not restarted, and
	# still ticking.
	sleep 1
	c2=$(cat /tmp/count)
	if [ "$c1" -ge "$before" ] && [ "$c1" -le $((before + 25)) ] && [ "$c2" -gt "$c1" ]; then
		ok "counter $1"
	else
		bad "counter $1: $before before, $c1 then $c2 after"
	fi
	if sha256sum -c -s /tmp/blob.sha256; then ok "sha256 $1"; else bad "sha256 $1: blob changed"; fi
	# The kernel's own account of the resume (quiet keeps it off the console).
	if dmesg | grep -q 'PM: suspend exit'; then ok "pm-exit $1"; else bad "pm-exit $1: no 'PM: suspend exit' in dmesg"; fi
	# A CPU brought back differing from the boot CPU in an ID register (as
	# after a restore on another host kernel) makes Linux warn.
	dmesg | grep 'SANITY CHECK' | head -n 2 | sed 's/^.*SANITY CHECK/GUEST-NOTE SANITY CHECK/'
	check_cpus "resume $1 "
	# Wall clock against the RTC (the monitor's, so the host's current time).
	rtc=$(cat /sys/class/rtc/rtc0/since_epoch)
	d=$(($(date +%s) - rtc))
	if [ $d -ge -3 ] && [ $d -le 3 ]; then ok "clock $1"
	else bad "clock $1: date is $d s off the RTC"; fi
}

# check_root: / is the ext4 on torpor.root, read-write (status 1 if not:
# the disk checks need it).
check_root() {
	if [ -n "$ondisk" ] && grep -q "^$root / ext4 rw[, ]" /proc/mounts; then ok root; return 0; fi
	bad "root: / is not the ext4 on '$root', read-write: $(grep ' / ' /proc/mounts | tr '\n' ';')"
	return 1
}

# The disk state: /data/before (64 KiB, its sha256 beside it) written and
# synced before a suspend, and a writer appending numbered lines to
# /data/lines across it, fsyncing every 5.
start_disk() {
	rm -f /data/lines
	head -c 65536 /dev/urandom >/data/before
	sha256sum /data/before >/data/before.sha256
	sync
	(i=0; while :; do
		i=$((i + 1)); echo "line $i" >>/data/lines
		[ $((i % 5)) -ne 0 ] || sync /data/lines
		sleep 0.1
	done) &
	writer=$!
	sleep 1
}

stop_disk() {
	kill $writer
	wait $writer 2>/dev/null
}

# lines_gap: "line N: TEXT", the first line of /data/lines out of
# sequence, or nothing.
lines_gap() {
	awk '$1 != "line" || $2 != NR { print "line " NR ": " $0; exit }' /data/lines
}

# check_disk N BEFORE: after resume N, read from the disk (the page cache
# dropped), /data/before is intact and the writer went on from its BEFORE
# lines: more lines, every number once and in order.
check_disk() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	if sha256sum -c -s /data/before.sha256; then ok "disk-file $1"
	else bad "disk-file $1: /data/before changed"; fi
	l1=$(wc -l </data/lines)
	sleep 1
	l2=$(wc -l </data/lines)
	gap=$(lines_gap)
	if [ -z "$gap" ] && [ "$l1" -ge "$2" ] && [ "$l2" -gt "$l1" ]; then ok "disk-writer $1"
	else bad "disk-writer $1: $2 lines before, $l1 then $l2 after${gap:+; out of sequence at $gap}"; fi
}

# check_ro DEV: DEV is a read-only disk: the kernel says so, a write to it
# fails, and the ext4 on it (a copy of the root disk) mounts read-only.
check_ro() {
	b=${1#/dev/}
	ro=$(cat "/sys/block/$b/ro" 2>&1)
	if [ "$ro" = 1 ]; then ok "ro $b"; else bad "ro $b: /sys/block/$b/ro is '$ro'"; fi
	if dd if=/dev/zero of="$1" bs=4096 count=1 conv=notrunc,fsync 2>/dev/null; then
		bad "ro-write $b: a write to $1 succeeded"
	else
		ok "ro-write $b"
	fi
	if mount -t ext4 -o ro "$1" /mnt 2>/dev/null && [ -x /mnt/init ]; then ok "ro-mount $b"
	else bad "ro-mount $b: no ext4 with an /init on $1"; fi
	umount /mnt 2>/dev/null
}

# leave_root: on the root disk, the file system left clean (the host checks
# it with e2fsck -fn once the guest is off).
leave_root() {
	[ -n "$ondisk" ] || return 0
	sync
	mount -o remount,ro / || bad "root: remounting / read-only failed"
}

# --- network (torpor.ip=) -------------------------------------------------
# net_up: eth0 (the first virtio-net card) up with address torpor.ip=
# (probing is asynchronous: up to 30 s for it to appear); prints
# "GUEST-NET eth0 MAC ADDRESS". Status 1 (and a GUEST-FAIL) if not.
net_up() {
	ip=$(param ip)
	[ -n "$ip" ] || { bad "net: no torpor.ip="; return 1; }
	ip link set lo up
	n=0
	while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
	[ -e /sys/class/net/eth0 ] || { bad "net: no eth0 (have: $(ls /sys/class/net | tr '\n' ' '))"; return 1; }
	if ! ip link set eth0 up || ! ip addr add "$ip" dev eth0; then
		bad "net: eth0 up with $ip failed"
		return 1
	fi
	echo "GUEST-NET eth0 $(cat /sys/class/net/eth0/address) $ip"
}

# tcp_port_hex PORT: PORT as /proc/net/tcp writes it (":1388" for 5000).
tcp_port_hex() {
	printf ':%04X' "$1"
}

# tcp_state PORT STATE: status 0 if a TCP socket on local PORT is in STATE
# (/proc/net/tcp's hex code: 0A listening, 01 established).
tcp_state() {
	awk -v p="$(tcp_port_hex "$1")" -v st="$2" \
		'NR > 1 && substr($2, length($2) - 4) == p && $4 == st { f = 1 } END { exit !f }' /proc/net/tcp
}

# tcp_unacked PORT: bytes sent on the established connection on local PORT
# that the peer has not acknowledged yet (tx_queue), or nothing.
tcp_unacked() {
	awk -v p="$(tcp_port_hex "$1")" \
		'NR > 1 && substr($2, length($2) - 4) == p && $4 == "01" { split($5, q, ":"); print q[1]; exit }' \
		/proc/net/tcp
}

# wait_tcp PORT STATE TENTHS: until a socket on PORT is in STATE, at most
# TENTHS tenths of a second; status 1 if it never is.
wait_tcp() {
	n=0
	while ! tcp_state "$1" "$2"; do
		[ $n -lt "$3" ] || return 1
		sleep 0.1
		n=$((n + 1))
	done
}

# host_line: reads the next line the host types on the console (120 s), into
# $line; status 1 if none came.
host_line() {
	stty -echo 2>/dev/null
	echo "GUEST-READY $1"
	read -t 120 -r line || { bad "input: nothing typed in 120 s after GUEST-READY $1"; return 1; }
	line=$(echo "$line" | tr -d '\r')
}

# net_bench: the guest's end of the network bench (net_bench in lib.sh),
# with netbench (tests/tools; on the root disk only): a server on 5001 sends
# torpor.net_mib= MiB (8) to the host that connects, then one on 5002 reads
# what the host sends and answers its size. "GUEST-BENCH send 5001" and
# "GUEST-BENCH recv 5002" once each listens.
net_bench() {
	mib=$(param net_mib)
	command -v netbench >/dev/null || { bad "bench: no netbench (the root disk has it)"; return 1; }
	netbench serve 5001 send "${mib:-8}" | while read -r _; do echo "GUEST-BENCH send 5001"; done
	netbench serve 5002 recv | while read -r _; do echo "GUEST-BENCH recv 5002"; done
	ok bench
}

# host_commands: what the host types next, until "off": "bench" runs
# net_bench.
host_commands() {
	while host_line cmd; do
		case $line in
		off) return 0 ;;
		bench) net_bench ;;
		*) bad "input: unknown command '$line'" ;;
		esac
	done
}

# arm_wake: the console port as a wake source, deep sleep chosen; status 1
# (and a GUEST-FAIL) if the guest cannot suspend.
arm_wake() {
	wake=/sys/class/tty/ttyS0/power/wakeup
	[ -e $wake ] || { bad "wakeup: no $wake"; return 1; }
	echo enabled >$wake
	grep -qw deep /sys/power/mem_sleep || { bad "deep: no deep sleep"; return 1; }
	echo deep >/sys/power/mem_sleep
}

# net_stream: linux-net-hibernate's guest. A listener on TCP 5000 streams a
# counter (one integer a line, 5 a second) to the host, which connects once.
# Before the suspend the counter is held (/tmp/hold) until the host has
# acknowledged every byte, so that after the resume the guest sends nothing
# of its own until the host types "go": the host can check that it learnt
# the guest's MAC from the card's announce alone. Then the stream goes on
# over the same connection, a second suspend comes in the middle of it (not
# held), and it goes on again until the host types "stop".
net_stream() {
	rm -f /tmp/hold
	(i=0; while :; do
		if [ ! -e /tmp/hold ]; then i=$((i + 1)); echo $i; fi
		sleep 0.2
	done) | nc -l -p 5000 &
	streamer=$!
	wait_tcp 5000 0A 100 || { bad "stream: nothing listens on 5000"; return 1; }
	echo "GUEST-NET listening 5000"
	wait_tcp 5000 01 600 || { bad "stream: no connection on 5000 in 60 s"; return 1; }
	sleep 2
	touch /tmp/hold
	n=0
	while [ "$(tcp_unacked 5000)" != 00000000 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
	[ "$(tcp_unacked 5000)" = 00000000 ] || { bad "stream: unacknowledged bytes after 5 s: $(tcp_unacked 5000)"; return 1; }
	arm_wake || return 1
	echo "GUEST-SUSPENDING 1"
	if ! echo mem >/sys/power/state; then bad "suspend 1: write to /sys/power/state failed"; return 1; fi
	echo "GUEST-RESUMED 1"
	host_line go || return 1
	rm -f /tmp/hold
	if tcp_state 5000 01; then ok "stream-connected 1"; else bad "stream-connected 1: no connection on 5000 after the resume"; fi
	# Then a suspend in the middle of the stream, not held.
	sleep 2
	echo "GUEST-SUSPENDING 2"
	if ! echo mem >/sys/power/state; then bad "suspend 2: write to /sys/power/state failed"; return 1; fi
	echo "GUEST-RESUMED 2"
	if tcp_state 5000 01; then ok "stream-connected 2"; else bad "stream-connected 2: no connection on 5000 after the resume"; fi
	host_line stop || return 1
	kill $streamer
	wait $streamer 2>/dev/null
}

# check_rng N: the kernel's hardware RNG is torpor's virtio-rng (loaded
# with the network's modules) and /dev/hwrng gives 64 bytes within 10 s.
check_rng() {
	cur=$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)
	case $cur in
	virtio_rng*) ;;
	*) bad "rng $1: the hardware RNG is '$cur', not virtio_rng"; return ;;
	esac
	n=$(timeout 10 head -c 64 /dev/hwrng | wc -c)
	if [ "$n" -eq 64 ]; then ok "rng $1"; else bad "rng $1: $n bytes of /dev/hwrng in 10 s"; fi
}

# net_clone: linux-net-clone's guest. Checks the entropy device (check_rng
# 1), suspends with eth0 up; after the
# resume (a clone, restored onto another tap with another MAC) rebinds the
# card to virtio_net, which reads the MAC only when it probes, and gives
# eth0 its address again ("GUEST-NET eth0 MAC ADDRESS" once more), and
# checks the entropy device again (check_rng 2).
net_clone() {
	check_rng 1
	arm_wake || return 1
	echo "GUEST-SUSPENDING 1"
	if ! echo mem >/sys/power/state; then bad "suspend 1: write to /sys/power/state failed"; return 1; fi
	echo "GUEST-RESUMED 1"
	dev=$(basename "$(readlink /sys/class/net/eth0/device)")
	drv=/sys/bus/virtio/drivers/virtio_net
	case $dev in virtio*) ;; *) bad "clone: eth0's device is '$dev'"; return 1 ;; esac
	echo "$dev" >$drv/unbind && echo "$dev" >$drv/bind || { bad "clone: rebinding $dev failed"; return 1; }
	net_up || return 1
	ok rebind
	check_rng 2
}

# --- vmgenid --------------------------------------------------------------
# vmgenid_bound: the vmgenid driver has a device (torpor's
# microsoft,vmgenid device-tree node, which Linux binds from 6.10).
vmgenid_bound() {
	for f in /sys/bus/platform/drivers/vmgenid/*; do
		case ${f##*/} in bind | unbind | uevent | module) continue ;; esac
		[ -L "$f" ] && return 0
	done
	return 1
}

# --- torpor's buttons (torpor.buttons=) ------------------------------------
# buttons_dev: the event device of torpor's buttons (probing is
# asynchronous: up to 10 s for it to appear); status 1 if there is none.
buttons_dev() {
	n=0
	while [ $n -lt 100 ]; do
		for e in /sys/class/input/event*; do
			[ "$(cat "$e/device/name" 2>/dev/null)" = "torpor buttons" ] || continue
			echo "/dev/input/${e##*/}"
			return 0
		done
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

# buttons_read DEV MODE [READY]: prints READY once DEV is open, then acts
# on each key press of DEV, one struct
# input_event (24 bytes on arm64: 16 of time, u16 type, u16 code, s32
# value) at a time, read from one open file so that no event is lost
# between reads. MODE act: KEY_SLEEP suspends (suspend_once, counted),
# KEY_POWER powers off; logind: the same as systemd-logind's defaults,
# without the checks (make shell); ignore: each press is only reported.
buttons_read() {
	mode=$2
	exec 4<"$1"
	# Only now may the host press: a key before the open is lost.
	[ -z "${3:-}" ] || echo "$3"
	cycle=0
	while :; do
		# shellcheck disable=SC2046
		set -- $(dd bs=24 count=1 <&4 2>/dev/null | od -An -v -tu2 | tr '\n' ' ')
		[ $# -ge 12 ] || { bad "buttons: reading the event device failed"; return 1; }
		type=$9 code=${10} value=${11}
		[ "$type" = 1 ] && [ "$value" = 1 ] || continue
		if [ "$mode" = logind ]; then
			case $code in
			142) echo mem >/sys/power/state ;;
			116) leave_root; poweroff -f ;;
			esac
			continue
		fi
		if [ "$mode" != act ]; then echo "GUEST-IGNORED-KEY $code"; continue; fi
		case $code in
		142) echo GUEST-SLEEP-KEY
		     cycle=$((cycle + 1))
		     suspend_once $cycle ;;
		116) echo GUEST-POWER-KEY
		     return 0 ;;
		esac
	done
}

wake_button

test=$(param test)
case $test in
boot)
	check_cpus
	check_deep
	check_rtc
	check_alarm
	check_input
	;;
suspend)
	start_state
	suspend_once 1
	;;
suspend-loop)
	start_state
	n=$(param cycles)
	i=1
	while [ $i -le "${n:-10}" ]; do
		suspend_once $i || break
		i=$((i + 1))
	done
	;;
reset)
	# The guest asks for SYSTEM_RESET; torpor does not reboot it.
	leave_root
	echo "GUEST-DONE reset"
	reboot -f
	;;
demo)
	# make demo: a short, readable story on the console.
	start_state
	echo deep >/sys/power/mem_sleep
	read -r up _ </proc/uptime
	before=$(cat /tmp/count)
	# On a root disk, a line on it: written and synced before the suspend,
	# read back from the disk (page cache dropped) after it.
	if [ -n "$ondisk" ]; then
		echo "written at uptime $up s, before the suspend" >/data/demo
		sync
		echo "guest: root on $root (ext4); wrote /data/demo and synced it"
	fi
	echo "guest: up after $up s, a counter ticks in the background; now: echo mem > /sys/power/state"
	if echo mem >/sys/power/state; then
		c1=$(cat /tmp/count)
		sleep 1
		c2=$(cat /tmp/count)
		blob=CHANGED
		sha256sum -c -s /tmp/blob.sha256 && blob=intact
		echo "guest: back from suspend: counter $before before, $c1 then $c2 after; blob $blob"
		dmesg | grep 'PM: suspend e' | sed 's/^.*PM:/guest:   kernel: PM:/'
		if [ -n "$ondisk" ]; then
			echo 3 >/proc/sys/vm/drop_caches
			echo "guest: read back from the disk: $(cat /data/demo)"
		fi
	else
		echo "guest: the suspend failed"
	fi
	;;
shell)
	# make shell: a person's shell on the console, with job control (the
	# console as its controlling terminal). Deep sleep, so that a suspend
	# reaches torpor (PSCI SYSTEM_SUSPEND) and it hibernates the guest.
	echo deep >/sys/power/mem_sleep
	# torpor.buttons=logind: the sleep and power keys act as under
	# systemd-logind, so that `torpor ctl SOCK hibernate` works.
	if [ -n "$(param buttons)" ] && dev=$(buttons_dev); then
		buttons_read "$dev" logind &
	fi
	echo "guest: busybox sh; 'echo mem > /sys/power/state' hibernates this guest, 'exit' powers it off"
	PS1='guest:\w# ' setsid cttyhack sh
	;;
disk-boot)
	# A file written, fsynced and read back from the disk.
	if check_root; then
		check_cpus
		head -c 65536 /dev/urandom >/data/boot
		sync /data/boot
		sum=$(sha256sum </data/boot)
		echo 3 >/proc/sys/vm/drop_caches
		if [ "$(sha256sum </data/boot)" = "$sum" ]; then ok disk-write
		else bad "disk-write: /data/boot read back differs"; fi
	fi
	;;
disk-suspend)
	if check_root; then
		start_state
		start_disk
		lines=$(wc -l </data/lines)
		suspend_once 1 && check_disk 1 "$lines"
		stop_disk
	fi
	;;
disk-read)
	# What disk-suspend left on this disk, in an earlier boot.
	if check_root; then
		if [ -s /data/before.sha256 ] && sha256sum -c -s /data/before.sha256; then ok disk-file
		else bad "disk-file: /data/before is missing or changed"; fi
		gap="none there"
		[ ! -s /data/lines ] || gap=$(lines_gap)
		if [ -z "$gap" ]; then ok disk-lines
		else bad "disk-lines: /data/lines: $gap"; fi
	fi
	;;
disk-ro)
	# The second disk, /dev/vdb, is read-only.
	check_root && check_ro /dev/vdb
	;;
disk-bench)
	# blkbench (on the root disk only) on the second disk, a scratch disk
	# whose first MiBs it overwrites; its lines go to the console for the
	# host to set beside its own. Then 8 MiB written to vdb through the
	# page cache and a suspend, for the checkpoint's times: the kernel's
	# suspend syncs them out first, so the checkpoint finds them on the
	# host's file and its disk part is the quiesce and the fdatasync.
	if check_root; then
		mib=$(param bench_mib)
		if blkbench /dev/vdb "${mib:-32}"; then ok bench
		else bad "bench: blkbench /dev/vdb failed"; fi
		dd if=/dev/zero of=/dev/vdb bs=1M count=8 2>/dev/null
		start_state
		suspend_once 1
	fi
	;;
net-stream)
	net_up && net_stream
	host_commands
	;;
net-clone)
	net_up && net_clone
	host_commands
	;;
buttons)
	# torpor's buttons: exactly KEY_POWER, KEY_SLEEP and KEY_WAKEUP (the
	# capability bitmap's 64-bit words, highest first), then keys until
	# the power key (act) or for ever (ignore: torpor ends it).
	start_state
	if dev=$(buttons_dev); then
		echo "GUEST-BUTTONS $dev"
		keys=$(cat "/sys/class/input/${dev##*/}/device/capabilities/key")
		if [ "$keys" = "c000 10000000000000 0" ]; then ok buttons-keys
		else bad "buttons-keys: capabilities/key is '$keys'"; fi
		buttons_read "$dev" "$(param buttons)" "GUEST-READY buttons"
	else
		bad "buttons: no input device named 'torpor buttons' ($(cat /sys/class/input/*/name 2>/dev/null | tr '\n' ';'))"
	fi
	;;
vmgenid)
	# The generation ID device is bound (or, with torpor.vmgenid=no,
	# absent: run --no-vmgenid); then a suspend, and the first thing
	# after it returns is 32 bytes of /dev/urandom: two restores of one
	# image must read different bytes, unless restored --no-vmgenid.
	if [ "$(param vmgenid)" = no ]; then
		if vmgenid_bound || ls /sys/firmware/devicetree/base | grep -q vmgenid; then
			bad "vmgenid-absent: a generation ID device: $(ls /sys/firmware/devicetree/base | grep vmgenid)"
		else
			ok vmgenid-absent
		fi
	elif vmgenid_bound; then
		ok vmgenid-bound
		if arm_wake; then
			echo "GUEST-SUSPENDING 1"
			if echo mem >/sys/power/state; then
				r=$(head -c 32 /dev/urandom | od -A n -t x1 | tr -d ' \n')
				echo "GUEST-RANDOM $r"
				dmesg | grep 'random: crng reseeded' |
					sed 's/^.*random: /GUEST-DMESG random: /'
			else
				bad "suspend 1: write to /sys/power/state failed"
			fi
		fi
	else
		bad "vmgenid-bound: no device bound to vmgenid ($(uname -r); /sys/bus/platform/drivers/vmgenid: $(ls /sys/bus/platform/drivers/vmgenid 2>&1 | tr '\n' ' '))"
	fi
	;;
*)
	bad "test: unknown torpor.test='$test'"
	;;
esac
leave_root
read -r up _ </proc/uptime
echo "GUEST-DONE $test $up"
poweroff -f
