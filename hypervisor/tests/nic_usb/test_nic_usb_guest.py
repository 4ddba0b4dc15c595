#!/usr/bin/python3
"""The e1000 NIC and the USB tablet with Debian's generic kernel, in the
test host.

The guest's e1000 driver binds to the NIC, gets 10.0.2.15 from user-mode
NAT's DHCP server with udhcpc, then moves data both ways through TCP
(large enough that the driver uses TSO and checksum offload) to a server
on the test host's loopback; the bytes are compared by SHA-256.  Then
uhci-hcd and usbhid are loaded and the tablet must appear in
/proc/bus/input/devices."""

import hashlib
import os
import socket
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest"))
from vmmtest import (Shell, Stream, VMM, assets, check, connect_unix, initrd_with_modules,  # noqa: E402
                     log, main)

USB_MODULES = [
    "kernel/drivers/usb/common/usb-common.ko",
    "kernel/drivers/usb/core/usbcore.ko",
    "kernel/drivers/usb/host/uhci-hcd.ko",
    "kernel/drivers/hid/hid.ko",
    "kernel/drivers/hid/usbhid/usbhid.ko",
    "kernel/drivers/hid/hid-generic.ko",
    "kernel/drivers/input/evdev.ko",
]

DHCP_SCRIPT = ("#!/bin/sh\n"
               "[ \"$1\" = bound ] || exit 0\n"
               "ip addr add $ip/$mask dev $interface\n"
               "ip route add default via $router\n")

DOWNLOAD = bytes((i * 131 + (i >> 8)) & 0xff for i in range(1 << 20))


def servers():
    """Two loopback servers: 'up' reads 'N\\n' then N bytes and answers
    their SHA-256; 'down' sends DOWNLOAD and closes."""
    up = socket.socket()
    up.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    up.bind(("127.0.0.1", 0))
    up.listen(4)
    down = socket.socket()
    down.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    down.bind(("127.0.0.1", 0))
    down.listen(4)

    def serve_up():
        while True:
            try:
                c, _ = up.accept()
            except OSError:
                return
            with c:
                c.settimeout(60)
                data = b""
                try:
                    while b"\n" not in data:
                        chunk = c.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    head, _, body = data.partition(b"\n")
                    want = int(head)
                    while len(body) < want:
                        chunk = c.recv(65536)
                        if not chunk:
                            break
                        body += chunk
                    c.sendall(hashlib.sha256(body[:want]).hexdigest().encode() + b"\n")
                except (OSError, ValueError):
                    pass

    def serve_down():
        while True:
            try:
                c, _ = down.accept()
            except OSError:
                return
            with c:
                try:
                    c.sendall(DOWNLOAD)
                except OSError:
                    pass

    threading.Thread(target=serve_up, daemon=True).start()
    threading.Thread(target=serve_down, daemon=True).start()
    return up, down


def wait_guest(sh, cond, tries=100):
    for _ in range(tries):
        if sh.run(cond + " && echo yes") == "yes":
            return True
        time.sleep(0.1)
    return False


def inner(vmm_bin):
    tmp = tempfile.mkdtemp(prefix="oriel-nic-usb-")
    initrd = initrd_with_modules(tmp, USB_MODULES, kernel="generic")
    up, down = servers()
    serial_path = os.path.join(tmp, "serial.sock")
    vmm = VMM(vmm_bin, ["--memory", "256M", "--cpus", "1", "--serial", "unix:" + serial_path,
                        "--net", "user,model=e1000",
                        "--vnc", "unix:" + os.path.join(tmp, "vnc.sock"),
                        "--kernel", assets()["VMLINUZ_GENERIC"], "--initrd", initrd,
                        "--cmdline", "console=ttyS0 quiet"], name="nic-usb")
    try:
        con = Stream(connect_unix(serial_path), "serial console")
        con.expect("ORIEL-GUEST-INIT", 300)
        sh = Shell(con)
        check(wait_guest(sh, "test -e /sys/class/net/eth0"), "no eth0 in the guest")
        drv = sh.run("basename $(readlink /sys/class/net/eth0/device/driver)")
        check(drv == "e1000", "eth0 driven by %r" % drv)
        mac = sh.run("cat /sys/class/net/eth0/address")
        check(mac.startswith("52:54:00:"), "guest MAC %r (from the EEPROM)" % mac)
        sh.run("printf '%s' > /tmp/dhcp.sh; chmod +x /tmp/dhcp.sh; ip link set eth0 up"
               % DHCP_SCRIPT.replace("\n", "\\n"))
        check(wait_guest(sh, "grep -q 1 /sys/class/net/eth0/carrier"), "no link on eth0")
        out = sh.run("udhcpc -i eth0 -s /tmp/dhcp.sh -q -n -t 10 -T 2 2>&1; "
                     "ip -4 addr show dev eth0", timeout=120)
        check("10.0.2.15" in out, "no DHCP lease: %r" % out)
        log("DHCP lease on e1000")

        # Upload: the guest's TCP stack segments through the NIC (TSO).
        port = up.getsockname()[1]
        want = sh.run("head -c 300000 /dev/urandom > /tmp/blob; "
                      "sha256sum /tmp/blob | cut -d' ' -f1")
        got = sh.run("(echo 300000; cat /tmp/blob) | nc -w 30 10.0.2.2 %d" % port, timeout=120)
        check(got == want, "upload through e1000: sent %r, server saw %r" % (want, got))
        # Download: receive path.
        port = down.getsockname()[1]
        got = sh.run("nc -w 30 10.0.2.2 %d | sha256sum | cut -d' ' -f1" % port, timeout=120)
        check(got == hashlib.sha256(DOWNLOAD).hexdigest(), "download through e1000: %r" % got)
        log("TCP both ways through e1000")

        # The USB tablet behind UHCI.
        has_uhci = sh.run("grep -l 0x7020 /sys/bus/pci/devices/*/device 2>/dev/null | "
                          "wc -l")
        check(has_uhci == "1", "no PIIX3 USB controller in the guest (%r)" % has_uhci)
        sh.run("for m in %s; do insmod /lib/modules/$(uname -r)/$m; done"
               % " ".join(USB_MODULES))
        check(wait_guest(sh, "grep -q 'Oriel USB Tablet' /proc/bus/input/devices", 300),
              "no tablet in /proc/bus/input/devices: %r"
              % sh.run("cat /proc/bus/input/devices; dmesg | grep -i -E 'usb|hid' | tail -20"))
        caps = sh.run("grep -A12 'Oriel USB Tablet' /proc/bus/input/devices | "
                      "grep -m1 'B: ABS='")
        check(caps.split("=")[-1].strip() == "3", "tablet without absolute X and Y: %r" % caps)
        log("tablet: %s" % caps)


        sh.s.send("poweroff -f\n")
        check(vmm.wait(120) == 0, "oriel-vmm exit status")
    finally:
        vmm.kill()
        up.close()
        down.close()


if __name__ == "__main__":
    main(__file__, inner)
