#!/bin/sh
# kvm-present: the rig's host has a usable KVM character device.
# rig-timeout: 10
[ -c /dev/kvm ] || { echo "/dev/kvm is missing or not a character device" >&2; exit 1; }
[ -r /dev/kvm ] && [ -w /dev/kvm ] || { echo "/dev/kvm is not read-write for us" >&2; exit 1; }
