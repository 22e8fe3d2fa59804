#!/bin/sh
# linux-disk-identity: a guest on its root disk hibernates (disk-suspend).
# The disk is then copied with `cp -a` (contents and mtime) and the
# original written in place, one byte: restore refuses the image, before
# any VM exists (exit 5), naming the disk as written after the checkpoint;
# a copy of another size is refused (exit 5), and so is a missing disk.
# `restore --disk COPY` resumes the guest on the cp -a copy: its file and
# writer checks pass, it powers off, the copy is clean (e2fsck -fn).
# rig-timeout: 300
. "$RIG_LIB"

use_root_disk "$WORK/root.ext4"
img=$WORK/vm.torpor
hibernate_guest disk-suspend 1 "$img"
expect_rc 7 "hibernate"
stderr_info "flushed"
mkdir -p "$WORK/moved"
cp -a "$WORK/root.ext4" "$WORK/moved/root.ext4" || fail "cp -a"
cp -a "$WORK/root.ext4" "$WORK/grown.ext4" || fail "cp -a"

# refused DISK_OPT WHAT PATTERN: restore exits 5 with one line matching PATTERN.
refused() {
	restore_guest "$img" $1
	[ "$rc" -eq 5 ] || { show "$WORK/stderr"; fail "restore with $2: exit $rc, want 5"; }
	grep -q "$3" "$WORK/stderr" || { show "$WORK/stderr"; fail "restore with $2: no '$3'"; }
	[ -s "$WORK/console" ] && { show "$WORK/console"; fail "restore with $2: the guest ran"; }
	echo "rig-info: $2: $(grep -m1 "$3" "$WORK/stderr" | sed 's/^torpor: //')"
}

printf 'x' | dd of="$WORK/root.ext4" bs=1 seek=1048576 conv=notrunc 2>/dev/null || fail "dd"
refused "" "the disk written" "written after the checkpoint"
dd if=/dev/zero of="$WORK/grown.ext4" bs=512 count=1 seek=$(($(wc -c <"$WORK/grown.ext4") / 512)) \
	conv=notrunc 2>/dev/null || fail "dd"
refused "--disk $WORK/grown.ext4" "a grown disk" "size"
refused "--disk $WORK/gone.ext4" "a missing disk" "No such file"

restore_guest "$img" --disk "$WORK/moved/root.ext4"
grep -q '^GUEST-RESUMED 1' "$WORK/console" || { show "$WORK/console"; show "$WORK/stderr"; fail "guest did not resume on the copy (exit $rc)"; }
expect_guest_ok "counter 1" "sha256 1" "disk-file 1" "disk-writer 1"
expect_rc 0 "restored guest"
fsck_disk "$WORK/moved/root.ext4"
