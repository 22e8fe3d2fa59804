#!/bin/bash
# check.sh - what `make check` runs after building everything: the Criterion
# unit tests (plain, then under ASan+UBSan), a fuzz smoke run of the image
# reader, the command-line cases (tests/cli), and the rig scenarios on real
# arm64 KVM (nested in QEMU on other hosts). On x86 the rig runs every
# scenario once per outer host kernel in RIG_HOSTS (default "bookworm
# trixie": Debian 12's and Debian 13's arm64 kernels, see scripts/rig.sh), and
# those marked "# rig-next-host: other" on the other one, so that an image
# goes 6.1 -> 6.12 in the first pass and 6.12 -> 6.1 in the second; on an
# arm64 host with /dev/kvm once, on that host's kernel; then the demo and
# `make shell` (tests/shell/drive.py). Ends
# with one line "N passed, N failed" over all of them; exits non-zero if
# anything failed.
set -uo pipefail

cd "$(dirname "$0")/.."
passed=0
failed=0

# run_unit DIR: every Criterion binary in DIR; counts its tests (a binary
# that does not finish within 10 minutes counts as one failure).
run_unit() {
	local t out tested passing
	for t in "$1"/test_*; do
		[ -x "$t" ] || continue
		# A hung test fails its binary after 10 minutes rather than
		# holding CI to its limit.
		out=$(timeout -k 10 600 "$t" --jobs 2 2>&1)
		local rc=$?
		tested=$(sed -n 's/.*Synthesis: Tested: \([0-9]*\).*/\1/p' <<<"$out")
		passing=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$out")
		if [ -z "$tested" ]; then
			echo "check: $t did not run (exit $rc)"
			echo "$out" | tail -n 20
			failed=$((failed + 1))
			continue
		fi
		passed=$((passed + passing))
		failed=$((failed + tested - passing))
		if [ $rc -ne 0 ] || [ "$passing" -ne "$tested" ]; then
			echo "$out" | grep -v '^\[----\]' | tail -n 40
			[ "$passing" -eq "$tested" ] && failed=$((failed + 1))
		fi
		printf 'check: %-40s %s/%s\n' "$t" "$passing" "$tested"
	done
}

echo "check: unit tests"
run_unit build/host/tests
echo "check: unit tests under ASan/UBSan"
run_unit build/asan/tests

echo "check: fuzz smoke run"
if scripts/fuzz.sh --smoke; then
	passed=$((passed + 1))
else
	echo "check: fuzzing found a failure"
	failed=$((failed + 1))
fi

# tally CMD...: runs a suite that ends with "N passed, N failed", shows its
# output and adds its counts (one failure if it gives no such line).
tally() {
	local out line f
	out=$(mktemp)
	"$@" 2>&1 | tee "$out"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
	rm -f "$out"
	if [ -z "$line" ]; then
		echo "check: $* gave no result"
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + ${line%% passed*}))
	f=${line#*, }
	failed=$((failed + ${f%% failed}))
}

echo "check: command line"
tally tests/cli/cli.sh
if [ "$(uname -m)" = aarch64 ] && [ -c /dev/kvm ]; then
	echo "check: rig scenarios"
	tally scripts/rig.sh
else
	for host in ${RIG_HOSTS:-bookworm trixie}; do
		echo "check: rig scenarios on host kernel $host"
		tally env RIG_HOST="$host" scripts/rig.sh
	done
fi
# `make demo` is one of the README's two commands: it must keep working.
echo "check: make demo"
tally env RIG_DEMO=1 scripts/rig.sh
# `make shell` as a person would use it, on a pty of the drive's own (CI has
# no terminal); two short rig boots.
echo "check: make shell"
tally tests/shell/drive.py

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
