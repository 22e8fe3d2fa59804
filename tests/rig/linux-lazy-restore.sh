#!/bin/sh
# linux-lazy-restore: what a lazy restore (the default) must not do, on a
# Linux guest holding 64 MiB of random data:
# - run on a damaged image: a chunk damaged after `torpor verify` passed is
#   refused before any VM exists (exit 5, the chunk named);
# - run on memory the image no longer holds: the file cut to a tenth while
#   the fill reads it stops the VM with exit 5 and says so, never hangs;
# - depend on the path: the image deleted during the fill, the guest resumes
#   with its state intact;
# - fail where userfaultfd is not permitted (an unprivileged user with
#   vm.unprivileged_userfaultfd = 0): it restores eagerly, with a note.
# Needs root (the sysctl, a user namespace, /dev/userfaultfd's mode).
# rig-timeout: 600
. "$RIG_LIB"

img=$WORK/vm.torpor

hibernate_guest suspend 1 "$img" "torpor.fill=64"
expect_rc 7 "hibernate"
size=$(stat -c %s "$img")

# start_restore FROM OPTS...: a restore in the background ($pid), console
# and stderr as restore_guest's.
start_restore() {
	from=$1
	shift
	timeout 200 "$TORPOR" restore "$@" "$from" </dev/null >"$WORK/console.raw" \
		2>"$WORK/stderr" &
	pid=$!
}

# wait_restored: until the restore logged that the VM is built (the fill
# has just begun).
wait_restored() {
	n=0
	while ! grep -q 'restored .*filled lazily' "$WORK/stderr" && [ $n -lt 3000 ]; do
		kill -0 $pid 2>/dev/null || break
		sleep 0.01
		n=$((n + 1))
	done
	grep -q 'restored .*filled lazily' "$WORK/stderr" || { show "$WORK/stderr"; fail "no lazy restore line"; }
}

finish() {
	wait $pid
	rc=$?
	tr -d '\r' <"$WORK/console.raw" >"$WORK/console"
}

# 1. Damaged after verify: a byte in the middle of the file, in a memory
# record, flipped.
"$TORPOR" verify "$img" >/dev/null || fail "verify of the fresh image"
cp "$img" "$WORK/bad.torpor"
off=$((size / 2))
b=$(dd if="$WORK/bad.torpor" bs=1 skip=$off count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
printf "$(printf '\\%03o' $(((b + 1) % 256)))" |
	dd of="$WORK/bad.torpor" bs=1 seek=$off conv=notrunc 2>/dev/null
restore_guest "$WORK/bad.torpor"
expect_rc 5 "restore of an image damaged after verify"
grep -q 'chunk [0-9]*: checksum mismatch' "$WORK/stderr" || { show "$WORK/stderr"; fail "the damaged chunk is not named"; }
grep -q 'GUEST-RESUMED' "$WORK/console" && fail "the guest ran on a damaged image"
grep -q 'restored ' "$WORK/stderr" && fail "a VM was made from a damaged image"
stderr_info 'checksum mismatch'
rm -f "$WORK/bad.torpor"

# 2. Cut short during the fill: the process is held (SIGSTOP) as soon as
# the VM is built, the file cut to a tenth (the fill cannot have read the
# other nine by then), and let go.
cp "$img" "$WORK/cut.torpor"
start_restore "$WORK/cut.torpor" --on-suspend deny
wait_restored
kill -STOP $pid
truncate -s $((size / 10)) "$WORK/cut.torpor"
t0=$(uptime_s)
kill -CONT $pid
finish
expect_rc 5 "restore whose image was cut during the fill"
grep -q 'changed or cannot be read while the guest ran' "$WORK/stderr" || { show "$WORK/stderr"; fail "no message for the cut image"; }
echo "rig-info: cut during the fill: exit 5 $(echo "$t0 $(uptime_s)" | awk '{ printf "%.2f", $2 - $1 }') s after the cut: $(grep -m1 'changed or cannot' "$WORK/stderr" | sed 's/^torpor: //' | cut -c1-160)"
rm -f "$WORK/cut.torpor"

# 3. Deleted during the fill: the restore holds the file open.
cp "$img" "$WORK/gone.torpor"
start_restore "$WORK/gone.torpor" --on-suspend deny
wait_restored
rm -f "$WORK/gone.torpor"
finish
grep -q '^GUEST-RESUMED 1' "$WORK/console" || { show "$WORK/console"; show "$WORK/stderr"; fail "no resume after the image was deleted"; }
expect_guest_ok "counter 1" "sha256 1" "clock 1" "pm-exit 1"
expect_rc 0 "restore whose image was deleted during the fill"
stderr_info 'memory resident'

# 4. No userfaultfd: a user namespace has no CAP_SYS_PTRACE where the
# system call looks for it (as an unprivileged user with
# vm.unprivileged_userfaultfd = 0), and /dev/userfaultfd is closed to it
# (mode 000: its root is not mapped there, so no DAC override).
uffd=$(cat /proc/sys/vm/unprivileged_userfaultfd)
echo 0 >/proc/sys/vm/unprivileged_userfaultfd
dev_mode=
[ -e /dev/userfaultfd ] && dev_mode=$(stat -c %a /dev/userfaultfd) && chmod 000 /dev/userfaultfd
timeout 200 unshare --user "$TORPOR" restore --on-suspend deny "$img" \
	</dev/null >"$WORK/console.raw" 2>"$WORK/stderr"
rc=$?
echo "$uffd" >/proc/sys/vm/unprivileged_userfaultfd
[ -n "$dev_mode" ] && chmod "$dev_mode" /dev/userfaultfd
tr -d '\r' <"$WORK/console.raw" >"$WORK/console"
grep -q 'note: lazy restore is not possible here (userfaultfd: Operation not permitted' "$WORK/stderr" ||
	{ show "$WORK/stderr"; fail "no note of the eager fallback"; }
grep -q 'filled lazily' "$WORK/stderr" && fail "lazy without userfaultfd"
expect_guest_ok "counter 1" "sha256 1" "clock 1" "pm-exit 1"
expect_rc 0 "eager fallback"
stderr_info 'note: lazy'
