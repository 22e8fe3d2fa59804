#!/bin/sh
# Image engine benchmarks, run by `make bench` once it has built them.
#
#   scripts/bench.sh            memory engine vs the zstd CLI and memcpy on one
#                               ~1 GiB sample of guest RAM, targets PASS/MISS
#   BENCH_SWEEP=1 make bench    the chunk-size measurements as well (about 90 s)
#                               and lazy restore per chunk size (bench_lazy)
#   BENCH_MIB=256 make bench    a smaller synthetic sample
#
# A real guest memory dump at build/bench/guest-mem.raw replaces the synthetic
# sample. Figures are wall-clock: on a shared machine other work shows in
# them, so the load average is printed first. A MISS does not fail the run.
set -eu

cd "$(dirname "$0")/.."
bin=build/host/bench/bench_mem
if [ ! -x "$bin" ]; then
	echo "bench: $bin missing; run make bench" >&2
	exit 1
fi
command -v zstd >/dev/null || { echo "bench: the zstd CLI is needed" >&2; exit 1; }

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
"$bin" -s "${BENCH_MIB:-1024}"
if [ "${BENCH_SWEEP:-0}" = 1 ]; then
	"$bin" -s "${BENCH_MIB:-1024}" --sweep
	# userfaultfd needs root, or vm.unprivileged_userfaultfd = 1.
	build/host/bench/bench_lazy -s "${BENCH_MIB:-512}"
fi
