#!/bin/busybox sh
# guest-init.sh - /init of the rig's nested Linux guest (runs under torpor),
# on its initramfs and on its root disk alike.
#
# Mounts the pseudo file systems, then runs the in-guest check named by
# torpor.test= on the kernel command line (boot, suspend, suspend-loop,
# reset; on a root disk also disk-boot, disk-suspend, disk-read, disk-ro,
# disk-bench) and powers off (reset: reboots). Other parameters:
#   torpor.cpus=N      vCPUs the guest should have online
#   torpor.now=EPOCH   the host's time when it started the guest
#   torpor.token=WORD  line the host types on the console once asked to
#   torpor.cycles=N    suspend cycles for suspend-loop
#   torpor.bench_mib=N MiB of /dev/vdb that disk-bench runs blkbench on (32)
#   torpor.root=DEV    the root file system is the ext4 on DEV (/dev/vda):
#                      the initramfs loads the drivers, mounts it and
#                      switch_roots to the disk's copy of this script
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
	# The counter must go on from where it was: above it, not restarted, and
	# still ticking.
	c1=$(cat /tmp/count)
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
*)
	bad "test: unknown torpor.test='$test'"
	;;
esac
leave_root
read -r up _ </proc/uptime
echo "GUEST-DONE $test $up"
poweroff -f
