# lib.sh - helpers for rig scenarios; sourced as  . "$RIG_LIB"  (POSIX sh).
#
# Scenarios get TORPOR, GUEST_KERNEL, GUEST_INITRD, GUEST_KERNELS,
# GUEST_ROOTFS, GUESTS and WORK from the runner (runner.sh), report problems
# on stderr and exit non-zero on failure. Lines they print starting with
# "rig-info: " are shown even when they pass.
#
# Disks: the guests boot_guest and hibernate_guest start get a --disk SPEC
# for each word of DISKS (SPEC: PATH[,readonly][,serial=ID], in order: the
# guest's /dev/vda, /dev/vdb...), and boot from /dev/vda when GUEST_ROOT is
# /dev/vda (the kernel parameter torpor.root=, see guest-init.sh). Both are
# empty unless the scenario sets them; use_root_disk sets both.

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# progress LINE: prints LINE, and shows it at once in the rig's output (on
# the runner's RIG_PROGRESS_FD, as one of this scenario's RIG-INFO lines)
# rather than when the scenario ends: for scenarios that run for long.
progress() {
	echo "$*"
	if [ -n "${RIG_PROGRESS_FD:-}" ]; then
		echo "RIG-INFO ${RIG_SCENARIO:-?}| $*" >&"$RIG_PROGRESS_FD"
	fi
}

# show FILE [N]: the last N (20) lines of FILE, indented, without CRs.
show() {
	tr -d '\r' <"$1" | tail -n "${2:-20}" | sed 's/^/    /' >&2
}

# use_guest_kernel K: the nested guests started from now on run kernel K
# (bookworm, trixie, bookworm-cloud: see scripts/rig.sh) with its own
# initramfs; it sets GUEST_KERNEL and GUEST_INITRD. The scenario must name K
# on a "# rig-guest-kernels: K..." line so that scripts/rig.sh ships it
# (the default guest kernel, RIG_GUEST, is always there).
use_guest_kernel() {
	[ -f "$GUEST_KERNELS/$1/Image" ] ||
		fail "guest kernel $1 is not in the rig tree (name it on a '# rig-guest-kernels:' line)"
	GUEST_KERNEL=$GUEST_KERNELS/$1/Image
	GUEST_INITRD=$GUEST_KERNELS/$1/guest.cpio
}

# guest_cmdline TEST CPUS [EXTRA]: kernel command line for the rig's guest
# initramfs (see guest-init.sh) running in-guest check TEST, on the root
# disk GUEST_ROOT if set.
guest_cmdline() {
	echo "console=ttyS0 quiet panic=-1 torpor.test=$1 torpor.cpus=$2" \
		"torpor.now=$(date +%s)${GUEST_ROOT:+ torpor.root=$GUEST_ROOT} ${3:-}"
}

# use_root_disk FILE: the guests started from now on boot from FILE, a fresh
# copy of the rig's root disk (GUEST_ROOTFS: busybox and guest-init.sh on a
# 16 MiB ext4): DISKS becomes FILE (append more: DISKS="$DISKS F,readonly")
# and GUEST_ROOT /dev/vda.
use_root_disk() {
	cp "$GUEST_ROOTFS" "$1" || fail "copying the root disk to $1"
	DISKS=$1
	GUEST_ROOT=/dev/vda
}

# disk_args: torpor's options for the disks in DISKS.
disk_args() {
	for da_spec in ${DISKS:-}; do
		printf ' --disk %s' "$da_spec"
	done
}

# fsck_disk FILE: e2fsck -fn on the ext4 disk FILE of a guest that is off;
# fails, showing e2fsck's report, unless it exits 0 having said nothing but
# its passes and summary (a guest must leave its disk clean). e2fsck (arm64,
# from Debian) sits next to torpor with its libraries and loader.
fsck_disk() {
	fd_dir=$(dirname "$TORPOR")/e2fsprogs
	"$fd_dir/ld-linux-aarch64.so.1" --library-path "$fd_dir" "$fd_dir/e2fsck" -fn "$1" \
		>"$WORK/fsck.out" 2>&1
	fd_rc=$?
	if [ $fd_rc -ne 0 ] ||
		grep -qvE '^(e2fsck [0-9.]+ \(.*\)|Pass [1-5]: .*|.*: [0-9]+/[0-9]+ files .* blocks)$' "$WORK/fsck.out"; then
		show "$WORK/fsck.out"
		fail "e2fsck -fn $1 (exit status $fd_rc): the file system is not clean"
	fi
}

