#!/bin/sh
# demo.sh - torpor's whole story on the default guest, run where /dev/kvm is
# (the rig's host, or an arm64 machine): Debian's arm64 kernel boots, its
# busybox initramfs switches to an ext4 root disk (virtio-blk), the guest
# writes a line to the disk and suspends itself; torpor hibernates it to an
# image and exits; a new torpor process restores the image, the guest
# carries on and reads the line back from the disk; e2fsck finds the disk
# clean.
# Speaks the runner's protocol (RIG-START, RIG-RESULT demo, RIG-END) so that
# scripts/rig.sh reports it like a scenario.
DIR=$(cd "$(dirname "$0")" && pwd)
TORPOR=$DIR/torpor
WORK=${WORK_ROOT:-/tmp}/demo
mkdir -p "$WORK"
img=$WORK/guest.torpor
disk=$WORK/root.ext4
rm -f "$img"
cp "$DIR/rootfs.ext4" "$disk"

uptime_s() { cut -d' ' -f1 /proc/uptime; }
elapsed() { echo "$1 $(uptime_s)" | awk '{ printf "%.2f", $2 - $1 }'; }

echo "RIG-START $(uptime_s) $(uname -r)"
t0=$(uptime_s)
echo "demo: booting Debian's arm64 kernel, root on a 16 MiB ext4 disk (--disk): 256 MiB, 1 vCPU"
{ "$TORPOR" run --kernel "$DIR/Image" --initrd "$DIR/guest.cpio" --memory 256M \
	--disk "$disk" --image "$img" \
	--cmdline "console=ttyS0 quiet panic=-1 torpor.test=demo torpor.root=/dev/vda" \
	</dev/null; echo $? >"$WORK/rc"; } 2>&1 | tr -d '\r'
rc=$(cat "$WORK/rc")
[ "$rc" = 7 ] && what=" (hibernated)" || what=" (not hibernated!)"
echo "demo: torpor run exited with status $rc$what after $(elapsed "$t0") s; the image:"
"$TORPOR" inspect "$img" 2>&1 | head -n 16 | sed 's/^/demo:   /'
echo "demo: restoring the image in a new torpor process"
t1=$(uptime_s)
"$TORPOR" restore "$img" </dev/null 2>&1 | tr -d '\r' | tee "$WORK/restore.log"
echo "demo: restore ran $(elapsed "$t1") s until the guest powered off"
e2fs=$DIR/e2fsprogs
fsck=dirty
"$e2fs/ld-linux-aarch64.so.1" --library-path "$e2fs" "$e2fs/e2fsck" -fn "$disk" \
	>"$WORK/fsck.log" 2>&1 && fsck=clean
echo "demo: e2fsck -fn on the guest's disk: $fsck ($(tail -n 1 "$WORK/fsck.log"))"
status=FAIL
grep -q '^guest: back' "$WORK/restore.log" && grep -q '^guest: read back' "$WORK/restore.log" &&
	[ $fsck = clean ] && status=PASS
echo "RIG-RESULT demo $status $(elapsed "$t0") $(uname -r)"
echo "RIG-END"
