#!/bin/sh
# restore-refusals: restore refuses, with exit 5 and a one-line reason,
# damaged images (a flipped byte in guest memory, a truncated file) before
# creating a VM, and valid images from an incompatible host (other counter
# frequency, other CPU, other vCPU target, a register this KVM lacks).
# rig-timeout: 240
. "$RIG_LIB"

img=$WORK/vm.torpor
hibernate_guest suspend 1 "$img"
expect_rc 7 "hibernate"
set_tool="$(dirname "$TORPOR")/image-set"

# refuse FILE PATTERN: restore must exit 5 with PATTERN on one stderr line.
refuse() {
	restore_guest "$1"
	expect_rc 5 "restore of $(basename "$1")"
	[ "$(wc -l <"$WORK/stderr")" -eq 1 ] || { show "$WORK/stderr"; fail "$1: not one line"; }
	grep -q "$2" "$WORK/stderr" || { show "$WORK/stderr"; fail "$1: no '$2'"; }
	echo "rig-info: $(basename "$1"): $(cat "$WORK/stderr")"
}

size=$(wc -c <"$img")
cp "$img" "$WORK/flipped.torpor"
# A byte in the middle of the file lies in a memory chunk.
printf '\377' | dd of="$WORK/flipped.torpor" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
cmp -s "$img" "$WORK/flipped.torpor" && fail "flip did not change the file"
refuse "$WORK/flipped.torpor" 'checksum'
head -c $((size - 100)) "$img" >"$WORK/short.torpor"
refuse "$WORK/short.torpor" "short.torpor"

"$set_tool" "$img" "$WORK/freq.torpor" counter_freq 1234567 || fail "image-set"
refuse "$WORK/freq.torpor" 'counter runs at 1234567 Hz'
"$set_tool" "$img" "$WORK/midr.torpor" midr 0x12345678 || fail "image-set"
refuse "$WORK/midr.torpor" 'MIDR 0x12345678'
"$set_tool" "$img" "$WORK/target.torpor" vcpu_target 999 || fail "image-set"
refuse "$WORK/target.torpor" 'target 999'
"$set_tool" "$img" "$WORK/reg.torpor" add_reg 0x603000000013fff8 || fail "image-set"
refuse "$WORK/reg.torpor" 'register 0x603000000013fff8 .*unknown'

# The original still restores.
restore_guest "$img"
grep -q '^GUEST-RESUMED 1' "$WORK/console" || { show "$WORK/console"; show "$WORK/stderr"; fail "original image no longer restores"; }
