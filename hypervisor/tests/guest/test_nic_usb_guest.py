#!/usr/bin/python3
"""The e1000 and e1000e NICs and the USB tablet with Debian's generic
kernel, in the test host.

The guest's e1000 driver binds to the NIC, gets 10.0.2.15 from user-mode
NAT's DHCP server with udhcpc, then moves data both ways through TCP
(large enough that the driver uses TSO and checksum offload) to a server
on the test host's loopback; the bytes are compared by SHA-256.  Then the
e1000 interface goes down, Linux's e1000e driver is loaded for the second
NIC (an 82574L with its own user-mode NAT) and the same checks run through
it, with the driver on MSI-X.  Next the
VNC pointer drives the PS/2 mouse (psmouse's evdev device sees the relative
moves and the click).  Then
uhci-hcd and usbhid are loaded, the tablet must appear in
/proc/bus/input/devices, and a VNC client's pointer (a click at a point of
the screen) must reach the guest as absolute tablet events on its evdev
device.

A second VM in the same test host has --usb xhci: xhci-pci binds to the
xHCI controller (by its class), the tablet and the USB keyboard appear
behind it, a VNC click arrives as absolute tablet events and a VNC key
press as a key press and release on the USB keyboard's evdev device; the
VM is saved and restored, and a key press arrives through the restored
controller."""

import hashlib
import os
import socket
import struct
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from vmmtest import (Control, Failure, Shell, Stream, VMM, assets, check, connect_unix,  # noqa: E402
                     initrd_with_modules, log, main)

