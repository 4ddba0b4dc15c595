#!/usr/bin/python3
"""VM state save and restore with a real guest (SAVE.md, CONTROL.md).

A guest on an ext4 root on virtio-blk, with user-mode networking, two
vCPUs and a VNC screen, runs a counter, writes a marker into tmpfs, keeps
a file open on its disk and reaches a TCP server on the test host.  The
VMM refuses to save while running, and into a directory that does not
exist (the VM goes on after cont).  Paused, it is saved with a header and
quits; the file starts with the documented header.  A new oriel-vmm with
the same options and --restore continues the same shell: the marker is
still there, the counter goes on from where it was, the open file takes
more writes that reach the image, the network works, the guest's clock
did not go back, both vCPUs run, and the VMM answers its queries.
Restoring a truncated copy, or with another vCPU count, exits with status
2 and says why; --paused stays paused until cont.

Then a guest whose drivers run the e1000 and e1000e NICs and the USB
tablet (Debian's generic kernel) is saved and restored: the network works
through the e1000 and the e1000e (on MSI-X) and the tablet enumerates
again through the restored UHCI.  Last, a
guest started with --paused (it boots only after cont) with an IDE disk,
an ISO in the IDE CD-ROM and an AHCI disk writes to both disks before and
after a restore and reads the CD after it.  (Refusing a device without
state support is covered by test-vm-state.)"""

import os
import random
import shutil
import struct
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "virtio"))
sys.path.insert(0, os.path.join(HERE, "..", "storage"))
from vmmtest import (Control, Failure, Shell, Stream, VMM, assets, check,  # noqa: E402
                     connect_unix, initrd_with_modules, kernel_args, log, main)
from test_virtio_guest import loopback_server  # noqa: E402
from test_nic_usb_guest import E1000E_MODULE, USB_MODULES, wait_guest  # noqa: E402
from test_storage_guest import by_size, make_iso, md5, random_image  # noqa: E402

HEADER = "<domain type='oriel'><name>saved \u00e9t\u00e9</name></domain>"


class Guest:
    """One oriel-vmm run of the test machine."""

    def __init__(self, vmm_bin, tmp, image, name, extra=(), cpus=2):
        self.serial = os.path.join(tmp, "serial-%s.sock" % name)
        self.args = ["--memory", "256M", "--cpus", str(cpus),
                     "--serial", "unix:" + self.serial,
                     "--disk", "path=" + image, "--net", "user",
                     "--vnc", "127.0.0.1:0"] + \
            kernel_args("root=/dev/vda rw") + list(extra)
        self.vmm = VMM(vmm_bin, self.args, name=name)

    def attach(self):
        try:
            self.ctl = Control(self.vmm.control_path)
        except Failure as e:
            raise Failure("%s; oriel-vmm exit status %s, stderr:\n%s"
                          % (e, self.vmm.proc.poll(), self.vmm.stderr_text()))
        self.con = Stream(connect_unix(self.serial), "serial console")
        self.sh = Shell(self.con)


def ints(text):
    return [int(x) for x in text.split()]


def cpu_of(sh, cpu):
    """The CPU a task pinned to cpu ran on (field 39 of /proc/self/stat)."""
    return sh.run("taskset -c %d cat /proc/self/stat | awk '{print $39}'" % cpu)


def setup_guest(sh, port):
    sh.run("ip link set eth0 up; ip addr add 10.0.2.15/24 dev eth0; "
           "ip route add default via 10.0.2.2")
    out = sh.run("echo before | nc -w 10 10.0.2.2 %d" % port, timeout=60)
    check(out == "pong:before", "network before saving: %r" % out)
    marker = "MARK-%08x" % random.getrandbits(32)
    sh.run("echo %s > /tmp/marker" % marker)
    sh.run("(i=0; while true; do i=$((i+1)); echo $i > /tmp/count; usleep 20000; done) "
           ">/dev/null 2>&1 & true")
    # A file held open on the virtio disk across save and restore.
    sh.run("exec 7>>/saved-file.log; echo line-before-save >&7; sync")
    check(cpu_of(sh, 1) == "1", "vCPU 1 does not run before saving")
    return marker


