#!/bin/sh
# baremetal-hostile: hostile.bin on 3 vCPUs writes and reads random values of
# every width at every byte offset of the UART, RTC and GPIO windows and of
# unmapped windows below and above RAM (unmapped reads must give 0), makes
# PSCI/SMCCC calls with garbage ids and arguments (CPU_ON, AFFINITY_INFO,
# unknown ids through HVC and SMC with several immediates, SYSTEM_SUSPEND
# from all vCPUs at once with wild entry points) and checks every answer,
# then suspends properly. torpor must neither crash nor hang (exit 7,
# hibernated), the guest must report bad=0 and stale=0 (no read of nothing
# gave data), torpor's stderr must stay within 20 lines (no line per bad
# access), and the image must restore: the guest resumes, finds the devices
# sane and powers off (exit 0).
# rig-timeout: 180
. "$RIG_LIB"

img=$WORK/hostile.torpor
max_lines=20
problems=

# now_cs: uptime in centiseconds.
now_cs() {
	read -r up _ </proc/uptime
	echo "${up%.*}${up#*.}" | sed 's/^0*//; s/^$/0/'
}
secs() { printf '%d.%02d' $(($1 / 100)) $(($1 % 100)); }
problem() {
	echo "FAIL: $*" >&2
	problems="$problems$*; "
}
# field NAME: the summary line's NAME=N, empty if missing.
field() { echo "$summary" | sed -n "s/.* $1=\([0-9]*\).*/\1/p"; }

t0=$(now_cs)
timeout 120 "$TORPOR" run --kernel "$GUESTS/hostile.bin" --memory 64M --cpus 3 --image "$img" \
	</dev/null >"$WORK/c1" 2>"$WORK/e1"
rc=$?
t1=$(now_cs)
tr -d '\r' <"$WORK/c1" >"$WORK/out1"
summary=$(grep -a '^hostile calls=' "$WORK/out1" | tail -n 1)
lines=$(wc -l <"$WORK/e1")
echo "rig-info: run $(secs $((t1 - t0))) s, exit $rc, $lines stderr lines"
[ -n "$summary" ] && echo "rig-info: $summary"
grep -a '^bad \|^stale ' "$WORK/out1" | head -n 6 | sed 's/^/rig-info: /'

case $rc in
7) ;;
124 | 143 | 137) show "$WORK/e1" 5; problem "torpor hung: still running after 120 s (killed)" ;;
*) show "$WORK/e1" 5; problem "torpor exit $rc, want 7 (hibernated)" ;;
esac
if [ -z "$summary" ]; then
	show "$WORK/out1" 10
	problem "no summary line from the guest"
else
	[ "$(field bad)" = 0 ] || problem "the guest saw $(field bad) wrong answers (bad= lines above)"
	[ "$(field stale)" = 0 ] ||
		problem "$(field stale) reads crossing the end of a device window returned data, not 0 (stale= line above)"
	[ "$(field undef)" = 0 ] || echo "rig-info: $(field undef) SMCs were UNDEFINED (counted, not a failure)"
fi
if [ "$lines" -gt $max_lines ]; then
	# The messages, addresses and sizes folded, most frequent first.
	sed 's/0x[0-9a-f]*/ADDR/g; s/[0-9][0-9]*-byte/N-byte/; s/vCPU [0-9]*/vCPU N/' "$WORK/e1" |
		sort | uniq -c | sort -rn | head -n 3 | sed 's/^ */rig-info: stderr /'
	echo "rig-info: first: $(head -n 1 "$WORK/e1")"
	problem "torpor wrote $lines lines to stderr (at most $max_lines): a line per guest access"
fi

if [ -s "$img" ]; then
	t2=$(now_cs)
	timeout 30 "$TORPOR" restore "$img" </dev/null >"$WORK/c2" 2>"$WORK/e2"
	rc2=$?
	t3=$(now_cs)
	tr -d '\r' <"$WORK/c2" >"$WORK/out2"
	echo "rig-info: restore $(secs $((t3 - t2))) s, exit $rc2, $(wc -l <"$WORK/e2") stderr lines"
	if ! grep -aqx 'hostile resumed ok' "$WORK/out2" || [ $rc2 -ne 0 ]; then
		show "$WORK/out2" 5
		show "$WORK/e2" 5
		problem "restore: exit $rc2 (want 0) and no \"hostile resumed ok\""
	fi
else
	problem "no image written"
fi
[ -z "$problems" ] || fail "$problems"
