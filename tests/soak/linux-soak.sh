#!/bin/sh
# linux-soak (`make soak`; not one of `make check`'s scenarios): one Linux
# guest with 2 vCPUs through SOAK_CYCLES (default 100) hibernate/restore
# cycles. Cycle i is one `torpor restore` process: it restores the image
# the last one wrote, the guest checks its state (its counter goes on, its
# blob's sha256 holds, both CPUs are online, its clock agrees with the RTC,
# "PM: suspend exit" is logged) and suspends again, and torpor checkpoints
# it over the same image (exit 7). A last restore checks the state the last
# cycle saved and lets the guest power off (exit 0).
# Per cycle it reports the image size, the checkpoint and restore times
# torpor logs, torpor's peak RSS (peak-rss: wait4's ru_maxrss) split into
# the guest's resident RAM (the image's data and zero pages: what was
# mapped when it was written) and the rest, torpor's own (both at the
# end of the summary, with the data and zero pages apart); the process's
# wall time; and a probe: the time the rig's host takes for a fixed job
# (md5sum of 16 MiB), which tells a slower machine from a slower torpor.
# It fails if a cycle fails, or if the peak RSS, the checkpoint time or the
# restore time trends upward (see "The trend test" below).
# rig-timeout: 4120
. "$RIG_LIB"

n=${SOAK_CYCLES:-100}
case $n in '' | *[!0-9]*) fail "SOAK_CYCLES='$n' is not a number" ;; esac
[ "$n" -ge 1 ] || fail "SOAK_CYCLES must be at least 1"
cpus=2
img=$WORK/vm.torpor
peak="$(dirname "$TORPOR")/peak-rss"
[ -x "$peak" ] || fail "no $peak (tests/tools/peak-rss.c)"
table=$WORK/cycles
: >"$table"

uptime_s() { cut -d' ' -f1 /proc/uptime; }
ckpt_s() { sed -n 's/^torpor: hibernated .*checkpoint \([0-9.]*\) s$/\1/p' "$WORK/stderr"; }
restore_s() { sed -n 's/^torpor: restored [^ ]* in \([0-9.]*\) s;.*$/\1/p' "$WORK/stderr"; }
# scaled X DIVISOR DECIMALS: X / DIVISOR with DECIMALS decimals.
scaled() { awk -v x="$1" -v s="$2" -v d="$3" 'BEGIN { printf "%." d "f", x / s }'; }

t_start=$(uptime_s)
hibernate_guest suspend-loop $cpus "$img" "torpor.cycles=$((n + 1))"
expect_rc 7 "boot and first hibernate"
echo "rig-info: soak: $n cycles, $cpus vCPUs, 256 MiB; boot and first hibernate" \
	"$(awk -v a="$t_start" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }') s," \
	"image $(scaled "$(wc -c <"$img")" 1048576 1) MiB, checkpoint $(ckpt_s) s"
progress "cycle  image MiB  checkpoint s  restore s  peak RSS MiB = guest + torpor  wall s  probe s"

i=1
while :; do
	p0=$(uptime_s)
	dd if=/dev/zero bs=1M count=16 2>/dev/null | md5sum >/dev/null
	t0=$(uptime_s)
	"$peak" "$WORK/rss" timeout 120 "$TORPOR" restore "$img" \
		</dev/null >"$WORK/console.raw" 2>"$WORK/stderr"
	rc=$?
	t1=$(uptime_s)
	tr -d '\r' <"$WORK/console.raw" >"$WORK/console"
	grep -q "^GUEST-RESUMED $i\$" "$WORK/console" || {
		show "$WORK/console"; show "$WORK/stderr"
		fail "cycle $i: the guest did not resume (exit $rc)"
	}
	expect_guest_ok "counter $i" "sha256 $i" "resume $i cpus" "clock $i" "pm-exit $i"
	if [ $i -gt "$n" ]; then
		expect_rc 0 "the last restore (the guest powers off)"
		break
	fi
	expect_rc 7 "cycle $i"
	size=$(wc -c <"$img") ckpt=$(ckpt_s) restore=$(restore_s) rss=$(cat "$WORK/rss")
	# The guest's resident pages when the image was written.
	guest=$(timeout 60 "$TORPOR" inspect "$img" |
		sed -n 's/^memory: .*pages: \([0-9]*\) data, \([0-9]*\) zero,.*/\1 \2/p' |
		awk '{ print 4 * $1, 4 * $2 }')
	[ -n "$size" ] && [ -n "$ckpt" ] && [ -n "$restore" ] && [ -n "$rss" ] && [ -n "$guest" ] || {
		show "$WORK/stderr"
		fail "cycle $i: a figure is missing: size '$size' checkpoint '$ckpt'" \
			"restore '$restore' rss '$rss' guest '$guest'"
	}
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	probe=$(awk -v a="$p0" -v b="$t0" 'BEGIN { printf "%.2f", b - a }')
	# Columns: 1 cycle, 2 image bytes, 3 checkpoint s, 4 restore s,
	# 5 peak RSS KiB, 6 wall s, 7 probe s, 8 and 9 the guest's data and
	# zero pages in KiB, then 10 torpor's own KiB (5 - 8 - 9), 11 and 12
	# the checkpoint and restore times in probes.
	echo "$i $size $ckpt $restore $rss $wall $probe $guest" |
		awk '{ p = $7 > 0 ? $7 : 0.01; print $0, $5 - $8 - $9, $3 / p, $4 / p }' >>"$table"
	own=$(tail -n 1 "$table" | cut -d' ' -f10)
	progress "$(printf '%5d  %9s  %12s  %9s  %12s = %5s + %6s  %6s  %7s' $i \
		"$(scaled "$size" 1048576 2)" "$ckpt" "$restore" "$(scaled "$rss" 1024 1)" \
		"$(scaled $((rss - own)) 1024 1)" "$(scaled "$own" 1024 1)" "$wall" "$probe")"
	i=$((i + 1))
