#!/bin/busybox sh
# host-init.sh - /init of the rig's outer host (an arm64 Linux booted by QEMU
# TCG with EL2, so it has a real /dev/kvm).
#
# Installs busybox's applet links, mounts the pseudo file systems and a tmpfs
# scratch area, runs the scenario runner on the scenarios named by RIG_SCENARIOS
# (comma-separated, from the kernel command line; empty = all), or with
# RIG_DEMO the demo, or with RIG_SHELL an interactive shell (shell.sh), and
# powers off.
/bin/busybox mkdir -p /proc /sys /dev /tmp /usr/bin /usr/sbin /sbin
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# Pseudo-terminals, for scenarios that give torpor a terminal (ptyrun).
mkdir -p /dev/pts
mount -t devpts -o ptmxmode=0666 devpts /dev/pts
[ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx
mount -t tmpfs -o size=1536m,mode=1777 tmp /tmp
# The rig disk (virtio-mmio block device), which carries files across a
# reboot of this host: Debian builds its drivers as modules, shipped for
# each kernel the host boots.
for m in /lib/rig-modules/$(uname -r)/virtio_mmio.ko /lib/rig-modules/$(uname -r)/virtio_blk.ko; do
	[ -e $m ] && insmod $m
done
# The guests' taps (/dev/net/tun; tun is a module too) and the loopback
# (net-bench's baseline). No other interface: QEMU gives this host no NIC,
# so nothing a scenario sends leaves it.
m=/lib/rig-modules/$(uname -r)/tun.ko
[ -e $m ] && insmod $m
ip link set lo up
n=0
while [ ! -b /dev/vda ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
[ -b /dev/vda ] && export RIG_DISK=/dev/vda

if [ -n "${RIG_SHELL:-}" ]; then
	# make shell: cttyhack makes the console (ttyAMA0) the shell's
	# controlling terminal, in a new session: job control, Ctrl-C.
	RIG_OWN_HOST=1 WORK_ROOT=/tmp/rig setsid cttyhack sh /rig/shell.sh
elif [ -n "${RIG_DEMO:-}" ]; then
	WORK_ROOT=/tmp/rig sh /rig/demo.sh
else
	RIG_OWN_HOST=1 WORK_ROOT=/tmp/rig sh /rig/runner.sh $(echo "${RIG_SCENARIOS:-}" | tr , ' ')
fi
sync
poweroff -f
