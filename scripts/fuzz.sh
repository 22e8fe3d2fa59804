#!/bin/sh
# Fuzz the image library and the virtqueue with libFuzzer (clang, ASan + UBSan).
#
#   scripts/fuzz.sh [--smoke]        about 60 s in all, split over the fuzzers;
#                                    what `make check` runs
#   scripts/fuzz.sh --long SECONDS   each fuzzer for SECONDS on all CPUs
#                                    (e.g. --long 3600 before a release)
#
# Each tests/fuzz/fuzz_NAME.c is built as build/fuzz/fuzz_NAME. The image
# fuzzers take a whole image file as input, the virtqueue one a queue and its
# guest RAM; tests/fuzz/seeds.c writes small valid images into each corpus
# build/fuzz/corpus/NAME first. Crashing inputs land in build/fuzz/crashes/
# (reproduce: build/fuzz/fuzz_NAME FILE). Prints the executions each fuzzer
# ran; exits non-zero if any fuzzer found a failure.
set -eu

cd "$(dirname "$0")/.."
mode=${1:---smoke}
case $mode in
--smoke) total=60 ;;
--long) total=${2:?usage: scripts/fuzz.sh --long SECONDS} ;;
*) echo "usage: scripts/fuzz.sh [--smoke | --long SECONDS]" >&2; exit 2 ;;
esac

names=$(ls tests/fuzz/fuzz_*.c | sed 's|.*/fuzz_||; s|\.c$||')
count=$(echo "$names" | wc -w)
make -s build/host/libtorpor.a $(for n in $names; do echo build/fuzz/fuzz_$n; done)
mkdir -p build/fuzz/crashes
${HOSTCC:-gcc} -std=gnu11 -O1 -Iinclude -D_GNU_SOURCE -o build/fuzz/seeds tests/fuzz/seeds.c \
	build/host/libtorpor.a -lzstd -lfdt -lpthread

status=0
for n in $names; do
	corpus=build/fuzz/corpus/$n
	mkdir -p "$corpus"
	build/fuzz/seeds "$corpus"
	if [ "$mode" = --smoke ]; then
		secs=$((total / count))
		jobs=
	else
		secs=$total
		jobs="-fork=$(nproc)"
	fi
	log=build/fuzz/$n.log
	# malloc/rss limits: the reader must bound its allocations by the input.
	if ! build/fuzz/fuzz_$n $jobs -max_total_time="$secs" -rss_limit_mb=1024 \
		-malloc_limit_mb=256 -timeout=10 -print_final_stats=1 \
		-artifact_prefix=build/fuzz/crashes/ "$corpus" >"$log" 2>&1; then
		status=1
		tail -n 40 "$log" >&2
	fi
	# One process prints final stats; -fork prints "#RUNS: cov: ..." lines.
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p; s/^#\([0-9]*\): cov:.*/\1/p' \
		"$log" | tail -n 1)
	echo "fuzz_$n: ${runs:-?} executions in ${secs} s, corpus $(ls "$corpus" | wc -l) inputs"
done
exit $status
