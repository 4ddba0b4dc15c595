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
2 and says why; --paused stays paused until cont."""

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
from vmmtest import (Control, Failure, Shell, Stream, VMM, assets, check,  # noqa: E402
                     connect_unix, kernel_args, log, main)
from test_virtio_guest import loopback_server  # noqa: E402

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
        g.ctl.command("stop")
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
        r.con.send("echo PAUSED$((40+2))\n")
        try:
            r.con.expect("PAUSED42", 2)
            raise Failure("the guest ran while paused after restoring")
        except Failure as e:
            if "ran while paused" in str(e):
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


def inner(vmm_bin):
    scenario(vmm_bin)


if __name__ == "__main__":
    main(__file__, inner)
