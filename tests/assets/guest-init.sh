#!/bin/sh
# Init of the second-level test guests: /init in initramfs-busybox.img and
# /sbin/init in rootfs.ext4 (busybox sh, no udev).
#
# The marker comes first so that boot-time measurements stop as soon as
# userspace runs.  Kernel command line parameters understood:
#   root=DEV [rootfstype=T] [ro|rw]  (initramfs only) mount DEV and continue
#                                    with its /sbin/init (or init=PATH)
#   oriel.run=PATH                   run PATH, print ORIEL-GUEST-EXIT=<status>,
#                                    power off
#   oriel.shell=0                    no shell: print ORIEL-GUEST-IDLE, idle
#                                    until powered off
# Without oriel.run a shell runs on the console.
if [ -e /etc/oriel-rootfs ]; then
	echo ORIEL-ROOTFS-INIT
else
	echo ORIEL-GUEST-INIT
fi

export PATH=/sbin:/bin:/usr/sbin:/usr/bin
export HOME=/root

# After switch_root from the initramfs, /proc, /sys and /dev are mounted.
[ -e /proc/self ] || mount -t proc proc /proc
# How long the kernel took from its clock's start to here: benchmarks split
# a boot into the VMM's part and the guest kernel's own.
read -r uptime _ < /proc/uptime
echo "ORIEL-GUEST-UPTIME=$uptime"
mounted() { grep -q " $1 " /proc/mounts; }
mounted /sys || mount -t sysfs sysfs /sys
mounted /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /run /tmp
mounted /dev/pts || mount -t devpts devpts /dev/pts
mounted /run || mount -t tmpfs tmpfs /run
mounted /tmp || mount -t tmpfs tmpfs /tmp

kver=$(uname -r)
order=/lib/modules/$kver/load-order
if [ -f "$order" ]; then
	while read -r ko; do
		insmod "/lib/modules/$kver/$ko" 2>/dev/null
	done <"$order"
fi
ip link set lo up 2>/dev/null
hostname oriel-guest

root='' rootfstype='' rootmode=ro run='' init=/sbin/init shell=1
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	root=*) root=${arg#root=} ;;
	rootfstype=*) rootfstype=${arg#rootfstype=} ;;
	rw) rootmode=rw ;;
	ro) rootmode=ro ;;
	init=*) init=${arg#init=} ;;
	oriel.run=*) run=${arg#oriel.run=} ;;
	oriel.shell=*) shell=${arg#oriel.shell=} ;;
	esac
done

if [ -n "$root" ] && [ ! -e /etc/oriel-rootfs ]; then
	# Block devices appear asynchronously after the driver loads.
	n=0
	while [ ! -b "$root" ] && [ $n -lt 100 ]; do
		usleep 50000
		n=$((n + 1))
	done
	mkdir -p /newroot
	if mount ${rootfstype:+-t "$rootfstype"} -o "$rootmode" "$root" /newroot; then
		for m in /dev/pts /dev/shm /run /tmp; do
			umount "$m" 2>/dev/null
		done
		mount --move /proc /newroot/proc
		mount --move /sys /newroot/sys
		mount --move /dev /newroot/dev
		exec switch_root /newroot "$init"
	fi
	echo "oriel-guest-init: cannot mount $root" >&2
fi

if [ -n "$run" ]; then
	if [ -x "$run" ]; then
		"$run"
	else
		sh "$run"
	fi
	echo "ORIEL-GUEST-EXIT=$?"
	sync
	poweroff -f
	reboot -f
fi

if [ "$shell" = 0 ]; then
	echo ORIEL-GUEST-IDLE
	while :; do sleep 3600; done
fi
while :; do
	setsid cttyhack sh -l
done
