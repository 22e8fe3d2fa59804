#!/bin/sh
# xkernel-hibernate: first half of "restore on another host kernel". A Linux
# guest with 2 vCPUs is hibernated on this host's kernel and its image goes
# to slot 1 of the rig disk with this kernel's release; xkernel-restore
# restores it after the host has rebooted on the other kernel. check.sh runs
# the rig on both host kernels, so the image goes 6.1 -> 6.12 in one run and
# 6.12 -> 6.1 in the other.
# rig-timeout: 180
. "$RIG_LIB"

img=$WORK/vm.torpor
hibernate_guest suspend 2 "$img"
expect_rc 7 "hibernate"
disk_put "$img" 1
echo "rig-info: a guest suspended on host $(uname -r): $(wc -c <"$img") bytes in slot 1"
