#!/bin/bash
# cli.sh - the torpor command line on this host (x86 included): help,
# version, usage errors, inspect and verify on good and damaged images, and
# run/restore refusing cleanly where this build has no KVM. Each case gives
# the command, the exit status it must have, and a pattern its output (stdout
# for status 0, stderr otherwise) must match; every error must be one line.
# Usage: tests/cli/cli.sh [TORPOR]   Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
T=${1:-build/host/torpor}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# Images from the fuzzers' seed generator (the unit tests' fixture): valid
# ones, and refuse-*.img, each breaking one rule of formats/.
${HOSTCC:-gcc} -std=gnu11 -O1 -Iinclude -D_GNU_SOURCE -o "$W/seeds" tests/fuzz/seeds.c \
	build/host/libtorpor.a -lzstd -lfdt -lpthread || exit 1
mkdir -p "$W/seeds.d" && "$W/seeds" "$W/seeds.d" >/dev/null || exit 1
good=$W/seeds.d/one-vcpu-data.img
# $good as an extended regular expression that matches only itself.
good_re=$(printf '%s' "$good" | sed 's/[][\\.^$*+?(){}|]/\\&/g')
size=$(wc -c <"$good")
cp "$good" "$W/flipped"
printf '\377' | dd of="$W/flipped" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
head -c $((size / 2)) "$good" >"$W/short"
: >"$W/empty"
printf 'not an image at all, not even close to one; just text' >"$W/text"
printf 'x' >"$W/raw.bin"
# An arm64 Image header (text_offset 0x80000, image_size 1 MiB) flagged
# big-endian (flags bit 0), and the same flagged little-endian.
be_image() {
	head -c 64 /dev/zero >"$2"
	printf 'MZ' | dd of="$2" conv=notrunc 2>/dev/null
	printf '\000\000\010\000' | dd of="$2" bs=1 seek=8 conv=notrunc 2>/dev/null
	printf '\000\000\020\000' | dd of="$2" bs=1 seek=16 conv=notrunc 2>/dev/null
	printf "\\$1" | dd of="$2" bs=1 seek=24 conv=notrunc 2>/dev/null
	printf 'ARM\144' | dd of="$2" bs=1 seek=56 conv=notrunc 2>/dev/null
}
be_image 001 "$W/Image-be"
be_image 000 "$W/Image-le"

kvm=4   # run/restore without KVM support in this build
[ "$(uname -m)" = aarch64 ] && [ -c /dev/kvm ] && kvm=

passed=0 failed=0
# check WANT_STATUS PATTERN CMD...
check() {
	local want=$1 pat=$2 out err rc
	shift 2
	out=$("$@" 2>"$W/err" </dev/null)
	rc=$?
	err=$(cat "$W/err")
	local text=$out
	[ "$want" -ne 0 ] && text=$err
	if [ $rc -eq "$want" ] && grep -qE -- "$pat" <<<"$text" &&
	   { [ "$want" -eq 0 ] || [ "$(wc -l <<<"$err")" -eq 1 ]; }; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "cli: FAIL: $* -> status $rc (want $want), output:"
		printf '%s\n%s\n' "$out" "$err" | head -n 5 | sed 's/^/cli:     /'
	fi
}

check 0 '^usage: torpor COMMAND' "$T" --help
check 0 '^torpor [0-9]+\.[0-9]+\.[0-9]+$' "$T" --version
check 2 'no command given' "$T"
check 2 "unknown command 'frobnicate'" "$T" frobnicate
check 0 '^usage: torpor run' "$T" run --help
check 0 '^usage: torpor restore' "$T" restore --help
check 2 'kernel FILE is required' "$T" run
check 2 "cpus must be 1..32: '0'" "$T" run --kernel "$W/raw.bin" --cpus 0
check 2 "memory must be" "$T" run --kernel "$W/raw.bin" --memory 12Q
check 2 "needs --image" "$T" run --kernel "$W/raw.bin" --on-suspend snapshot
check 2 "cannot write into directory '/nonexistent'" "$T" run --kernel "$W/raw.bin" --image /nonexistent/x
check 3 "cannot open kernel" "$T" run --kernel "$W/none"
check 3 "is empty" "$T" run --kernel "$W/empty"
check 3 "not an arm64 Linux Image" "$T" run --kernel "$W/text"
check 3 "is a big-endian arm64 Image" "$T" run --kernel "$W/Image-be"
check 2 "memory must be a multiple of 64K: '1025K'" "$T" run --kernel "$W/raw.bin" --memory 1025K
check 2 "image must name a file, not a directory: 'out/'" "$T" run --kernel "$W/raw.bin" --image out/
check 2 "'$W' is a directory, not a file" "$T" run --kernel "$W/raw.bin" --image "$W"
check 2 "exclude each other" "$T" restore --no-wake --force-wake "$good"
check 2 "IMAGE is required" "$T" restore
check 2 "clock must be continue or freeze" "$T" restore --clock later "$good"
check 2 "memory must be lazy or eager" "$T" restore --memory 1G "$good"

