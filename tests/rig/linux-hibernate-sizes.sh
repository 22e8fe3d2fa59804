#!/bin/sh
# linux-hibernate-sizes: the Linux guest, holding 64 MiB of random data in
# tmpfs, hibernated and restored with 256 MiB and with 1 GiB of RAM; each
# round trip must resume with its state intact.
# Reports the image size, checkpoint time, restore time, the time from
# `torpor restore` to the guest's first instruction (its PSCI entry point)
# and to its first line after `echo mem` returned ("PM: suspend exit" is
# logged just before it).
# rig-timeout: 300
. "$RIG_LIB"

uptime_s() { cut -d' ' -f1 /proc/uptime; }

for mem in 256M 1G; do
	img=$WORK/vm-$mem.torpor
	timeout 120 "$TORPOR" run --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
		--memory $mem --image "$img" --cmdline "$(guest_cmdline suspend 1 torpor.fill=64)" \
		</dev/null >"$WORK/console.raw" 2>"$WORK/stderr"
	rc=$?
	expect_rc 7 "hibernate $mem"
	echo "rig-info: $mem: $(grep -m1 hibernated "$WORK/stderr" | sed 's/^.*: \([0-9.]* MiB for\)/\1/')"

	t0=$(uptime_s)
	timeout 120 "$TORPOR" restore "$img" </dev/null >"$WORK/console.raw" 2>"$WORK/stderr" &
	pid=$!
	n=0
	while ! grep -q '^GUEST-RESUMED' "$WORK/console.raw" && [ $n -lt 1200 ]; do
		sleep 0.05
		n=$((n + 1))
	done
	t1=$(uptime_s)
	wait $pid
	rc=$?
	tr -d '\r' <"$WORK/console.raw" >"$WORK/console"
	grep -q '^GUEST-RESUMED 1' "$WORK/console" || { show "$WORK/console"; show "$WORK/stderr"; fail "$mem: no resume"; }
	expect_guest_ok "counter 1" "sha256 1" "clock 1" "pm-exit 1"
	expect_rc 0 "restore $mem"
	echo "rig-info: $mem: $(grep -m1 'restored ' "$WORK/stderr" | sed 's/^torpor: //;s/ [^ ]*torpor in/ in/'); $(grep -m1 'entry point' "$WORK/stderr" | sed 's/^torpor: //'); first guest line after the suspend $(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }') s after restore began"
done
