#!/bin/sh
# reboot-hibernate: first half of "restore on another machine". A Linux guest
# with 2 vCPUs is hibernated and its image written to the rig disk, with its
# size, its sha256 and this boot's id; restore-after-reboot restores it after
# the host has rebooted.
# rig-timeout: 180
. "$RIG_LIB"

[ -n "${RIG_DISK:-}" ] || fail "no rig disk"
img=$WORK/vm.torpor
hibernate_guest suspend 2 "$img"
expect_rc 7 "hibernate"
stderr_info hibernated
size=$(wc -c <"$img")
sum=$(sha256sum "$img" | cut -d' ' -f1)
# Sector 0: a one-line header; the image from 4 KiB on.
printf 'torpor-rig-image %s %s %s\n' "$size" "$sum" "$(cat /proc/sys/kernel/random/boot_id)" |
	dd of="$RIG_DISK" bs=4096 count=1 conv=sync,notrunc 2>/dev/null || fail "writing the header"
dd if="$img" of="$RIG_DISK" bs=4096 seek=1 conv=notrunc 2>/dev/null || fail "writing the image"
sync
echo "rig-info: $size bytes written to $RIG_DISK"
