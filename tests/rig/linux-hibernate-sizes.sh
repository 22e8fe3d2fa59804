#!/bin/sh
# linux-hibernate-sizes: the Linux guest, holding 64 MiB of random data in
# tmpfs, hibernated with 256 MiB, 1 GiB and 4 GiB of RAM, each image restored
# eagerly and lazily side by side (same image, same boot of the host), then
# the image the lazy restore wrote (with its prefetch order) lazily again.
# Every restore must resume with its state intact, the sha256 of the 64 MiB
# included (the workload).
# Reports per restore the time from `torpor restore` to the guest's first
# instruction (its PSCI entry point), to its first line after `echo mem`
# returned ("PM: suspend exit" is logged just before it), to the workload
# done, to all of memory resident, and torpor's peak RSS; then the lazy over
# eager ratios.
# rig-timeout: 900
. "$RIG_LIB"

for mem in 256M 1G 4G; do
	a=$WORK/a-$mem.torpor b=$WORK/b-$mem.torpor
	rm -f "$a" "$b"
	timeout 200 "$TORPOR" run --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
		--memory $mem --image "$a" \
		--cmdline "$(guest_cmdline suspend-loop 1 "torpor.fill=64 torpor.work=1 torpor.cycles=2")" \
		</dev/null >"$WORK/console.raw" 2>"$WORK/stderr"
	rc=$?
	expect_rc 7 "hibernate $mem"
	echo "rig-info: $mem: $(grep -m1 hibernated "$WORK/stderr" | sed 's/^.*: \([0-9.]* MiB for\)/\1/')"

	measure_restore "$mem eager" 1 "$a" --memory eager -o "$WORK/discard.torpor"
	expect_rc 7 "eager restore $mem (suspends again)"
	measure_restore "$mem lazy" 1 "$a" --memory lazy -o "$b"
	expect_rc 7 "lazy restore $mem (suspends again)"
	"$TORPOR" inspect "$b" | grep -q 'prefetch order: [1-9]' ||
		{ "$TORPOR" inspect "$b" >&2; fail "$mem: the lazy restore's image has no prefetch order"; }
	echo "rig-info: $mem: the second image has a $("$TORPOR" inspect "$b" | grep -m1 'prefetch order' | sed 's/^ *//')"
	measure_restore "$mem prefetch" 2 "$b" --memory lazy
	expect_rc 0 "lazy restore with a prefetch order $mem"
	rm -f "$a" "$b" "$WORK/discard.torpor"
done

# Lazy over eager, per size: first instruction, first line, workload.
ratio() { echo "$1 $2" | awk '{ printf "%.2f", $2 / $1 }'; }
for mem in 256M 1G 4G; do
	eval "set -- \$r_${mem}_eager \$r_${mem}_lazy \$r_${mem}_prefetch"
	echo "rig-info: $mem lazy/eager: first instruction $(ratio "$1" "$4"), first line $(ratio "$2" "$5"), workload $(ratio "$3" "$6"); with the prefetch order, of lazy without: first line $(ratio "$5" "$8"), workload $(ratio "$6" "$9")"
done
