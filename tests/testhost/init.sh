#!/bin/sh
# /init of the test host initramfs (busybox).  Loads the modules that the
# kernel needs for 9p and KVM, turns this machine's root filesystem (shared
# read-only over 9p) into a writable root with an overlay on tmpfs, mounts
# the writable shares at their host paths and hands over to the command agent.
#
# Kernel parameters (set by testhost.py):
#   oriel.agent=PATH      agent program (a path in the shared root)
#   oriel.modules=PATH    module tree of this kernel, in the shared root
#   oriel.share=TAG:PATH  writable 9p share TAG mounted at PATH (repeatable)
#   oriel.cache=MODE      9p cache mode of the root share
echo ORIEL-TESTHOST-INIT
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

fail() {
	echo "testhost-init: $*" >&2
	# PID 1 exiting panics the kernel; panic=-1 and -no-reboot end QEMU.
	exit 1
}

kver=$(uname -r)
while read -r ko; do
	insmod "/lib/modules/$kver/$ko" || echo "testhost-init: insmod $ko failed" >&2
done <"/lib/modules/$kver/load-order"

agent='' modules='' shares='' cache=loose
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	oriel.agent=*) agent=${arg#oriel.agent=} ;;
	oriel.modules=*) modules=${arg#oriel.modules=} ;;
	oriel.share=*) shares="$shares ${arg#oriel.share=}" ;;
	oriel.cache=*) cache=${arg#oriel.cache=} ;;
	esac
done

opts=trans=virtio,version=9p2000.L,msize=512000
mkdir -p /lower /upper /newroot
mount -t 9p -o "$opts,ro,cache=$cache" hostroot /lower || fail "cannot mount the host root over 9p"
mount -t tmpfs -o mode=0755 tmpfs /upper
mkdir -p /upper/data /upper/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work /newroot ||
	fail "cannot mount the overlay root"

mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /newroot/run
mkdir -p /newroot/dev/pts /newroot/dev/shm /newroot/run/lock
mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts /newroot/dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /newroot/dev/shm
mount -t cgroup2 cgroup2 /newroot/sys/fs/cgroup 2>/dev/null
# The host's X server lock files would make display numbers look taken.
rm -rf /newroot/tmp/.X11-unix /newroot/tmp/.X*-lock 2>/dev/null

if [ -n "$modules" ] && [ -d "/newroot$modules" ]; then
	mkdir -p "/newroot/lib/modules/$kver"
	mount --bind "/newroot$modules" "/newroot/lib/modules/$kver"
fi

for s in $shares; do
	tag=${s%%:*}
	path=${s#*:}
	mkdir -p "/newroot$path"
	mount -t 9p -o "$opts,cache=none" "$tag" "/newroot$path" || fail "cannot mount share $tag at $path"
done

ip link set lo up
hostname testhost

[ -n "$agent" ] || fail "no oriel.agent= on the kernel command line"
export HOME=/root LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
exec switch_root /newroot /usr/bin/python3 -I -S "$agent"
