#!/bin/sh
# linux-hibernate-1cpu: a Linux guest (1 vCPU) runs
# `echo mem > /sys/power/state`; torpor hibernates it to an image and exits
# 7; a new torpor process restores it, presses the wake button, and the guest
# carries on: counter continues, blob checksum holds, CPUs online, clock
# right, "PM: suspend exit" in its log; then it powers off (exit 0).
# rig-timeout: 240
. "$RIG_LIB"

# On its ext4 root disk (virtio-blk), as every real VM is.
use_root_disk "$WORK/root.ext4"
hibernate_roundtrip 1