# boot_guest TEST CPUS [MEMORY [EXTRA_CMDLINE]]: runs `torpor run` on the
# Debian kernel and the guest initramfs. The console goes to $WORK/console
# (CRs removed afterwards), stderr to $WORK/stderr, the exit status to $rc.
# When the guest prints "GUEST-READY input" it is sent the line $token
# through torpor's stdin (a FIFO that stays open until torpor exits). A guest
# still running after $GUEST_TIMEOUT (90) seconds is killed: rc=124.
boot_guest() {
	token="tok$$x$(date +%s)"
	rm -f "$WORK/in"
	mkfifo "$WORK/in" || fail "mkfifo"
	# shellcheck disable=SC2046
	"$TORPOR" run --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
		--cpus "$2" --memory "${3:-256M}" $(disk_args) \
		--cmdline "$(guest_cmdline "$1" "$2" "torpor.token=$token ${4:-}")" \
		<"$WORK/in" >"$WORK/console.raw" 2>"$WORK/stderr" &
	pid=$!
	exec 3>"$WORK/in"
	sent= ticks=$((${GUEST_TIMEOUT:-90} * 5))
	while kill -0 $pid 2>/dev/null && [ $ticks -gt 0 ]; do
		if [ -z "$sent" ] && grep -q 'GUEST-READY input' "$WORK/console.raw"; then
			echo "$token" >&3
			sent=1
		fi
		sleep 0.2
		ticks=$((ticks - 1))
	done
	if kill -0 $pid 2>/dev/null; then
		echo "guest still running after ${GUEST_TIMEOUT:-90} s: killed" >&2
		kill -KILL $pid
		wait $pid
		rc=124
	else
		wait $pid
		rc=$?
	fi
	exec 3>&-
	tr -d '\r' <"$WORK/console.raw" >"$WORK/console"
}

# release_lt A B: kernel release A ("6.1.0-57-arm64") is older than B
# ("6.12.118+deb13-arm64"), by their first three numbers.
release_lt() {
	# shellcheck disable=SC2046
	set -- $(echo "$1" | sed 's/^\([0-9]*\)\.\([0-9]*\)\.*\([0-9]*\).*/0\1 0\2 0\3/') \
		$(echo "$2" | sed 's/^\([0-9]*\)\.\([0-9]*\)\.*\([0-9]*\).*/0\1 0\2 0\3/')
	[ "$1" -lt "$4" ] || { [ "$1" -eq "$4" ] && { [ "$2" -lt "$5" ] ||
		{ [ "$2" -eq "$5" ] && [ "$3" -lt "$6" ]; }; }; }
}

# disk_put FILE SLOT: writes FILE into slot SLOT (0, 1 or 2) of the rig disk,
# $RIG_DISK, which the next boot of the host sees too: a one-line header in
# its first 4 KiB ("torpor-rig-image SIZE SHA256 BOOT_ID KERNEL_RELEASE" of
# this boot), FILE after it. Slot N starts at N * 256 MiB.
disk_put() {
	[ -n "${RIG_DISK:-}" ] || fail "no rig disk"
	dp_size=$(wc -c <"$1")
	[ "$dp_size" -le $((256 * 1048576 - 4096)) ] || fail "$1 ($dp_size bytes) is larger than a slot of the rig disk"
	dp_at=$(($2 * 65536))
	printf 'torpor-rig-image %s %s %s %s\n' "$dp_size" "$(sha256sum "$1" | cut -d' ' -f1)" \
		"$(cat /proc/sys/kernel/random/boot_id)" "$(uname -r)" |
		dd of="$RIG_DISK" bs=4096 seek=$dp_at count=1 conv=sync,notrunc 2>/dev/null ||
		fail "writing the header of slot $2"
	dd if="$1" of="$RIG_DISK" bs=4096 seek=$((dp_at + 1)) conv=notrunc 2>/dev/null ||
		fail "writing $1 into slot $2"
	sync
}