def expect_refusals(ctl, tmp):
    r = ctl.execute("save", filename=os.path.join(tmp, "running.sav"))
    check(r.get("error", {}).get("desc") == "the VM must be paused before it is saved",
          "save while running: %r" % r)
    check(not os.path.exists(os.path.join(tmp, "running.sav")), "a file after a refused save")
    ctl.command("stop")
    for bad in (os.path.join(tmp, "no-such-dir", "x.sav"), "/proc/x.sav"):
        r = ctl.execute("save", filename=bad)
        desc = r.get("error", {}).get("desc", "")
        check(desc.startswith("cannot write %s: " % bad), "save to %s: %r" % (bad, r))
        log("refused as expected: %s" % desc)
    check(ctl.command("query-status")["status"] == "paused", "not paused after a failed save")
    ctl.command("cont")


def restore_failures(vmm_bin, tmp, image, state):
    cut = os.path.join(tmp, "truncated.sav")
    with open(state, "rb") as f, open(cut, "wb") as g:
        g.write(f.read(os.path.getsize(state) // 2))
    cases = [("truncated", [], "truncated", 2),
             ("cpus", [], "saved VM has 2 vCPUs, this one 1", 1)]
    for name, extra, message, cpus in cases:
        path = cut if name == "truncated" else state
        g = Guest(vmm_bin, tmp, image, "bad-" + name, ["--restore", path] + extra, cpus=cpus)
        try:
            rc = g.vmm.wait(120)
        finally:
            g.vmm.kill()
        err = g.vmm.stderr_text()
        check(rc == 2, "restore (%s): exit status %s, stderr %r" % (name, rc, err))
        check(message in err, "restore (%s): stderr %r" % (name, err))
        log("restore refused (%s): %s" % (name, err.strip()))


def check_restored(g, marker, count_before, uptime_before, port):
    sh = g.sh
    check(sh.run("cat /tmp/marker") == marker, "the tmpfs marker is gone")
    check(sh.run("echo typed-after-restore") == "typed-after-restore", "no shell")
    c1 = int(sh.run("cat /tmp/count"))
    time.sleep(1)
    c2 = int(sh.run("cat /tmp/count"))
    log("counter: %d before saving, %d and %d after restoring" % (count_before, c1, c2))
    check(count_before <= c1 < count_before + 2000, "the counter did not go on: %d" % c1)
    check(c2 > c1, "the counter stopped")
    up = float(sh.run("cut -d' ' -f1 /proc/uptime"))
    check(up >= uptime_before, "uptime went back: %s -> %s" % (uptime_before, up))
    sh.run("echo line-after-restore >&7; sync")
    out = sh.run("echo after | nc -w 10 10.0.2.2 %d" % port, timeout=60)
    check(out == "pong:after", "network after restoring: %r" % out)
    check(cpu_of(sh, 0) == "0" and cpu_of(sh, 1) == "1", "both vCPUs do not run")
    st = g.ctl.command("query-status")
    check(st == {"status": "running", "running": True}, "query-status %r" % st)
    vnc = g.ctl.command("query-vnc")
    check(vnc.get("enabled") is True, "query-vnc %r" % vnc)
    chr_ = g.ctl.command("query-chardev")
    check(chr_ and chr_[0]["label"] == "serial0", "query-chardev %r" % chr_)


def scenario(vmm_bin):
    tmp = tempfile.mkdtemp(prefix="oriel-save-")
    image = os.path.join(tmp, "root.img")
    shutil.copyfile(assets()["ROOTFS_EXT4"], image)
    srv = loopback_server()
    port = srv.getsockname()[1]
    state = os.path.join(tmp, "vm.sav")

    g = Guest(vmm_bin, tmp, image, "first")
    try:
        g.attach()
        g.con.expect("ORIEL-ROOTFS-INIT", 600)
        marker = setup_guest(g.sh, port)
        expect_refusals(g.ctl, tmp)
        uptime_before = float(g.sh.run("cut -d' ' -f1 /proc/uptime"))
        count_before = int(g.sh.run("cat /tmp/count"))
        # Something on the VGA text screen, for comparing screens.
        g.sh.run("echo SCREEN-%s > /dev/tty0" % marker)
        g.ctl.command("stop")
        g.ctl.command("screendump", filename=os.path.join(tmp, "before.png"))
        g.ctl.command("save", filename=state, header=HEADER)
        check(g.ctl.command("query-status")["status"] == "paused", "not paused after saving")
        g.ctl.command("quit")
        check(g.vmm.wait(60) == 0, "first VMM exit status")
    finally:
        g.vmm.kill()

    data = open(state, "rb").read()
    hb = HEADER.encode()
    check(data[:16 + len(hb)] == b"ORIELSAV" + struct.pack("<II", 1, len(hb)) + hb,
          "file header %r" % data[:64])
    log("saved %d bytes" % len(data))

    restore_failures(vmm_bin, tmp, image, state)

    # Restored, paused first: nothing runs until cont.
    r = Guest(vmm_bin, tmp, image, "restored", ["--restore", state, "--paused"])
    try:
        r.attach()
        check(r.ctl.command("query-status") == {"status": "paused", "running": False},
              "--paused: not paused")
        # The screen comes back as it was (VGA registers and VRAM).
        r.ctl.command("screendump", filename=os.path.join(tmp, "after.png"))
        with open(os.path.join(tmp, "before.png"), "rb") as a, \
                open(os.path.join(tmp, "after.png"), "rb") as b:
            check(a.read() == b.read(), "the screen after restoring differs from the saved one")
        r.con.send("echo PAUSED$((40+2))\n")
        try:
            r.con.expect("PAUSED42", 2)
            raise Failure("the guest ran while paused after restoring")
        except Failure as e:
            if "while paused" in str(e):
                raise
        r.ctl.command("cont")
        r.con.expect("PAUSED42", 60)
        check_restored(r, marker, count_before, uptime_before, port)
        r.con.send("poweroff -f\n")
        check(r.vmm.wait(120) == 0, "restored VMM exit status")
    finally:
        r.vmm.kill()
    img = open(image, "rb").read()
    check(b"line-before-save" in img and b"line-after-restore" in img,
          "the writes through the open file are not in the image")


def save_and_quit(vmm, ctl, state):
    ctl.command("stop")
    ctl.command("save", filename=state)
    ctl.command("quit")
    check(vmm.wait(60) == 0, "exit status after quit")


def attach_restored(vmm, serial):
    """The serial console of a VMM started with --restore, once it is up."""
    try:
        Control(vmm.control_path)
    except Failure as e:
        raise Failure("%s; stderr:\n%s" % (e, vmm.stderr_text()))
    return Stream(connect_unix(serial), "serial console")


def use_nic(sh, old, new):
    """Move 10.0.2.15 and the default route from interface OLD to NEW;
    both stay up, so a restored NIC is used as the save left it."""
    sh.run("ip addr flush dev %s; ip link set %s up; "
           "ip addr add 10.0.2.15/24 dev %s; ip route add default via 10.0.2.2"
           % (old, new, new))
    check(wait_guest(sh, "grep -q 1 /sys/class/net/%s/carrier" % new), "no link on %s" % new)


def scenario_e1000_usb(vmm_bin):
    """The e1000 and e1000e NICs and a USB tablet the guest's drivers run,
    with Debian's generic kernel: all work after a restore (the tablet is
    enumerated again through the restored controller).  Both NATs hand out
    the same addresses, so one NIC at a time carries 10.0.2.15."""
    tmp = tempfile.mkdtemp(prefix="oriel-save-nic-")
    initrd = initrd_with_modules(tmp, USB_MODULES + [E1000E_MODULE], kernel="generic")
    srv = loopback_server()
    port = srv.getsockname()[1]
    state = os.path.join(tmp, "nic.sav")

    def start(name, extra=()):
        serial = os.path.join(tmp, "serial-%s.sock" % name)
        vmm = VMM(vmm_bin, ["--memory", "256M", "--cpus", "1", "--serial", "unix:" + serial,
                            "--net", "user,model=e1000",
                            "--net", "user,model=e1000e",
                            "--vnc", "unix:" + os.path.join(tmp, "vnc-%s.sock" % name),
                            "--kernel", assets()["VMLINUZ_GENERIC"], "--initrd", initrd,
                            "--cmdline", "console=ttyS0 quiet"] + list(extra), name=name)
        return vmm, serial

    vmm, serial = start("nic")
    try:
        ctl = Control(vmm.control_path)
        con = Stream(connect_unix(serial), "serial console")
        con.expect("ORIEL-GUEST-INIT", 600)
        sh = Shell(con)
        check(wait_guest(sh, "test -e /sys/class/net/eth0"), "no eth0")
        drv = sh.run("basename $(readlink /sys/class/net/eth0/device/driver)")
        check(drv == "e1000", "eth0 driven by %r" % drv)
        sh.run("ip link set eth0 up; ip addr add 10.0.2.15/24 dev eth0; "
               "ip route add default via 10.0.2.2")
        sh.run("for m in %s; do insmod /lib/modules/$(uname -r)/$m; done" % " ".join(USB_MODULES))
        check(wait_guest(sh, "grep -q 'Oriel USB Tablet' /proc/bus/input/devices", 300),
              "the USB tablet is not there: %s" % sh.run("dmesg | grep -i -E 'usb|hid' | tail"))
        usbdev = sh.run("ls /sys/bus/usb/devices/ | grep -v -e : -e usb")
        check(usbdev and " " not in usbdev and "\n" not in usbdev, "USB devices %r" % usbdev)
        out = sh.run("echo before | nc -w 10 10.0.2.2 %d" % port, timeout=60)
        check(out == "pong:before", "e1000 before saving: %r" % out)
        sh.run("insmod /lib/modules/$(uname -r)/%s" % E1000E_MODULE)
        check(wait_guest(sh, "test -e /sys/class/net/eth1"), "no eth1 from e1000e")
        use_nic(sh, "eth0", "eth1")
        out = sh.run("echo before-e | nc -w 10 10.0.2.2 %d" % port, timeout=60)
        check(out == "pong:before-e", "e1000e before saving: %r" % out)
        save_and_quit(vmm, ctl, state)
    finally:
        vmm.kill()

    vmm, serial = start("nic-restored", ["--restore", state])
    try:
        con = attach_restored(vmm, serial)
        sh = Shell(con)
        out = sh.run("echo after-e | nc -w 10 10.0.2.2 %d" % port, timeout=60)
        check(out == "pong:after-e", "e1000e after restoring: %r" % out)
        use_nic(sh, "eth1", "eth0")
        out = sh.run("echo after | nc -w 10 10.0.2.2 %d" % port, timeout=60)
        check(out == "pong:after", "e1000 after restoring: %r" % out)
        # Enumerate the tablet again: control transfers through the
        # restored UHCI schedule, up to the new interface.
        dev = "/sys/bus/usb/devices/" + usbdev
        sh.run("echo 0 > %s/authorized" % dev)
        check(wait_guest(sh, "test ! -e %s:1.0" % dev), "tablet still configured")
        sh.run("echo 1 > %s/authorized" % dev)
        check(wait_guest(sh, "test -e %s:1.0" % dev, 300),
              "the tablet did not come back through the restored controller: %s"
              % sh.run("dmesg | tail -5"))
        log("e1000, e1000e and the USB tablet work after restoring")
        con.send("poweroff -f\n")
        check(vmm.wait(120) == 0, "exit status after poweroff")
    finally:
        vmm.kill()


def expect_paused_boot(ctl, con):
    """--paused without --restore: nothing boots until cont."""
    check(ctl.command("query-status")["status"] == "paused", "--paused: not paused")
    try:
        con.expect("ORIEL-GUEST-INIT", 2)
        raise Failure("the guest booted while paused")
    except Failure as e:
        if "while paused" in str(e):
            raise
    ctl.command("cont")


def scenario_storage(vmm_bin):
    """An IDE disk, the ISO in the IDE CD-ROM and an AHCI disk (Debian's
    generic kernel, ata_piix and ahci), the VM started with --paused: reads
    and writes go on after a restore, with the data the guest wrote before
    and after in the images."""
    tmp = tempfile.mkdtemp(prefix="oriel-save-ide-")
    disk = os.path.join(tmp, "ide.img")
    sata = os.path.join(tmp, "ahci.img")
    random_image(disk, 8 << 20)
    random_image(sata, 16 << 20)
    iso = make_iso(tmp)[0]
    iso_sum = md5(iso)
    state = os.path.join(tmp, "ide.sav")

    def start(name, extra=()):
        serial = os.path.join(tmp, "serial-%s.sock" % name)
        vmm = VMM(vmm_bin, ["--memory", "256M", "--cpus", "1", "--serial", "unix:" + serial,
                            "--disk", "path=%s,if=ide" % disk, "--cdrom", iso,
                            "--disk", "path=%s,if=ahci" % sata,
                            "--kernel", assets()["VMLINUZ_GENERIC"],
                            "--initrd", assets()["INITRAMFS_BUSYBOX"],
                            "--cmdline", "console=ttyS0 quiet"] + list(extra), name=name)
        return vmm, serial

    vmm, serial = start("ide", ["--paused"])
    try:
        ctl = Control(vmm.control_path)
        con = Stream(connect_unix(serial), "serial console")
        expect_paused_boot(ctl, con)
        con.expect("ORIEL-GUEST-INIT", 600)
        sh = Shell(con)
        sh.run("dmesg -n 1")
        check(wait_guest(sh, "test $(ls /sys/block | grep -c -E '^(sd|sr)') = 3", 300),
              "IDE disk, CD-ROM and AHCI disk did not appear")
        dev = by_size(sh, (8 << 20) // 512)
        dev_sata = by_size(sh, (16 << 20) // 512)
        for d in (dev, dev_sata):
            sh.run("echo disk-before-save | dd of=/dev/%s bs=512 seek=100 conv=fsync 2>/dev/null"
                   % d)
        save_and_quit(vmm, ctl, state)
    finally:
        vmm.kill()

    vmm, serial = start("ide-restored", ["--restore", state])
    try:
        sh = Shell(attach_restored(vmm, serial))
        for d in (dev, dev_sata):
            sh.run("echo disk-after-restore | dd of=/dev/%s bs=512 seek=200 conv=fsync 2>/dev/null"
                   % d)
        got = sh.run("echo 3 > /proc/sys/vm/drop_caches; md5sum /dev/sr0 | cut -d' ' -f1",
                     timeout=120)
        check(got == iso_sum, "the CD-ROM reads %s after restoring, the ISO is %s" % (got, iso_sum))
        for d in (dev, dev_sata):
            got = sh.run("dd if=/dev/%s bs=512 skip=100 count=1 iflag=direct 2>/dev/null | "
                         "head -c 16" % d)
            check(got == "disk-before-save", "%s reads %r after restoring" % (d, got))
        log("IDE disk, CD-ROM and AHCI disk work after restoring")
        sh.s.send("poweroff -f\n")
        check(vmm.wait(120) == 0, "exit status after poweroff")
    finally:
        vmm.kill()
    for path in (disk, sata):
        with open(path, "rb") as f:
            img = f.read()
        check(img[100 * 512:100 * 512 + 16] == b"disk-before-save" and
              img[200 * 512:200 * 512 + 18] == b"disk-after-restore",
              "%s lacks the writes from before and after the restore" % path)


def inner(vmm_bin):
    scenario(vmm_bin)
    scenario_e1000_usb(vmm_bin)
    scenario_storage(vmm_bin)


if __name__ == "__main__":
    main(__file__, inner)
