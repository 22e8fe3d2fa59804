#!/bin/bash
# check.sh - what `make check` runs after building everything: the Criterion
# unit tests (plain, then under ASan+UBSan), a fuzz smoke run of the image
# reader, and the rig scenarios on real arm64 KVM (nested in QEMU on other
# hosts). Ends with one line "N passed, N failed" over all of them; exits
# non-zero if anything failed.
set -uo pipefail

cd "$(dirname "$0")/.."
passed=0
failed=0

# run_unit DIR: every Criterion binary in DIR; counts its tests.
run_unit() {
	local t out tested passing
	for t in "$1"/test_*; do
		[ -x "$t" ] || continue
		out=$("$t" --jobs 2 2>&1)
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

echo "check: rig scenarios"
rig_out=$(mktemp)
scripts/rig.sh 2>&1 | tee "$rig_out"
rig_line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$rig_out" | tail -n 1)
rm -f "$rig_out"
if [ -n "$rig_line" ]; then
	passed=$((passed + ${rig_line%% passed*}))
	f=${rig_line#*, }
	failed=$((failed + ${f%% failed}))
else
	echo "check: the rig gave no result"
	failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