# disk_get FILE SLOT: reads what disk_put left in slot SLOT into FILE and
# checks its sha256; disk_boot and disk_kernel are the boot id and kernel
# release of the host that wrote it.
disk_get() {
	[ -n "${RIG_DISK:-}" ] || fail "no rig disk"
	dp_at=$(($2 * 65536))
	# shellcheck disable=SC2046
	set -- "$1" "$2" $(dd if="$RIG_DISK" bs=4096 skip=$dp_at count=1 2>/dev/null | head -n 1)
	[ "$3" = torpor-rig-image ] || fail "no image in slot $2 of the rig disk"
	disk_boot=$6 disk_kernel=$7
	dd if="$RIG_DISK" bs=4096 skip=$((dp_at + 1)) count=$((($4 + 4095) / 4096)) 2>/dev/null |
		head -c "$4" >"$1"
	[ "$(sha256sum "$1" | cut -d' ' -f1)" = "$5" ] || fail "slot $2 of the rig disk changed"
}

# expect_guest_ok WHAT...: every "GUEST-OK WHAT" line is in $WORK/console,
# and no GUEST-FAIL line is.
expect_guest_ok() {
	bad=0
	for what; do
		grep -qx "GUEST-OK $what" "$WORK/console" || {
			echo "missing: GUEST-OK $what" >&2
			bad=1
		}
	done
	if grep -q '^GUEST-FAIL' "$WORK/console"; then
		grep '^GUEST-FAIL' "$WORK/console" >&2
		bad=1
	fi
	if [ $bad -ne 0 ]; then
		echo "torpor exit status $rc; console:" >&2; show "$WORK/console"
		echo "stderr:" >&2; show "$WORK/stderr" 5
		fail "guest checks"
	fi
}

# guest_times: a rig-info line with the guest's uptime when its /init
# started and when its check finished.
guest_times() {
	i=$(sed -n 's/^GUEST-INIT \([0-9.]*\).*/\1/p' "$WORK/console")
	d=$(sed -n 's/^GUEST-DONE [^ ]* \([0-9.]*\).*/\1/p' "$WORK/console")
	echo "rig-info: guest uptime at /init ${i:-?} s, at the end ${d:-?} s"
}

# hibernate_guest TEST CPUS IMAGE [EXTRA_CMDLINE [TORPOR_OPTS]]: boots the
# Debian guest in suspend mode TEST with --image IMAGE; its console goes to
# $WORK/console, stderr to $WORK/stderr, the exit status to $rc (143 if it
# ran for more than 120 s: busybox timeout signals torpor itself, which stops
# with 128+SIGTERM). stdin is empty: nothing is typed into the guest.
hibernate_guest() {
	# shellcheck disable=SC2046
	timeout 120 "$TORPOR" run --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
		--cpus "$2" --memory 256M --image "$3" $(disk_args) ${5:-} \
		--cmdline "$(guest_cmdline "$1" "$2" "${4:-}")" \
		</dev/null >"$WORK/console.raw" 2>"$WORK/stderr"
	rc=$?
	tr -d '\r' <"$WORK/console.raw" >"$WORK/console"
}

# restore_guest IMAGE [OPTS]: `torpor restore` in a new process, same files
# and $rc convention as hibernate_guest. The image names the guest's disks;
# OPTS may move one (--disk PATH, as torpor restore takes it). DISKS is not
# used here.
restore_guest() {
	restore_from=$1
	shift
	timeout 120 "$TORPOR" restore "$@" "$restore_from" \
		</dev/null >"$WORK/console.raw" 2>"$WORK/stderr"
	rc=$?
	tr -d '\r' <"$WORK/console.raw" >"$WORK/console"
}

