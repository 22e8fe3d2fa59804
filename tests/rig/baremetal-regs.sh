#!/bin/sh
# baremetal-regs: regs.bin loads known patterns into x3-x30, SP_EL0/EL1,
# ELR/SPSR_EL1, V0-V31, FPCR/FPSR, NZCV and fourteen EL0/EL1 system
# registers, then calls SYSTEM_SUSPEND (SMC64). torpor must exit 7 with an
# image whose `inspect --json` holds every pattern for vCPU 0, x0 = the
# function id, x1 = the entry point, x2 = the context id, PC just after the
# HVC, and mp_state suspended; `restore --force-wake` must verify the
# registers it loaded and resume the guest at its entry with x0 = the
# context id (it prints "resumed" and powers off: exit 0). The same with
# --on-suspend snapshot: the live guest resumes at once and powers off
# (exit 0), and its image holds the same and restores the same way.
# rig-timeout: 60
. "$RIG_LIB"

# run_regs MODE WANT_EXIT WANT_LINE: `torpor run --on-suspend MODE` of
# regs.bin into $img exits WANT_EXIT, its console has WANT_LINE (if any);
# sets $entry and $pc from the guest's output.
run_regs() {
	rm -f "$img"
	timeout 20 "$TORPOR" run --kernel "$GUESTS/regs.bin" --memory 64M --image "$img" \
		--on-suspend "$1" </dev/null >"$WORK/c1" 2>"$WORK/e1"
	rc=$?
	tr -d '\r' <"$WORK/c1" >"$WORK/out1"
	[ $rc -eq "$2" ] || { show "$WORK/out1"; show "$WORK/e1"; fail "run --on-suspend $1: exit $rc, want $2"; }
	[ -z "$3" ] || grep -qx "$3" "$WORK/out1" ||
		{ show "$WORK/out1"; show "$WORK/e1"; fail "run --on-suspend $1: no \"$3\""; }
	if grep -q '^readback' "$WORK/out1"; then
		show "$WORK/out1"
		fail "the CPU does not keep some pattern as written: fix regs.S, not torpor"
	fi
	entry=$(sed -n 's/^entry=//p' "$WORK/out1")
	pc=$(sed -n 's/^pc=//p' "$WORK/out1")
	[ -n "$entry" ] && [ -n "$pc" ] || { show "$WORK/out1"; fail "guest did not print entry= and pc="; }
	[ -s "$img" ] || fail "run --on-suspend $1: no image"
}

# hexnorm: lowercase hex without 0x and leading zeros, on stdin.
hexnorm() {
	tr 'A-F' 'a-f' | sed 's/0x0*\([0-9a-f]\)/\1/g'
}
rep4() { echo "$1$1$1$1"; }
sysreg() {  # op0 op1 crn crm op2 value
	printf '%x %s\n' $((0x6030000000130000 | $1 << 14 | $2 << 11 | $3 << 7 | $4 << 3 | $5)) "$6"
}

