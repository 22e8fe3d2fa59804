#!/bin/sh
# no-kvm: on a host without a usable /dev/kvm (hidden in a private mount
# namespace: missing, or not a KVM device), run and restore fail with exit
# 4 and one line naming the problem.
# rig-timeout: 60
. "$RIG_LIB"

# in_ns SETUP CMD...: runs CMD after SETUP in a private mount namespace.
in_ns() {
	setup=$1
	shift
	unshare -m sh -c "$setup && exec \"\$@\"" sh "$@"
}

# expect_no_kvm PATTERN SETUP CMD...
expect_no_kvm() {
	pat=$1 setup=$2
	shift 2
	in_ns "$setup" "$@" </dev/null >"$WORK/out" 2>"$WORK/err"
	rc=$?
	[ $rc -eq 4 ] || { show "$WORK/err"; fail "$*: exit $rc, want 4"; }
	[ "$(wc -l <"$WORK/err")" -eq 1 ] || { show "$WORK/err"; fail "$*: not one line"; }
	grep -q "$pat" "$WORK/err" || { show "$WORK/err"; fail "$*: no '$pat'"; }
	echo "rig-info: $(cat "$WORK/err")"
}

gone='mount -t tmpfs none /dev'
fake='mount --bind /dev/null /dev/kvm'
expect_no_kvm 'cannot open /dev/kvm' "$gone" "$TORPOR" run --kernel "$GUESTS/hello.bin"
expect_no_kvm 'unknown API version' "$fake" "$TORPOR" run --kernel "$GUESTS/hello.bin"

# restore: a real image, then the same refusal.
"$TORPOR" run --kernel "$GUESTS/regs.bin" --memory 64M --image "$WORK/img" </dev/null >/dev/null 2>&1
[ -s "$WORK/img" ] || fail "no image to restore"
expect_no_kvm 'cannot open /dev/kvm' "$gone" "$TORPOR" restore "$WORK/img"
