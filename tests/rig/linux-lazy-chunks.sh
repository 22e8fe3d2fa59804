#!/bin/sh
# linux-lazy-chunks: the chunk size against lazy restore. A 1 GiB Linux
# guest holding 64 MiB of random data is hibernated into images of 64 KiB,
# 256 KiB and 1 MiB chunks (`run --chunk-size`); each is restored eagerly and
# lazily, and must resume with its state and its 64 MiB intact.
# Reports per image its size and, per restore, the time to the guest's
# first instruction, its first line, the workload (sha256 of the 64 MiB)
# done, all memory resident, and for the lazy ones the faults and the
# longest a fault waited.
# rig-timeout: 600
. "$RIG_LIB"

for cs in 64K 256K 1M; do
	img=$WORK/c-$cs.torpor
	timeout 200 "$TORPOR" run --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
		--memory 1G --image "$img" --chunk-size $cs \
		--cmdline "$(guest_cmdline suspend-loop 1 "torpor.fill=64 torpor.work=1 torpor.cycles=2")" \
		</dev/null >"$WORK/console.raw" 2>"$WORK/stderr"
	rc=$?
	expect_rc 7 "hibernate with $cs chunks"
	case $cs in 64K) pages=16 ;; 256K) pages=64 ;; *) pages=256 ;; esac
	"$TORPOR" inspect "$img" | grep -q "chunks of $pages pages" ||
		{ "$TORPOR" inspect "$img" >&2; fail "the image has not chunks of $cs"; }
	echo "rig-info: $cs chunks: $(grep -m1 hibernated "$WORK/stderr" | sed 's/^.*: \([0-9.]* MiB for\)/\1/')"
	measure_restore "$cs eager" 1 "$img" --memory eager -o "$WORK/discard.torpor"
	expect_rc 7 "eager restore, $cs chunks (suspends again)"
	measure_restore "$cs lazy" 1 "$img" --memory lazy -o "$WORK/discard.torpor"
	expect_rc 7 "lazy restore, $cs chunks (suspends again)"
	rm -f "$img" "$WORK/discard.torpor"
done