# check_image IMAGE: the image holds regs.bin's patterns, suspended.
check_image() {
	timeout 20 "$TORPOR" inspect --json "$1" >"$WORK/json" 2>"$WORK/e2" ||
		{ show "$WORK/e2"; fail "inspect --json failed"; }

	# vCPU 0's registers as "ID VALUE" lines (one vCPU: all "regs" entries).
	sed 's/.*"vcpus":\[//; s/"gic":.*//' "$WORK/json" |
		grep -o '"id":"0x[0-9a-fA-F]*","value":"0x[0-9a-fA-F]*"' |
		awk -F'"' '{ print $4, $8 }' | hexnorm >"$WORK/regs"
	nregs=$(grep -c '' "$WORK/regs")
	[ "$nregs" -gt 0 ] || { head -c 600 "$WORK/json" >&2; echo >&2; fail "no registers in inspect --json"; }

	# The expectations, "ID VALUE" (see regs.S for the patterns).
	{
		n=3
		while [ $n -le 30 ]; do
			printf '%x %s\n' $((0x6030000000100000 + 2 * n)) "$(rep4 "$(printf '58%02x' $n)")"
			n=$((n + 1))
		done
		n=0
		while [ $n -le 31 ]; do
			printf '%x %s%s\n' $((0x6040000000100054 + 4 * n)) \
				"$(rep4 "$(printf '48%02x' $n)")" "$(rep4 "$(printf '4c%02x' $n)")"
			n=$((n + 1))
		done
		echo "6030000000100000 c400000e"           # x0: SYSTEM_SUSPEND (SMC64)
		echo "6030000000100002 ${entry#0x}"        # x1: entry point
		echo "6030000000100004 70726f74"           # x2: context id
		echo "603000000010003e 5350303035503000"   # SP_EL0
		echo "6030000000100040 ${pc#0x}"           # PC: after the HVC
		echo "6030000000100042 900003c5"           # PSTATE: N V, DAIF, EL1h
		echo "6030000000100044 5350313135503110"   # SP_EL1
		echo "6030000000100046 454c523145524c00"   # ELR_EL1
		echo "6030000000100048 f00003c5"           # SPSR_EL1
		echo "60200000001000d4 0800009f"           # FPSR
		echo "60200000001000d5 07c00000"           # FPCR
		sysreg 3 0 13 0 4 7470696472310001         # TPIDR_EL1
		sysreg 3 3 13 0 2 7470696472300002         # TPIDR_EL0
		sysreg 3 3 13 0 3 7470696472720003         # TPIDRRO_EL0
		sysreg 3 0 13 0 1 c0de1d01                 # CONTEXTIDR_EL1
		sysreg 3 0 12 0 0 0000ffffabcd0800         # VBAR_EL1
		sysreg 3 0 5 1 0 0                         # AFSR0_EL1 (RAZ/WI here)
		sysreg 3 0 6 0 0 fa12345678abcdef          # FAR_EL1
		sysreg 3 0 7 4 0 0f00001234567000          # PAR_EL1
		sysreg 3 0 10 2 0 44ff04bb0c080400         # MAIR_EL1
		sysreg 3 0 10 3 0 0                        # AMAIR_EL1 (RAZ/WI here)
		sysreg 3 0 2 0 0 0001000012345000          # TTBR0_EL1
		sysreg 3 0 2 0 1 00020000abcde000          # TTBR1_EL1
		sysreg 3 0 2 0 2 0000000280100010          # TCR_EL1
		sysreg 3 0 5 2 0 0000000096000045          # ESR_EL1
	} | sed 's/^/0x/; s/ / 0x/' | hexnorm >"$WORK/want"

	bad=0
	while read -r id val; do
		got=$(awk -v id="$id" '$1 == id { print $2 }' "$WORK/regs")
		if [ "$got" != "$val" ]; then
			[ $bad -lt 8 ] && echo "register 0x$id: image has 0x${got:-(missing)}, want 0x$val" >&2
			bad=$((bad + 1))
		fi
	done <"$WORK/want"
	[ $bad -eq 0 ] || fail "$1: $bad of $(grep -c '' "$WORK/want") registers wrong"
	grep -q '"mp_state_name":"suspended"' "$WORK/json" || fail "$1: vCPU 0 is not suspended"
	grep -q "\"psci_resume\":{\"vcpu\":0,\"smc64\":1,\"entry\":$((entry)),\"context_id\":$((0x70726f74))}" \
		"$WORK/json" || fail "$1: psci_resume is not vCPU 0, SMC64, entry $entry, context 0x70726f74"
	echo "rig-info: $(basename "$1") holds $nregs registers of vCPU 0, $(grep -c '' "$WORK/want") checked"
}

# restore_regs IMAGE: the restore verifies every register and the guest resumes.
restore_regs() {
	timeout 20 "$TORPOR" restore --force-wake "$1" </dev/null >"$WORK/c3" 2>"$WORK/e3"
	rc=$?
	tr -d '\r' <"$WORK/c3" >"$WORK/out3"
	grep -qx 'resumed' "$WORK/out3" || { show "$WORK/out3"; show "$WORK/e3"; fail "restore $1: guest did not resume (exit $rc)"; }
	[ $rc -eq 0 ] || { show "$WORK/e3" 5; fail "restore $1: exit $rc, want 0"; }
	# Every register but the moving counters must have been read back.
	verified=$(sed -n 's/^torpor: restore verified \([0-9]*\) registers of 1 vCPUs.*/\1/p' "$WORK/e3")
	[ -n "$verified" ] || { show "$WORK/e3" 5; fail "restore did not report its register read-back"; }
	[ "$verified" -ge $((nregs - 2)) ] || fail "restore verified $verified of $nregs registers"
}

img=$WORK/regs.torpor
run_regs hibernate 7 ''
check_image "$img"
restore_regs "$img"
# Snapshot: the live guest goes on at its entry point at once.
run_regs snapshot 0 resumed
check_image "$img"
restore_regs "$img"
