#!/bin/busybox sh
# guest-init.sh - /init of the rig's nested Linux guest (runs under torpor).
#
# Mounts the pseudo file systems, then runs the in-guest check named by
# torpor.test= on the kernel command line (boot, suspend, suspend-loop,
# reset) and powers off (reset: reboots). Other parameters:
#   torpor.cpus=N      vCPUs the guest should have online
#   torpor.now=EPOCH   the host's time when it started the guest
#   torpor.token=WORD  line the host types on the console once asked to
#   torpor.cycles=N    suspend cycles for suspend-loop
# Checks print "GUEST-OK <what>" or "GUEST-FAIL <what>: <details>". The
# first line is "GUEST-INIT <uptime>", the last "GUEST-DONE <mode> <uptime>"
# (to tell guest boot time from monitor overhead). Output is kept short:
# nested, every console character is a trap to the monitor.
/bin/busybox mkdir -p /proc /sys /dev /tmp /usr/bin /usr/sbin /sbin
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
read -r up _ </proc/uptime
echo "GUEST-INIT $up"

# param NAME: value of torpor.NAME= on the kernel command line, or empty.
param() {
	for w in $(cat /proc/cmdline); do
		case $w in torpor.$1=*) echo "${w#*=}"; return ;; esac
	done
}

ok() { echo "GUEST-OK $*"; }
bad() { echo "GUEST-FAIL $*"; }

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

# torpor's wake button (gpio-keys on the PL061), armed for wakeup by the
# driver; torpor.keys=no leaves it out (a guest with no wake source). A
# kernel without the driver (Debian's cloud kernel) has no module here.
[ "$(param keys)" = no ] || [ ! -e /lib/gpio_keys.ko ] || insmod /lib/gpio_keys.ko

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
	echo "GUEST-DONE reset"
	reboot -f
	;;
demo)
	# make demo: a short, readable story on the console.
	start_state
	echo deep >/sys/power/mem_sleep
	read -r up _ </proc/uptime
	before=$(cat /tmp/count)
	echo "guest: up after $up s, a counter ticks in the background; now: echo mem > /sys/power/state"
	if echo mem >/sys/power/state; then
		c1=$(cat /tmp/count)
		sleep 1
		c2=$(cat /tmp/count)
		blob=CHANGED
		sha256sum -c -s /tmp/blob.sha256 && blob=intact
		echo "guest: back from suspend: counter $before before, $c1 then $c2 after; blob $blob"
		dmesg | grep 'PM: suspend e' | sed 's/^.*PM:/guest:   kernel: PM:/'
	else
		echo "guest: the suspend failed"
	fi
	;;
*)
	bad "test: unknown torpor.test='$test'"
	;;
esac
read -r up _ </proc/uptime
echo "GUEST-DONE $test $up"
poweroff -f