# expect_rc WANT WHAT: fails with the console and stderr unless $rc = WANT.
expect_rc() {
	[ "$rc" -eq "$1" ] && return 0
	show "$WORK/console"
	show "$WORK/stderr" 5
	fail "$2: torpor exit status $rc, want $1"
}

# stderr_info PATTERN: the stderr line matching PATTERN as a rig-info line.
stderr_info() {
	echo "rig-info: $(grep -m1 "$1" "$WORK/stderr" | sed 's/^torpor: //')"
}

# hibernate_roundtrip CPUS: the Linux guest suspends itself, torpor
# hibernates it (exit 7), a new torpor restores it; the guest's state checks
# after the wakeup must all pass and it powers off (exit 0).
hibernate_roundtrip() {
	img=$WORK/vm.torpor
	hibernate_guest suspend "$1" "$img"
	expect_rc 7 "hibernate"
	grep -q '^GUEST-SUSPENDING 1' "$WORK/console" || { show "$WORK/console"; fail "guest did not suspend"; }
	[ -s "$img" ] || fail "no image written"
	stderr_info hibernated
	restore_guest "$img"
	stderr_info 'restored '
	stderr_info 'verified'
	grep -q '^GUEST-RESUMED 1' "$WORK/console" || { show "$WORK/console"; show "$WORK/stderr"; fail "guest did not resume (restore exit $rc)"; }
	expect_guest_ok "counter 1" "sha256 1" "resume 1 cpus" "clock 1" "pm-exit 1"
	expect_rc 0 "restored guest"
}

# pattern_ok DISK SECTOR: the 4 KiB of DISK at SECTOR hold the bare-metal
# guests' pattern (tests/guests/vio.h): the 32-bit word at byte offset 4n is
# n * 0x9E3779B1 + 0x74727076 mod 2^32. On failure says how many of the 1024
# words differ.
pattern_ok() {
	po=$(dd if="$1" bs=512 skip="$2" count=8 2>/dev/null | od -A n -v -t u4 |
		awk -v n="$(($2 * 128))" '{
			for (i = 1; i <= NF; i++) {
				w = (n * 2654435761 + 1953656950) % 4294967296
				if ($i + 0 != w)
					bad++
				n++
				c++
			}
		} END { print c + 0, bad + 0 }')
	[ "$po" = "1024 0" ] && return 0
	echo "sector $2 of $1: (words, wrong) = ($po), want (1024, 0)" >&2
	return 1
}

# zero_except DISK SECTOR...: DISK reads as zeros but for the 4 KiB at each
# SECTOR (a scratch copy in $WORK, DISK itself only read).
zero_except() {
	ze_disk=$1
	shift
	cp "$ze_disk" "$WORK/zero-check" || return 1
	for ze_s; do
		dd if=/dev/zero of="$WORK/zero-check" bs=512 seek="$ze_s" count=8 conv=notrunc \
			2>/dev/null || return 1
	done
	ze_n=$(tr -d '\000' <"$WORK/zero-check" | wc -c)
	rm -f "$WORK/zero-check"
	[ "$ze_n" -eq 0 ] && return 0
	echo "$ze_disk: $ze_n non-zero bytes outside the sectors the guest wrote" >&2
	return 1
}

# --- networking ---------------------------------------------------------------
# The guests' cards sit on persistent taps (tests/tools/tapctl) that outlive
# torpor, so that the host's end of a connection, its address and its route
# stay while a guest is hibernated. Host addresses are 10.0.N.1, the guests'
# 10.0.N.2; the rig's host has no other interface, so nothing leaves it.

# now_cs: the host's uptime in centiseconds (for figures).
now_cs() {
	read -r nc_up _ </proc/uptime
	echo "${nc_up%.*}${nc_up#*.}" | sed 's/^0*//; s/^$/0/'
}

# secs_cs CS: centiseconds as seconds with two decimals.
secs_cs() {
	printf '%d.%02d' $(($1 / 100)) $(($1 % 100))
}

