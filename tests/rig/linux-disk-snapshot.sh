#!/bin/sh
# linux-disk-snapshot: one image, many restores. A guest on its root disk,
# with a second, read-only disk, runs with --on-suspend snapshot: at its
# suspend (disk-suspend) torpor checkpoints, copies the writable disk next
# to the image (IMAGE.disk0, named by the image) and wakes the guest, which
# goes on writing its own disk and powers off. Two restores with
# --disk-overlay, one after the other, each resume the checkpoint's guest on
# the copy: its file and writer checks pass, it powers off; the copy and the
# read-only disk are unchanged by either (each clone's writes were private),
# and a checkpoint of such a clone is refused at its start.
# rig-timeout: 300
. "$RIG_LIB"

use_root_disk "$WORK/root.ext4"
cp "$GUEST_ROOTFS" "$WORK/ro.ext4" || fail "copy"
DISKS="$DISKS $WORK/ro.ext4,readonly,serial=ro"
img=$WORK/vm.torpor
hibernate_guest disk-suspend 1 "$img" "" "--on-suspend snapshot"
expect_rc 0 "the snapshotted guest"
expect_guest_ok "disk-file 1" "disk-writer 1"
stderr_info "copied"
stderr_info "snapshot to"
[ -f "$img.disk0" ] || fail "no copy of the writable disk next to the image"
[ ! -e "$img.disk1" ] || fail "the read-only disk was copied"
[ ! -e "$img.disk0.tmp" ] || fail "a temporary copy was left"
"$TORPOR" inspect --json "$img" >"$WORK/json" 2>"$WORK/e" || { show "$WORK/e"; fail "inspect"; }
grep -q "\"path\":\"$img.disk0\"" "$WORK/json" || { show "$WORK/json"; fail "the image does not name the copy"; }
cmp -s "$WORK/root.ext4" "$img.disk0" && fail "the guest's disk did not move on after the snapshot"
fsck_disk "$WORK/root.ext4"
copy_sum=$(sha256sum <"$img.disk0")
# The clones' private overlays: the rig's host has no /var/tmp.
export TMPDIR=$WORK

for n in 1 2; do
	restore_guest "$img" --disk-overlay
	grep -q '^GUEST-RESUMED 1' "$WORK/console" ||
		{ show "$WORK/console"; show "$WORK/stderr"; fail "clone $n did not resume (exit $rc)"; }
	expect_guest_ok "disk-file 1" "disk-writer 1"
	expect_rc 0 "clone $n"
	echo "rig-info: clone $n: $(grep -m1 'restored ' "$WORK/stderr" | sed 's/^torpor: //')"
	[ "$(sha256sum <"$img.disk0")" = "$copy_sum" ] || fail "clone $n changed the image's disk"
done
cmp -s "$GUEST_ROOTFS" "$WORK/ro.ext4" || fail "the read-only disk changed"
restore_guest "$img" --disk-overlay --on-suspend hibernate
[ "$rc" -eq 2 ] || { show "$WORK/stderr"; fail "--disk-overlay with hibernate: exit $rc, want 2"; }