USB_MODULES = [
    "kernel/drivers/usb/common/usb-common.ko",
    "kernel/drivers/usb/core/usbcore.ko",
    "kernel/drivers/usb/host/uhci-hcd.ko",
    "kernel/drivers/hid/hid.ko",
    "kernel/drivers/hid/usbhid/usbhid.ko",
    "kernel/drivers/hid/hid-generic.ko",
    "kernel/drivers/input/evdev.ko",
]
PS2_MOUSE_MODULE = "kernel/drivers/input/mouse/psmouse.ko"
E1000E_MODULE = "kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko"
XHCI_MODULES = [
    "kernel/drivers/usb/common/usb-common.ko",
    "kernel/drivers/usb/core/usbcore.ko",
    "kernel/drivers/usb/host/xhci-hcd.ko",
    "kernel/drivers/usb/host/xhci-pci.ko",
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


def vnc_send(path, messages):
    """Connect to the VNC server as a client and send the client messages
    (bytes) after the handshake."""
    def recv_exact(sock, n):
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            check(chunk, "VNC server closed the connection")
            buf += chunk
        return buf

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(30)
        sock.connect(path)
        check(recv_exact(sock, 12) == b"RFB 003.008\n", "VNC version")
        sock.sendall(b"RFB 003.008\n")
        types = recv_exact(sock, recv_exact(sock, 1)[0])
        check(1 in types, "VNC security None not offered")
        sock.sendall(b"\x01")
        check(struct.unpack(">I", recv_exact(sock, 4))[0] == 0, "VNC security result")
        sock.sendall(b"\x01")
        width, height = struct.unpack(">HH", recv_exact(sock, 4))
        recv_exact(sock, 16)
        recv_exact(sock, struct.unpack(">I", recv_exact(sock, 4))[0])
        sock.sendall(b"".join(messages(width, height)))
        # A request answered proves the server read the events before this
        # connection goes away.
        sock.sendall(struct.pack(">BBHHHH", 3, 1, 0, 0, 1, 1))
        recv_exact(sock, 1)
    return width, height


def vnc_pointer(path, x_frac, y_frac, buttons):
    """Press and release `buttons` at the fraction (x_frac, y_frac) of the
    screen through VNC; return the pixel position and the screen size."""
    pos = []

    def messages(width, height):
        x, y = int(width * x_frac), int(height * y_frac)
        pos.extend([x, y])
        return [struct.pack(">BBHH", 5, buttons, x, y), struct.pack(">BBHH", 5, 0, x, y)]
    width, height = vnc_send(path, messages)
    return pos[0], pos[1], width, height


def vnc_key(path, keysym):
    """Press and release the key of X11 keysym through VNC."""
    vnc_send(path, lambda w, h: [struct.pack(">BBHI", 4, 1, 0, keysym),
                                 struct.pack(">BBHI", 4, 0, 0, keysym)])


def input_events(raw):
    """(type, code, value) of x86-64 struct input_event records."""
    out = []
    for i in range(0, len(raw) - 23, 24):
        out.append(struct.unpack("<HHi", raw[i + 16:i + 24]))
    return out


def record_evdev(sh, name, path):
    """Start recording the guest's evdev device whose name contains NAME
    into PATH (in the guest)."""
    ev = sh.run("for e in /sys/class/input/event*; do "
                "grep -q '%s' $e/device/name && echo ${e##*/}; done" % name)
    check(ev.startswith("event"), "no event device for %s: %r" % (name, ev))
    sh.run("cat /dev/input/%s > %s & echo $! > %s.pid" % (ev.split()[0], path, path))


def recorded_events(sh, path):
    return input_events(bytes.fromhex(sh.run("od -A n -t x1 -v %s | tr -d ' \\n'" % path)))


def click_until(sh, vnc, path, y_frac_of, seen, what, attempts):
    """Click through VNC at (0.5, y_frac_of(attempt)) for attempt 0, 1, ...
    (at most ATTEMPTS) until seen(events, click) holds for the events
    recorded in PATH; returns the events and the clicks (x, y, width,
    height)."""
    deadline = time.monotonic() + 60
    clicks = []
    for attempt in range(attempts):
        clicks.append(vnc_pointer(vnc, 0.5, y_frac_of(attempt), 1))
        time.sleep(0.5)
        events = recorded_events(sh, path)
        if seen(events, clicks[-1]):
            break
        check(time.monotonic() < deadline, "%s events in the guest: %r" % (what, events[-12:]))
    sh.run("kill $(cat %s.pid)" % path)
    return events, clicks


def tablet_position(click):
    x, y, width, height = click
    return x * 0x7fff // (width - 1), y * 0x7fff // (height - 1)


def wait_guest(sh, cond, tries=100):
    for _ in range(tries):
        if sh.run(cond + " && echo yes") == "yes":
            return True
        time.sleep(0.1)
    return False


def nic_checks(sh, dev, model, up, down):
    """DHCP on DEV, then TCP both ways through it (the guest's TCP stack
    segments the upload through the NIC's TSO)."""
    sh.run("ip link set %s up" % dev)
    check(wait_guest(sh, "grep -q 1 /sys/class/net/%s/carrier" % dev), "no link on %s" % dev)
    out = sh.run("udhcpc -i %s -s /tmp/dhcp.sh -q -n -t 10 -T 2 2>&1; "
                 "ip -4 addr show dev %s" % (dev, dev), timeout=120)
    check("10.0.2.15" in out, "no DHCP lease on %s: %r" % (model, out))
    log("DHCP lease on %s" % model)
    port = up.getsockname()[1]
    want = sh.run("head -c 300000 /dev/urandom > /tmp/blob; "
                  "sha256sum /tmp/blob | cut -d' ' -f1")
    got = sh.run("(echo 300000; cat /tmp/blob) | nc -w 30 10.0.2.2 %d" % port, timeout=120)
    check(got == want, "upload through %s: sent %r, server saw %r" % (model, want, got))
    port = down.getsockname()[1]
    got = sh.run("nc -w 30 10.0.2.2 %d | sha256sum | cut -d' ' -f1" % port, timeout=120)
    check(got == hashlib.sha256(DOWNLOAD).hexdigest(), "download through %s: %r" % (model, got))
    log("TCP both ways through %s" % model)


def check_tablet_clicks(sh, vnc):
    """A VNC client's pointer reaches the guest as absolute tablet events.
    usbhid drops reports for 50 ms after the event device is opened, and
    the tablet reports changes only: click at a new point until the guest
    has seen one whole click."""
    record_evdev(sh, "Oriel USB Tablet", "/tmp/ev")
    events, clicks = click_until(
        sh, vnc, "/tmp/ev", lambda attempt: (attempt + 1) / 100.0,
        lambda events, click: ((3, 1, tablet_position(click)[1]) in events and
                               events[-2:] == [(1, 0x110, 0), (0, 0, 0)]),
        "tablet", 99)
    x, y, width, height = clicks[-1]
    want_x, want_y = tablet_position(clicks[-1])
    # The last click, in order: press with the position, then release.
    # X is the same for every click, so evdev reports it only once.
    last = events[len(events) - 1 - events[::-1].index((1, 0x110, 1)):]
    abs_x = [v for (t, c, v) in events if (t, c) == (3, 0)]
    check(abs_x[-1:] == [want_x] and (3, 1, want_y) in last,
          "ABS_X/ABS_Y of the click at pixel (%d, %d) of %dx%d: %r"
          % (x, y, width, height, events[-16:]))
    check([e for e in last if e[0] == 1] == [(1, 0x110, 1), (1, 0x110, 0)],
          "BTN_LEFT press and release: %r" % last)
    log("tablet events after %d clicks: ABS_X %d ABS_Y %d, BTN_LEFT 1 then 0"
        % (len(clicks), want_x, want_y))


def wait_input_device(sh, name):
    check(wait_guest(sh, "grep -q '%s' /proc/bus/input/devices" % name, 300),
          "no %s in /proc/bus/input/devices: %r"
          % (name, sh.run("cat /proc/bus/input/devices; dmesg | grep -i -E 'usb|hid|xhci' | "
                          "tail -20")))


def check_usb_key(sh, vnc_path, keysym, code, name):
    """A key through VNC arrives pressed and released on the USB keyboard."""
    record_evdev(sh, "Oriel USB Keyboard", "/tmp/kev")
    deadline = time.monotonic() + 60
    while True:
        vnc_key(vnc_path, keysym)
        time.sleep(0.5)
        keys = [e for e in recorded_events(sh, "/tmp/kev") if e[:2] == (1, code)]
        if keys[-2:] == [(1, code, 1), (1, code, 0)]:
            break
        check(time.monotonic() < deadline, "%s events of the USB keyboard: %r" % (name, keys))
    sh.run("kill $(cat /tmp/kev.pid)")
    log("USB keyboard: %s pressed and released" % name)


def xhci_phase(vmm_bin):
    """The tablet and the USB keyboard behind the xHCI controller, before
    and after a save and restore."""
    tmp = tempfile.mkdtemp(prefix="oriel-xhci-")
    initrd = initrd_with_modules(tmp, XHCI_MODULES, kernel="generic")
    state = os.path.join(tmp, "xhci.sav")

    def start(name, extra=()):
        serial = os.path.join(tmp, "serial-%s.sock" % name)
        vnc = os.path.join(tmp, "vnc-%s.sock" % name)
        vmm = VMM(vmm_bin, ["--memory", "256M", "--cpus", "1", "--serial", "unix:" + serial,
                            "--usb", "xhci", "--vnc", "unix:" + vnc,
                            "--kernel", assets()["VMLINUZ_GENERIC"], "--initrd", initrd,
                            "--cmdline", "console=ttyS0 quiet"] + list(extra), name=name)
        return vmm, serial, vnc

    vmm, serial_path, vnc = start("xhci")
    try:
        ctl = Control(vmm.control_path)
        con = Stream(connect_unix(serial_path), "serial console")
        con.expect("ORIEL-GUEST-INIT", 300)
        # Input typed before the shell starts may be lost: wait for its
        # prompt.
        con.expect(r"/ # ", 120)
        sh = Shell(con)
        sh.run("for m in %s; do insmod /lib/modules/$(uname -r)/$m; done"
               % " ".join(XHCI_MODULES))
        drv = sh.run("for d in /sys/bus/pci/devices/*; do grep -q 0x0c0330 $d/class && "
                     "basename $(readlink $d/driver); done")
        check(drv == "xhci_hcd", "xHCI controller driven by %r" % drv)
        wait_input_device(sh, "Oriel USB Tablet")
        wait_input_device(sh, "Oriel USB Keyboard")
        mode = sh.run("for d in /sys/bus/pci/devices/*; do grep -q 0x0c0330 $d/class && "
                      "cat $d/msi_irqs/*; done")
        check(mode == "msix", "xhci_hcd interrupt mode %r, not MSI-X" % mode)
        log("xhci_hcd bound with MSI-X; tablet and keyboard found")
        check_tablet_clicks(sh, vnc)
        check_usb_key(sh, vnc, 0x61, 30, "KEY_A")
        ctl.command("stop")
        ctl.command("save", filename=state)
        ctl.command("quit")
        check(vmm.wait(60) == 0, "exit status after quit")
    finally:
        vmm.kill()

    # The restored controller goes on with the rings the guest left.
    vmm, serial_path, vnc = start("xhci-restored", ["--restore", state])
    try:
        try:
            Control(vmm.control_path)
        except Failure as e:
            raise Failure("%s; stderr:\n%s" % (e, vmm.stderr_text()))
        sh = Shell(Stream(connect_unix(serial_path), "serial console"))
        check_usb_key(sh, vnc, 0x62, 48, "KEY_B after restoring")
        sh.s.send("poweroff -f\n")
        check(vmm.wait(120) == 0, "oriel-vmm exit status")
    finally:
        vmm.kill()


def inner(vmm_bin):
    tmp = tempfile.mkdtemp(prefix="oriel-nic-usb-")
    initrd = initrd_with_modules(tmp, USB_MODULES + [PS2_MOUSE_MODULE, E1000E_MODULE],
                                 kernel="generic")
    up, down = servers()
    serial_path = os.path.join(tmp, "serial.sock")
    vmm = VMM(vmm_bin, ["--memory", "256M", "--cpus", "1", "--serial", "unix:" + serial_path,
                        "--net", "user,model=e1000",
                        "--net", "user,model=e1000e",
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
        sh.run("printf '%s' > /tmp/dhcp.sh; chmod +x /tmp/dhcp.sh" % DHCP_SCRIPT.replace("\n", "\\n"))
        nic_checks(sh, "eth0", "e1000", up, down)

        # The 82574L: eth0 steps aside (both NATs hand out 10.0.2.15), the
        # e1000e driver binds to the second NIC and runs it on MSI-X.
        sh.run("ip link set eth0 down; ip addr flush dev eth0")
        sh.run("insmod /lib/modules/$(uname -r)/%s" % E1000E_MODULE)
        check(wait_guest(sh, "test -e /sys/class/net/eth1"),
              "no eth1 from e1000e: %r" % sh.run("dmesg | grep -i e1000e | tail"))
        drv = sh.run("basename $(readlink /sys/class/net/eth1/device/driver)")
        check(drv == "e1000e", "eth1 driven by %r" % drv)
        dev_id = sh.run("cat /sys/class/net/eth1/device/device")
        check(dev_id == "0x10d3", "eth1 is PCI device %r" % dev_id)
        mac = sh.run("cat /sys/class/net/eth1/address")
        check(mac.startswith("52:54:00:"), "e1000e MAC %r (from the NVM)" % mac)
        nic_checks(sh, "eth1", "e1000e", up, down)
        # Its three vectors (eth1-rx-0, eth1-tx-0, eth1 for the rest), and
        # the transfers went through the first two.
        irqs = sh.run("grep eth1 /proc/interrupts").splitlines()
        count = {l.split()[-1]: int(l.split()[1]) for l in irqs}
        check(sorted(count) == ["eth1", "eth1-rx-0", "eth1-tx-0"] and
              "MSI" in irqs[0] and count["eth1-rx-0"] > 0 and count["eth1-tx-0"] > 0,
              "e1000e MSI-X vectors in /proc/interrupts: %r" % irqs)
        log("e1000e on MSI-X: %r" % count)

        # Before any tablet is configured the VNC pointer drives the PS/2
        # mouse: relative moves and buttons on psmouse's evdev device.
        sh.run("insmod /lib/modules/$(uname -r)/%s; insmod /lib/modules/$(uname -r)/%s"
               % (USB_MODULES[-1], PS2_MOUSE_MODULE))
        check(wait_guest(sh, "grep -q 'PS/2' /proc/bus/input/devices", 300),
              "no PS/2 mouse in the guest: %r" % sh.run("cat /proc/bus/input/devices; dmesg | tail"))
        record_evdev(sh, "PS/2", "/tmp/mev")
        events, clicks = click_until(
            sh, os.path.join(tmp, "vnc.sock"), "/tmp/mev", lambda attempt: 0.1 + attempt * 0.05,
            lambda events, click: events.count((1, 0x110, 0)) >= 2, "PS/2 mouse", 16)
        clicks_y = [c[1] for c in clicks]
        rel_x = sum(v for (t, c, v) in events if (t, c) == (2, 0))
        rel_y = sum(v for (t, c, v) in events if (t, c) == (2, 1))
        # Every click was further down than the one before; the guest saw
        # the moves from some click on to the last one, whole.
        check(rel_x == 0 and rel_y > 0 and
              any(rel_y == clicks_y[-1] - cy for cy in clicks_y[:-1]),
              "PS/2 relative moves: REL_X %d, REL_Y %d for clicks at y %r: %r"
              % (rel_x, rel_y, clicks_y, events[-16:]))
        check([v for (t, c, v) in events if (t, c) == (1, 0x110)][-2:] == [1, 0],
              "PS/2 BTN_LEFT press and release: %r" % events[-16:])
        log("PS/2 mouse: REL_Y %d for clicks at y %r, BTN_LEFT 1 then 0" % (rel_y, clicks_y))

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

        check_tablet_clicks(sh, os.path.join(tmp, "vnc.sock"))

        sh.s.send("poweroff -f\n")
        check(vmm.wait(120) == 0, "oriel-vmm exit status")
    finally:
        vmm.kill()
        up.close()
        down.close()
    xhci_phase(vmm_bin)


if __name__ == "__main__":
    main(__file__, inner)