# net_up TAP ADDR/N: a fresh persistent tap TAP (one left over by an
# earlier scenario deleted first), up, with the host address ADDR/N and no
# IPv6 (so that the host sends nothing on it of its own accord).
net_up() {
	net_down "$1" 2>/dev/null
	"$(dirname "$TORPOR")/tapctl" add "$1" || fail "tapctl add $1"
	nu_v6=/proc/sys/net/ipv6/conf/$1/disable_ipv6
	[ ! -e "$nu_v6" ] || echo 1 >"$nu_v6"
	ip link set "$1" up || fail "ip link set $1 up"
	ip addr add "$2" dev "$1" || fail "ip addr add $2 dev $1"
}

# net_down TAP: deletes the persistent tap TAP (status 1 if there is none,
# or a torpor still has it open).
net_down() {
	[ -e "/sys/class/net/$1" ] || return 1
	ip link set "$1" down
	"$(dirname "$TORPOR")/tapctl" del "$1"
}

# neigh_mac TAP ADDR: the MAC in the host's neighbour entry for ADDR on
# TAP, or nothing (no entry, or one without an address: INCOMPLETE, FAILED).
neigh_mac() {
	ip neigh show dev "$1" | awk -v a="$2" '$1 == a { for (i = 2; i < NF; i++) if ($i == "lladdr") print $(i + 1) }'
}

# neigh_state TAP ADDR: the state (REACHABLE, STALE...) of that entry.
neigh_state() {
	ip neigh show dev "$1" | awk -v a="$2" '$1 == a { print $NF }'
}

# tap_sent TAP: frames the host has sent into TAP (towards the guest),
# delivered or dropped (no torpor attached).
tap_sent() {
	echo $(($(cat "/sys/class/net/$1/statistics/tx_packets") + \
		$(cat "/sys/class/net/$1/statistics/tx_dropped")))
}

# spawn_torpor ARG...: `torpor ARG...` in the background, pid in $pid, its
# console in $WORK/console.raw (read it with wait_line), stderr in
# $WORK/stderr, stdin a FIFO the scenario writes on fd 3 (type_line LINE).
# reap_torpor ends it.
spawn_torpor() {
	rm -f "$WORK/in"
	mkfifo "$WORK/in" || fail "mkfifo"
	"$TORPOR" "$@" <"$WORK/in" >"$WORK/console.raw" 2>"$WORK/stderr" &
	pid=$!
	exec 3>"$WORK/in"
}

# type_line LINE: types LINE on the spawned guest's console.
type_line() {
	echo "$1" >&3
}

# wait_line PATTERN [COUNT [SECONDS]]: until COUNT (1) console lines of the
# spawned torpor match PATTERN (grep -E), at most SECONDS (90); status 1 if
# it did not happen, or torpor exited first.
wait_line() {
	wl_ticks=$((${3:-90} * 10))
	while [ "$(tr -d '\r' <"$WORK/console.raw" | grep -cE "$1")" -lt "${2:-1}" ]; do
		kill -0 "$pid" 2>/dev/null || return 1
		[ $wl_ticks -gt 0 ] || return 1
		sleep 0.1
		wl_ticks=$((wl_ticks - 1))
	done
}

