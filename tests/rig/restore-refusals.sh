#!/bin/sh
# restore-refusals: restore refuses, with exit 5 and a one-line reason,
# damaged images (a flipped byte in guest memory, a truncated file) before
# creating a VM, and valid images from an incompatible host (other counter
# frequency, other CPU, other vCPU target, a register this KVM lacks, an ID
# register field above what it offers).
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
# An ID register field above what this host's KVM offers: TWED of
# ID_AA64MMFR1_EL1 (bits 35:32), 0 on the rig's hosts, which no KVM lets
# userspace raise. Refused before the VM runs, naming the field.
mmfr1=$("$(dirname "$TORPOR")/image-regs" "$img" 0 0x603000000013c039 | cut -d' ' -f2)
case $mmfr1 in 0x???????0????????) ;; *) fail "ID_AA64MMFR1_EL1 is $mmfr1: TWED is not 0" ;; esac
"$set_tool" "$img" "$WORK/idreg.torpor" or_reg 0x603000000013c039:0x100000000 || fail "image-set"
refuse "$WORK/idreg.torpor" 'ID_AA64MMFR1_EL1.TWED is 0x1 in the image, this host offers 0x0'

# The original still restores.
restore_guest "$img"
grep -q '^GUEST-RESUMED 1' "$WORK/console" || { show "$WORK/console"; show "$WORK/stderr"; fail "original image no longer restores"; }