done
total=$(awk -v a="$t_start" -v b="$(uptime_s)" 'BEGIN { printf "%.0f", b - a }')
echo "rig-info: soak: $n cycles and the final restore passed in $total s"

# --- figures and the trend test ------------------------------------------------
# col_range COL: the values of column COL of the table for cycles LO..HI.
col_range() { awk -v c="$1" -v lo="$2" -v hi="$3" '$1 >= lo && $1 <= hi { print $c }' "$table"; }
# median: of the numbers on stdin.
median() {
	sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# summary NAME COL SCALE DECIMALS UNIT: min, median and max over all cycles
# of column COL, divided by SCALE.
summary() {
	med=$(col_range "$2" 1 "$n" | median)
	col_range "$2" 1 "$n" | awk -v m="$med" -v s="$3" -v d="$4" -v u="$5" -v name="$1" '
		function f(v) { return sprintf("%." d "f", v / s) }
		NR == 1 || $1 < lo { lo = $1 }
		NR == 1 || $1 > hi { hi = $1 }
		END { printf "rig-info: %-10s min %s  median %s  max %s %s\n", name, f(lo), f(m), f(hi), u }'
}

# The trend test, for a noisy emulated machine. The first tenth of the
# cycles is warm-up; the baseline is the median of the next fifth (cycles
# 11-30 of 100), the end the median of the last fifth (81-100). A figure
# rises if end - baseline exceeds the tolerance, the largest of:
#  - 3 standard errors of that difference: 3 * 1.2533 * sigma * sqrt(2 / k)
#    for windows of k cycles (the standard error of a median of k samples is
#    1.2533 sigma / sqrt(k)), sigma the robust spread: 1.4826 times the
#    median absolute deviation of both windows, each from its own median;
#  - REL times the baseline, the noise one run's spread does not show;
#  - ABS, the resolution of the figure.
# REL is about one cycle's spread as measured (100 cycles, the machine
# shared with builds): sigma 0.23 s on a 1.2 s checkpoint (19 %), 0.41 s on
# a 1.8 s restore (23 %), hence 25 %; 1.0 MiB on a 69.5 MiB peak RSS
# (1.4 %), hence 2 %, with a 1 MiB floor (torpor's own part alone moved
# 4.6-11.6 MiB from cycle to cycle, sigma 1.2 MiB).
# Medians make it immune to a few outliers. The least-squares slope over
# cycles 11-100 is printed for the record, not judged (an outlier moves it).
# A time trends upward only if it rises both in seconds and in probes: the
# rig shares the machine's 2 cores with whatever else runs there, and a
# machine busier at the end than at the start slows the probe as well.
# The peak RSS trends upward only if it rises both in all and in torpor's
# own part: the RSS less the guest's resident pages, data and zero. Each
# cycle is a new process, and the guest's data grows as its kernel hands
# out pages it never used before (a page once written stays in the image):
# the guest's doing, not torpor's. The guest's data and zero pages and the
# image size are shown the same way, for the record.
# With fewer than 25 cycles (windows under 5) the figures are printed only.
warm=$((n / 10)) k=$((n / 5))
[ $k -ge 1 ] || k=1
e_lo=$((warm + 1)) e_hi=$((warm + k)) l_lo=$((n - k + 1))
judged=$((k >= 5))
# trend NAME COL SCALE DECIMALS UNIT REL ABS: prints the test of column COL
# (divided by SCALE for display); exit status 1 if it rises.
trend() {
	me=$(col_range "$2" $e_lo $e_hi | median)
	ml=$(col_range "$2" $l_lo "$n" | median)
	sigma=$({ col_range "$2" $e_lo $e_hi | awk -v m="$me" '{ d = $1 - m; print d < 0 ? -d : d }'
		col_range "$2" $l_lo "$n" | awk -v m="$ml" '{ d = $1 - m; print d < 0 ? -d : d }'
	} | median | awk '{ print 1.4826 * $1 }')
	slope=$(col_range "$2" $e_lo "$n" | awk -v x0=$e_lo '
		{ x = x0 + NR - 1; sx += x; sy += $1; sxx += x * x; sxy += x * $1 }
		END { d = NR * sxx - sx * sx; print d ? (NR * sxy - sx * sy) / d : 0 }')
	awk -v name="$1" -v me="$me" -v ml="$ml" -v sg="$sigma" -v b="$slope" -v k=$k \
		-v s="$3" -v d="$4" -v u="$5" -v rel="$6" -v abs="$7" -v judged=$judged \
		-v ew="$e_lo-$e_hi" -v lw="$l_lo-$n" -v all="$e_lo-$n" -v span=$((n - e_lo)) '
	# Busybox awk may lack sqrt() ("Math support is not compiled in").
	function root(x,   r, i) { r = x > 1 ? x : 1; for (i = 0; i < 40; i++) r = (r + x / r) / 2; return r }
	function f(v, extra) { return sprintf("%." (d + extra) "f", v / s) }
	function sf(v, extra) { return (v >= 0 ? "+" : "") f(v, extra) }
	function pct(v) { return sprintf("%+.1f%%", me ? 100 * v / me : 0) }
	BEGIN {
		se3 = 3 * 1.2533 * sg * root(2 / k)
		tol = se3
		if (rel * me > tol) tol = rel * me
		if (abs > tol) tol = abs
		rise = ml - me
		up = judged && rise > tol
		printf "rig-info: trend %s: median %s %s (%s) -> %s (%s): %s (%s) %s tolerance %s " \
			"(3 SE %s, sigma %s; %d%% %s; floor %s); slope %s/cycle (%s over %s)%s\n",
			name, f(me), u, ew, f(ml), lw, sf(rise), pct(rise), up ? ">" : "<=", f(tol),
			f(se3), f(sg, 1), 100 * rel, f(rel * me), f(abs), sf(b, 2), pct(b * span), all,
			judged ? "" : ": not judged (under 25 cycles)"
		exit up
	}'
}

# judge NAME STATUS_ALL STATUS_PART EXCUSE: the verdict on a figure from
# its two tests (1: it rises); EXCUSE says why a rise of the whole alone
# does not count.
judge() {
	if [ "$2" -ne 0 ] && [ "$3" -ne 0 ]; then
		verdict "$1" "TRENDS UP"
		bad=1
	elif [ "$2" -ne 0 ]; then
		verdict "$1" "ok ($4)"
	else
		verdict "$1" ok
	fi
}

# verdict NAME TEXT
verdict() {
	if [ $judged -eq 1 ]; then
		echo "rig-info: verdict $1: $2"
	else
		echo "rig-info: verdict $1: not judged (under 25 cycles)"
	fi
}

bad=0
summary image 2 1048576 2 MiB
summary checkpoint 3 1 2 s
summary restore 4 1 2 s
summary peak-RSS 5 1024 1 MiB
summary guest-data 8 1024 1 MiB
summary guest-zero 9 1024 1 MiB
summary torpor-own 10 1024 1 MiB
summary wall 6 1 2 s
summary probe 7 1 2 s
for t in "checkpoint 3 11" "restore 4 12"; do
	set -- $t
	trend "$1" "$2" 1 2 s 0.25 0.02
	secs=$?
	trend "$1/probe" "$3" 1 2 probes 0.25 0.1
	judge "$1" $secs $? "it rises in seconds, not in probes: the machine slowed"
done
trend peak-RSS 5 1024 1 MiB 0.02 1024
all=$?
trend torpor-own 10 1024 1 MiB 0.02 1024
judge peak-RSS $all $? "it rises with the guest's resident RAM, not torpor's own"
trend guest-data 8 1024 1 MiB 0.02 1024 || true
trend guest-zero 9 1024 1 MiB 0.02 1024 || true
trend image 2 1048576 2 MiB 0.02 65536 || true
[ $bad -eq 0 ] || fail "a figure trends upward (see the trend lines)"
