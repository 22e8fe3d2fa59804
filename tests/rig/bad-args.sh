#!/bin/sh
# bad-args: torpor refuses bad command lines and bad guest files with the
# documented exit status (2 usage, 3 guest file or disk) and one line on
# stderr. A disk held by another torpor is refused too, and the one holding
# it is unaffected.
# rig-timeout: 120
. "$RIG_LIB"

hello="$GUESTS/hello.bin"
errors=0

# expect CODE ARGS...: `torpor ARGS` exits CODE with exactly one stderr line.
expect() {
	want=$1
	shift
	timeout 30 "$TORPOR" "$@" </dev/null >"$WORK/out" 2>"$WORK/err"
	rc=$?
	lines=$(grep -c '' "$WORK/err")
	if [ $rc -ne "$want" ] || [ "$lines" -ne 1 ]; then
		echo "torpor $*: exit $rc (want $want), $lines stderr lines (want 1):" >&2
		show "$WORK/err" 3
		errors=$((errors + 1))
	fi
}

# Guest files.
: >"$WORK/empty.bin"
head -c 5242880 /dev/zero >"$WORK/big.bin"
head -c 4096 /dev/urandom >"$WORK/garbage.img"
# A kernel whose header magic "ARM\x64" (offset 56) is damaged.
head -c 56 "$GUEST_KERNEL" >"$WORK/bad.Image"
printf 'XRM\144' >>"$WORK/bad.Image"
head -c 1048576 "$GUEST_KERNEL" | tail -c +61 >>"$WORK/bad.Image"

# Usage errors: 2.
expect 2 frobnicate
expect 2 run --kernel "$hello" --bogus-option
expect 2 run --kernel "$hello" --cpus 0
expect 2 run --kernel "$hello" --cpus 999
expect 2 run --kernel "$hello" --memory 12Q
expect 2 run --memory 64M
# Bad guest files: 3.
expect 3 run --kernel "$WORK/does-not-exist.bin"
expect 3 run --kernel "$WORK/empty.bin"
expect 3 run --kernel "$WORK/big.bin" --memory 4M
expect 3 run --kernel "$WORK/garbage.img"
expect 3 run --kernel "$WORK/bad.Image"

# Bad disks: 3, before any VM exists.
head -c 1000 /dev/zero >"$WORK/odd.raw"
: >"$WORK/zero.raw"
head -c 1048576 /dev/zero >"$WORK/disk.raw"
mkfifo "$WORK/fifo"
expect 3 run --kernel "$hello" --disk "$WORK/missing.raw"
expect 3 run --kernel "$hello" --disk "$WORK/odd.raw"
expect 3 run --kernel "$hello" --disk "$WORK/zero.raw"
expect 3 run --kernel "$hello" --disk "$WORK"
expect 3 run --kernel "$hello" --disk "$WORK/fifo"
expect 2 run --kernel "$hello" --disk "$WORK/disk.raw,readonly,fast"
expect 2 run --kernel "$hello" --disk "$WORK/disk.raw,serial=123456789012345678901"
# In use: a Linux guest, booting (it is killed once checked), holds disk.raw.
mkfifo "$WORK/in"
"$TORPOR" run --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --disk "$WORK/disk.raw" \
	--cmdline "$(guest_cmdline boot 1)" <"$WORK/in" >"$WORK/holder.out" 2>"$WORK/holder.err" &
holder=$!
exec 4>"$WORK/in"
sleep 1
expect 3 run --kernel "$hello" --disk "$WORK/disk.raw"
grep -q "in use" "$WORK/err" || { show "$WORK/err"; errors=$((errors + 1)); }
kill -0 $holder 2>/dev/null || { echo "the torpor holding the disk died" >&2; errors=$((errors + 1)); }
kill $holder 2>/dev/null
exec 4>&-
wait $holder

[ $errors -eq 0 ] || fail "$errors bad invocation(s) not refused as documented"