check 0 '^torpor image: format 1\.4' "$T" inspect "$good"
check 0 '"vcpus":\[\{' "$T" inspect --json "$good"
check 0 '"chunks":\[' "$T" inspect --json "$good"
check 0 "^$good_re: ok\$" "$T" verify "$good"
disks=$W/seeds.d/one-vcpu-disks.img
check 0 '^disk 0: /var/lib/torpor/root\.raw, 1073741824 bytes, read-only' "$T" inspect "$disks"
check 0 '"disks":\[\{"dev":3,' "$T" inspect --json "$disks"
check 0 ': ok$' "$T" verify "$disks"
prefetch=$W/seeds.d/two-vcpus-prefetch.img
check 0 '^    prefetch order: 2 chunks \(1\.1 MiB\) first$' "$T" inspect "$prefetch"
check 0 '"prefetch_chunks":2,' "$T" inspect --json "$prefetch"
check 0 '"prefetch_chunks":0,' "$T" inspect --json "$good"
check 0 ': ok$' "$T" verify "$prefetch"
check 5 'checksum' "$T" verify "$W/flipped"
check 5 'checksum' "$T" inspect "$W/flipped"
check 5 'file is [0-9]+ bytes, header says' "$T" verify "$W/short"
check 5 'not a torpor image|too short|magic|truncated' "$T" verify "$W/text"
check 5 'No such file' "$T" verify "$W/none"
for bad in "$W"/seeds.d/refuse-*.img; do
	check 5 'torpor verify: .*: (image is corrupt|checksum mismatch|required section missing)' "$T" verify "$bad"
done
check 2 'IMAGE is required' "$T" verify
check 2 'IMAGE is required' "$T" inspect
check 2 "unknown option '--frob'" "$T" inspect --frob "$good"
check 0 '^usage: torpor inspect' "$T" inspect --help
check 2 'at most 8 --disk options' "$T" run --kernel "$W/raw.bin" --disk=a --disk=b \
	--disk=c --disk=d --disk=e --disk=f --disk=g --disk=h --disk=i
check 2 "unknown option 'fast'" "$T" run --kernel "$W/raw.bin" --disk "$W/empty,fast"
check 2 'restore --disk takes a path only' "$T" restore --disk "$W/empty,readonly" "$good"
check 2 '--disk-overlay cannot be checkpointed' "$T" restore --disk-overlay \
	--on-suspend snapshot "$good"
check 0 'disk-overlay' "$T" restore --help
check 2 'at most 4 --net options' "$T" run --kernel "$W/raw.bin" --net tap=a --net tap=b \
	--net tap=c --net tap=d --net tap=e
check 2 '--net names a tap twice' "$T" run --kernel "$W/raw.bin" --net tap=t0 --net tap=t0
check 2 "mac" "$T" run --kernel "$W/raw.bin" --net tap=t0,mac=01:00:5e:00:00:01
check 2 "mac" "$T" run --kernel "$W/raw.bin" --net tap=t0,mac=02:00:00:00:00
check 2 "tap" "$T" run --kernel "$W/raw.bin" --net tap=this-name-is-too-long
check 2 "chunk-size must be a power of two from 4K to 16M: '3K'" "$T" run --kernel "$W/raw.bin" \
	--chunk-size 3K
check 2 "chunk-size must be a power of two from 4K to 16M: '32M'" "$T" restore \
	--chunk-size 32M "$good"
check 0 'chunk-size SIZE' "$T" run --help
check 0 'chunk-size SIZE' "$T" restore --help
check 0 'no-vmgenid' "$T" run --help
check 0 'net tap=NAME' "$T" restore --help
check 0 'readonly' "$T" run --help
check 0 '^usage: torpor ctl' "$T" ctl --help
check 0 'checkpoint-done +image, bytes, ratio, seconds' "$T" ctl --help
check 0 '10 nothing answers' "$T" ctl --help
check 0 '^  ctl ' "$T" --help
check 2 'PATH \(the control socket\) is required' "$T" ctl
check 2 'REQUEST is required' "$T" ctl "$W/api.sock"
check 2 "unknown request 'frob' \(status, hibernate" "$T" ctl "$W/api.sock" frob
check 2 '--image is for hibernate and snapshot, not status' "$T" ctl "$W/api.sock" status \
	--image x
check 2 "--timeout must be seconds from 0.1 to 86400: '0'" "$T" ctl "$W/api.sock" \
	poweroff --timeout 0
check 10 "no socket at $W/api.sock" "$T" ctl "$W/api.sock" status
check 10 'is not a socket' "$T" ctl "$W/text" status
if [ -n "$kvm" ]; then
	check $kvm 'without KVM support' "$T" run --kernel "$W/raw.bin"
	check $kvm 'without KVM support' "$T" run --kernel "$W/Image-le"
	check $kvm 'without KVM support' "$T" restore "$good"
fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