# reap_torpor [SECONDS]: waits for the spawned torpor (SECONDS, 120, at
# most: then it is killed and rc is 124), sets rc, closes fd 3, and leaves
# the console without CRs in $WORK/console.
reap_torpor() {
	rt_ticks=$((${1:-120} * 10))
	while kill -0 "$pid" 2>/dev/null && [ $rt_ticks -gt 0 ]; do
		sleep 0.1
		rt_ticks=$((rt_ticks - 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "torpor still running after ${1:-120} s: killed" >&2
		kill -KILL "$pid"
		wait "$pid"
		rc=124
	else
		wait "$pid"
		rc=$?
	fi
	exec 3>&-
	tr -d '\r' <"$WORK/console.raw" >"$WORK/console"
}

# guest_died WHAT: fails, showing the console and stderr of the spawned
# torpor (killed if still running).
guest_died() {
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	tr -d '\r' <"$WORK/console.raw" >"$WORK/console"
	show "$WORK/console"
	show "$WORK/stderr" 5
	fail "$1"
}

# net_bench ADDR [ROUNDS]: the host's end of the network bench against a
# guest at ADDR that is in host_commands (guest-init.sh) on the root disk
# (netbench, tests/tools, is there; torpor.net_mib= must match MIB, 8 by
# default). ROUNDS (2) times: types "bench", reads MIB MiB the guest sends
# (guest->host) and sends as many (host->guest), each timed from connect to
# the last byte the receiver got; then the same on the host's loopback, 3
# rounds. Prints each direction's best rate (the rig's machine is shared and
# TCG is noisy: the best is the least disturbed), every rate, and the ratios
# of the bests, as rig-info lines. Judges no speed.
net_bench() {
	nb_mib=${MIB:-8}
	nb_addr=$1
	nb_rounds=${2:-2}
	nb_tool=$(dirname "$TORPOR")/netbench
	nb_all=
	nb_r=0
	while [ $nb_r -lt "$nb_rounds" ]; do
		nb_r=$((nb_r + 1))
		type_line bench
		wait_line '^GUEST-BENCH send' $nb_r 30 || guest_died "bench: the guest does not send"
		nb_g=$("$nb_tool" "$nb_addr" 5001 recv) || guest_died "bench: guest->host"
		wait_line '^GUEST-BENCH recv' $nb_r 30 || guest_died "bench: the guest does not receive"
		nb_h=$("$nb_tool" "$nb_addr" 5002 send "$nb_mib") || guest_died "bench: host->guest"
		nb_all="$nb_all g2h $nb_g h2g $nb_h"
		[ $nb_r -eq "$nb_rounds" ] || wait_line '^GUEST-READY cmd' $((nb_r + 1)) 60 ||
			guest_died "bench: the guest did not finish round $nb_r"
	done
	# The baseline: the same on the loopback.
	for nb_r in 1 2 3; do
		for nb_dir in recv send; do
			if [ $nb_dir = recv ]; then set -- send "$nb_mib"; else set -- recv; fi
			"$nb_tool" serve 6001 "$@" >"$WORK/nb.serve" &
			nb_p=$!
			sleep 0.2
			grep -q listening "$WORK/nb.serve" || sleep 1
			if [ $nb_dir = recv ]; then
				nb_x=$("$nb_tool" 127.0.0.1 6001 recv) || fail "bench: loopback recv"
				nb_all="$nb_all lo1 $nb_x"
			else
				nb_x=$("$nb_tool" 127.0.0.1 6001 send "$nb_mib") || fail "bench: loopback send"
				nb_all="$nb_all lo2 $nb_x"
			fi
			wait $nb_p
		done
	done
	echo "$nb_all" | awk -v m="$nb_mib" '
		{
			for (i = 1; i + 2 <= NF; i += 3) {
				k = $i; b = $(i + 1); us = $(i + 2)
				if (b != m * 1048576) print "rig-info: net-bench: short transfer (" k "): " b " bytes"
				r = us > 0 ? b / us * 1000000 / 1048576 : 0
				all[k] = all[k] sprintf(" %.1f", r)
				if (r > best[k]) best[k] = r
			}
			printf "rig-info: figure: net-bench %d MiB, best of each: guest->host %.1f MiB/s, host->guest %.1f MiB/s; host loopback %.1f and %.1f MiB/s; ratios %.3f and %.3f\n",
				m, best["g2h"], best["h2g"], best["lo1"], best["lo2"],
				(best["lo1"] > 0 ? best["g2h"] / best["lo1"] : 0), (best["lo2"] > 0 ? best["h2g"] / best["lo2"] : 0)
			printf "rig-info: net-bench rates (MiB/s): guest->host%s; host->guest%s; loopback%s and%s\n",
				all["g2h"], all["h2g"], all["lo1"], all["lo2"]
		}'
}

# uptime_s: the host's uptime, seconds; since T0 T1: T1 - T0 to 0.01.
uptime_s() { cut -d' ' -f1 /proc/uptime; }
since() { echo "$1 $2" | awk '{ printf "%.2f", $2 - $1 }'; }
# The number in the stderr line matching $1 just before " s".
logged_s() { grep -m1 "$1" "$WORK/stderr" | sed -n 's/.* \([0-9.]*\) s.*/\1/p'; }

# measure_restore LABEL CYCLE IMAGE OPTS...: restores IMAGE with OPTS; the guest
# resumes from its suspend CYCLE (torpor.work=1: its workload line is
# awaited); a LABEL ending in "eager" is an eager restore, any other lazy.
# Prints a rig-info line and keeps "first line workload" seconds
# in r_<label, spaces as _>; sets first, line, work, resident, rss.
measure_restore() {
	label=$1 cycle=$2 from=$3
	shift 3
	# The last run's console must not be read as this one's: the
	# redirection below truncates it only once the child runs.
	rm -f "$WORK/console.raw"
	t0=$(uptime_s)
	timeout 300 "$(dirname "$TORPOR")/peak-rss" "$WORK/rss" "$TORPOR" restore "$@" "$from" \
		</dev/null >"$WORK/console.raw" 2>"$WORK/stderr" &
	pid=$!
	line= work= n=0
	while [ -z "$work" ] && kill -0 $pid 2>/dev/null && [ $n -lt 6000 ]; do
		if [ -z "$line" ] && grep -qs "^GUEST-RESUMED $cycle" "$WORK/console.raw"; then
			line=$(since "$t0" "$(uptime_s)")
		fi
		if grep -qs "^GUEST-WORKLOAD $cycle" "$WORK/console.raw"; then
			work=$(since "$t0" "$(uptime_s)")
			[ -n "$line" ] || line=$work
		fi
		sleep 0.05
		n=$((n + 1))
	done
	wait $pid
	rc=$?
	tr -d '\r' <"$WORK/console.raw" >"$WORK/console"
	[ -n "$work" ] || { show "$WORK/console"; show "$WORK/stderr"; fail "$label: no workload line (exit $rc)"; }
	expect_guest_ok "counter $cycle" "sha256 $cycle" "clock $cycle" "pm-exit $cycle" "work $cycle"
	first=$(logged_s 'entry point')
	case $label in
	*eager) resident=$(logged_s 'memory decoded in') ;;
	*) resident=$(logged_s 'memory resident')
		grep -q 'filled lazily' "$WORK/stderr" || { show "$WORK/stderr"; fail "$label: not lazy"; } ;;
	esac
	rss=$(($(cat "$WORK/rss") / 1024))
	lazy_info=
	grep -q 'filled lazily' "$WORK/stderr" &&
		lazy_info="; memory checked in $(logged_s 'memory checked in') s; $(grep -m1 'memory resident' "$WORK/stderr" | sed 's/^torpor: memory resident [0-9.]* s after the restore began: //')"
	echo "rig-info: $label: first instruction ${first:-?} s, first line $line s, workload $work s, resident ${resident:-?} s, peak RSS $rss MiB$lazy_info"
	eval "r_${label%% *}_$(echo "${label#* }" | tr -c 'a-z0-9\n' _)=\"\$first \$line \$work\""
}


# --- the control socket (--api-socket, `torpor ctl`) ---------------------------

# ctl ARG...: `torpor ctl ARG...`.
ctl() { "$TORPOR" ctl "$@"; }

# member NAME FILE: the value of member NAME of the first JSON line of FILE
# that has it (a string without its quotes, or a number).
member() {
	sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",}]*\).*/\1/p" "$2" | head -n 1
}

# events_in_order FILE EVENT...: FILE (`torpor ctl SOCK events --json`
# output) holds each EVENT, in this order (others may come between);
# otherwise fails, showing FILE.
events_in_order() {
	eo_file=$1
	shift
	eo_got=$(sed -n 's/.*"event": *"\([^"]*\)".*/\1/p' "$eo_file" | tr '\n' ' ')
	eo_rest=" $eo_got"
	for eo_e; do
		case $eo_rest in
		*" $eo_e "*) eo_rest=${eo_rest#*" $eo_e "}; eo_rest=" $eo_rest" ;;
		*) show "$eo_file"; fail "events: want $* in order, got: $eo_got" ;;
		esac
	done
}
