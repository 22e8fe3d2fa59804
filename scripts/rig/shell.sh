#!/bin/sh
# shell.sh - `make shell`: an interactive shell where /dev/kvm is (the rig's
# host, or an arm64 machine), for trying torpor by hand. Makes a working
# directory under WORK_ROOT holding the default guest's kernel (Image), its
# initramfs (guest.cpio) and a copy of its root disk (root.ext4), prints what
# to try, and becomes an interactive sh there with torpor on PATH. The rig's
# host gives it the console as its controlling terminal (job control).
# RIG_TTY=ROWS,COLS: the size of the terminal the user sits at (a serial
# console has none; line editing needs it). RIG_OWN_HOST=1 (set by the rig's
# /init): this shell is the rig host's, which powers off when it exits.
DIR=$(cd "$(dirname "$0")" && pwd)
WORK=${WORK_ROOT:-/tmp}/shell
mkdir -p "$WORK"
cd "$WORK" || exit 1
ln -sf "$DIR/Image" Image
ln -sf "$DIR/guest.cpio" guest.cpio
cp "$DIR/rootfs.ext4" root.ext4
case ${RIG_TTY:-} in
[1-9]*,[1-9]*) stty rows "${RIG_TTY%,*}" cols "${RIG_TTY#*,}" ;;
esac
export PATH="$DIR:$PATH"
leave="exit  (back to make)"
[ "${RIG_OWN_HOST:-}" = 1 ] && leave="exit  (powers it off)  or  Ctrl-] x  (quits QEMU at once)"
cat <<EOF

=== torpor shell: $(uname -m) Linux $(uname -r) with /dev/kvm; in $WORK: Image guest.cpio root.ext4
Boot the guest (on its root disk; its console is this terminal, its shell prompt 'guest:/#'):
  torpor run --kernel Image --initrd guest.cpio --disk root.ext4 --image vm.img --api-socket vm.sock -p 'console=ttyS0 quiet torpor.test=shell torpor.buttons=logind torpor.root=/dev/vda'
In the guest:  echo mem > /sys/power/state   suspends it: torpor hibernates it to vm.img, exits 7
               exit                          powers the guest off
               Ctrl-A x                      quits torpor at once (Ctrl-A Ctrl-A sends Ctrl-A)
From here, with the guest in the background (append  </dev/null >vm.log 2>&1 &  to the run line):
  torpor ctl vm.sock status      torpor ctl vm.sock hibernate
Then:  torpor inspect vm.img     torpor restore vm.img     (the guest carries on where it slept)
Leave this host:  $leave
EOF
PS1='host:\w$ ' exec sh -i
