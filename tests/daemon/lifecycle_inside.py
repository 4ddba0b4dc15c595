#!/usr/bin/python3
"""Guest lifecycle through virtorield with real oriel-vmm processes.  Runs
inside the test host (test_lifecycle.py starts it there), where /dev/kvm
really runs guests."""

import json
import os
import socket
import struct
import pty
import re
import select
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testhost"))
from daemon_fixture import Daemon, demo_xml, virsh, wait_until  # noqa: E402
import testhost  # noqa: E402

import libvirt  # noqa: E402

ASSETS = testhost.read_manifest()
KERNEL = ASSETS["VMLINUZ_CLOUD"]
INITRD = ASSETS["INITRAMFS_BUSYBOX"]
# Nested guests under an emulated CPU boot slowly on a loaded machine.
BOOT_TIMEOUT = 300

E = libvirt


def guest_xml(name, cmdline="console=ttyS0 panic=-1", memory=128):
    return demo_xml(name=name, memory=memory, kernel=KERNEL, initrd=INITRD, cmdline=cmdline).replace(
        "<interface type='network'><source network='default'/><model type='virtio'/></interface>", "")


class EventLog:
    """python-libvirt's event loop in a thread, lifecycle events recorded."""

    def __init__(self, uri):
        libvirt.virEventRegisterDefaultImpl()
        self.stop = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        self.conn = libvirt.open(uri)
        self.events = []
        self.cond = threading.Condition()
        self.cid = self.conn.domainEventRegisterAny(None, E.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._cb, None)

    def _loop(self):
        while not self.stop:
            libvirt.virEventRunDefaultImpl()

    def _cb(self, conn, dom, event, detail, opaque):
        with self.cond:
            self.events.append((dom.name(), event, detail))
            self.cond.notify_all()

    def of(self, name):
        with self.cond:
            return [(e, d) for n, e, d in self.events if n == name]

    def wait_for(self, name, event, detail, timeout=60):
        with self.cond:
            ok = self.cond.wait_for(lambda: (event, detail) in [(e, d) for n, e, d in self.events if n == name],
                                    timeout=timeout)
        if not ok:
            raise AssertionError("no event %r for %s; got %r" % ((event, detail), name, self.of(name)))

    def close(self):
        try:
            self.conn.domainEventDeregisterAny(self.cid)
            self.conn.close()
        except libvirt.libvirtError:
            pass
        self.stop = True


class Console:
    """`virsh console` driven through a pseudo terminal."""

    def __init__(self, uri, name):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvp("virsh", ["virsh", "-c", uri, "console", "--force", name])
        self.buf = b""

    def expect(self, pattern, timeout=BOOT_TIMEOUT):
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        deadline = time.monotonic() + timeout
        while not rx.search(self.buf):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("console: %r not seen; got %r" % (pattern, self.buf[-2000:]))
            r, _, _ = select.select([self.fd], [], [], min(left, 0.5))
            if r:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    raise AssertionError("console closed; got %r" % self.buf[-2000:])
                self.buf += data
                # Answer the shell's cursor position query as a terminal would.
                if b"\x1b[6n" in data:
                    self.send("\x1b[24;1R")
        return rx.search(self.buf)

    def send(self, text):
        os.write(self.fd, text.encode())

    def wait_for_prompt(self):
        """Wait for the booted guest's shell, typing nothing before it:
        input sent while the guest's UART driver is not up yet may fill the
        VMM's receive FIFO before anyone reads it."""
        self.expect(r"/ # ", timeout=BOOT_TIMEOUT)

    def shell_roundtrip(self, token):
        # The answer must come from the guest: the shell computes 6*n.
        deadline = time.monotonic() + 60
        n = 0
        while True:
            n += 1
            self.send("echo %s$((6*%d))\r" % (token, n))
            try:
                self.expect("%s%d" % (token, 6 * n), timeout=10)
                return
            except AssertionError:
                if time.monotonic() > deadline:
                    raise

    def ask(self, command, answer, timeout=60):
        """Run command in the guest's shell and wait for answer.  The shell
        of a restored guest prints no new prompt to wait for, and virsh
        drops what is typed before it has put the terminal in raw mode: so
        type again until the answer comes."""
        self.expect("Escape character", timeout=timeout)
        deadline = time.monotonic() + timeout
        while True:
            self.send(command + "\r")
            try:
                self.expect(answer, timeout=5)
                return
            except AssertionError:
                if time.monotonic() > deadline:
                    raise

    def detach(self):
        self.send("\x1d")  # Ctrl+]: graceful stream finish
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return status

    def wait_exit(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return status
            try:
                r, _, _ = select.select([self.fd], [], [], 0.2)
                if r:
                    self.buf += os.read(self.fd, 65536)
            except OSError:
                pass
        raise AssertionError("virsh console did not exit")


def vmm_pid(daemon, name):
    conn = libvirt.open(daemon.uri)
    uuid = conn.lookupByName(name).UUIDString()
    conn.close()
    with open(os.path.join(daemon.state_dir, uuid, "pid")) as f:
        return int(f.read())


def vmm_query(daemon, name, command):
    """One command on the VMM's own control socket, next to the daemon's."""
    conn = libvirt.open(daemon.uri)
    uuid = conn.lookupByName(name).UUIDString()
    conn.close()
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(30)
        s.connect(os.path.join(daemon.state_dir, uuid, "ctl"))
        f = s.makefile("rw")
        f.readline()  # greeting
        f.write(json.dumps({"execute": command, "id": "q"}) + "\n")
        f.flush()
        while True:
            msg = json.loads(f.readline())
            if msg.get("id") == "q":
                return msg["return"]


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open("/proc/%d/stat" % pid) as f:
        return f.read().split(") ")[1][0] != "Z"


class Lifecycle(unittest.TestCase):
    def setUp(self):
        self.daemon = Daemon().start()
        self.uri = self.daemon.uri
        self.events = EventLog(self.uri)

    def tearDown(self):
        self.events.close()
        conn = libvirt.open(self.uri)
        pids = []
        for d in conn.listAllDomains():
            if d.isActive():
                try:
                    pids.append(vmm_pid(self.daemon, d.name()))
                    d.destroy()
                except (libvirt.libvirtError, OSError):
                    pass
        conn.close()
        alive_daemon = self.daemon.alive()
        log = self.daemon.read_log()
        self.daemon.cleanup()
        for p in pids:
            wait_until(lambda: not alive(p), 20, "VMM %d to exit" % p)
        self.assertTrue(alive_daemon, log)

    def define(self, name, **kw):
        conn = libvirt.open(self.uri)
        conn.defineXML(guest_xml(name, **kw))
        conn.close()

    def check_everyday_commands(self, name, iso_a, iso_b):
        """The everyday virsh commands against the running guest: vcpuinfo
        from the VMM's vCPU threads, dommemstat, domblkerror, domjobinfo,
        desc --live, setmem --config, and
        change-media ejecting and inserting through the VMM."""
        pid = vmm_pid(self.daemon, name)
        out = virsh(self.uri, "vcpuinfo", name).stdout
        self.assertRegex(out, r"VCPU:\s+0\nCPU:\s+\d+\nState:\s+running\nCPU time:\s+[\d.]+s")
        tids = [c["thread-id"] for c in vmm_query(self.daemon, name, "query-cpus")]
        self.assertTrue(all(os.path.exists("/proc/%d/task/%d" % (pid, t)) for t in tids), tids)
        self.assertEqual(len(libvirt.open(self.uri).lookupByName(name).vcpus()[0]), len(tids))

        stats = dict(l.split() for l in virsh(self.uri, "dommemstat", name).stdout.splitlines() if l.strip())
        self.assertEqual(int(stats["actual"]), 128 * 1024)
        self.assertGreater(int(stats["rss"]), 1024)
        loud = subprocess.run(["virsh", "-c", self.uri, "domblkerror", name], capture_output=True, text=True)
        self.assertEqual(loud.returncode, 0, loud.stderr)
        self.assertIn("No errors found", loud.stdout)
        self.assertRegex(virsh(self.uri, "domjobinfo", name).stdout, r"Job type:\s+None")

        virsh(self.uri, "desc", name, "--live", "--title", "--new-desc", "Live title")
        self.assertIn("<title>Live title</title>", virsh(self.uri, "dumpxml", name).stdout)
        self.assertNotIn("Live title", virsh(self.uri, "dumpxml", "--inactive", name).stdout)

        virsh(self.uri, "setmem", name, "64M", "--config")
        self.assertIn("<currentMemory unit='KiB'>65536</currentMemory>",
                      virsh(self.uri, "dumpxml", "--inactive", name).stdout)
        self.assertIn("<currentMemory unit='KiB'>131072</currentMemory>", virsh(self.uri, "dumpxml", name).stdout)
        virsh(self.uri, "setmem", name, "128M", "--config")

        def cdrom():
            return [b for b in vmm_query(self.daemon, name, "query-block") if b["device"] == "cdrom"][0]
        self.assertEqual(cdrom().get("file"), iso_a)
        self.assertEqual(int(virsh(self.uri, "domblkinfo", name, "hdc").stdout.split()[1]), 1 << 20)
        virsh(self.uri, "change-media", name, "hdc", "--eject")
        self.assertNotIn("file", cdrom())
        self.assertNotIn(iso_a, virsh(self.uri, "dumpxml", name).stdout)
        self.assertIn(iso_a, virsh(self.uri, "dumpxml", "--inactive", name).stdout)
        virsh(self.uri, "change-media", name, "hdc", iso_b, "--insert")
        self.assertEqual(cdrom().get("file"), iso_b)
        self.assertIn("<source file='%s'/>" % iso_b, virsh(self.uri, "dumpxml", name).stdout)
        virsh(self.uri, "change-media", name, "hdc", iso_a, "--update", "--live", "--config")
        self.assertEqual(cdrom().get("file"), iso_a)
        self.assertIn("<source file='%s'/>" % iso_a, virsh(self.uri, "dumpxml", name).stdout)
        self.assertIn("<source file='%s'/>" % iso_a, virsh(self.uri, "dumpxml", "--inactive", name).stdout)
        r = virsh(self.uri, "change-media", name, "hdc", "/nonexistent.iso", "--insert", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(cdrom().get("file"), iso_a)

    def check_live_commands(self, name, con, disk):
        """What the running VMM answers, checked against what the guest
        does and sees: domblkstat counts the guest's reads, writes and
        flushes of vda; send-key types on its PS/2 keyboard (the evdev
        events read in the guest, in order); blockresize grows vda and the
        guest's virtio-blk driver sees the new size; refusals for shrinking,
        a CD-ROM, unknown disks and codesets, and a screenshot without
        graphics."""
        def blkstat(dev):
            out = virsh(self.uri, "domblkstat", name, dev).stdout
            return {f[1]: int(f[2]) for f in (l.split() for l in out.splitlines()) if len(f) == 3}
        before = blkstat("vda")
        con.send("dd if=/dev/vda of=/dev/null bs=4096 count=8 skip=256 && "
                 "dd if=/dev/zero of=/dev/vda bs=4096 count=4 seek=512 conv=fsync && echo DD$((6*7))\r")
        con.expect("DD42")
        after = blkstat("vda")
        self.assertGreaterEqual(after["rd_bytes"] - before["rd_bytes"], 8 * 4096, after)
        self.assertGreater(after["rd_req"], before["rd_req"])
        self.assertGreaterEqual(after["wr_bytes"] - before["wr_bytes"], 4 * 4096, after)
        self.assertGreater(after["wr_req"], before["wr_req"])
        self.assertGreater(after["flush_operations"], before.get("flush_operations", 0))
        self.assertGreater(after["rd_total_times"], 0)
        self.assertEqual(after["errs"], 0)
        # virt-manager's call (the older procedure) and the sum of all disks.
        dom = libvirt.open(self.uri).lookupByName(name)
        rd_req, rd_bytes, wr_req, wr_bytes, errs = dom.blockStats("vda")
        self.assertGreaterEqual(rd_bytes, after["rd_bytes"])
        self.assertGreaterEqual(wr_bytes, after["wr_bytes"])
        self.assertGreaterEqual(dom.blockStats("")[1], rd_bytes)
        self.assertGreaterEqual(blkstat("hdc")["rd_req"], 0)
        r = virsh(self.uri, "domblkstat", name, "vdz", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("invalid path", r.stderr)

        # Keys: Shift+X held together, then x alone from the USB code set.
        # The keyboard's evdev events one at a time (input_event: type in
        # the 9th 16-bit word, code in the 10th, value in the 11th), until
        # six key events have come.
        con.send("D=$(grep -l 'AT Translated' /sys/class/input/event*/device/name | cut -d/ -f5); "
                 "exec 3</dev/input/$D; echo OPENED$((6*7)); n=0; s=; while [ $n -lt 6 ]; do "
                 "set -- $(dd bs=24 count=1 <&3 2>/dev/null | od -An -tu2 -w24); "
                 "if [ \"$9\" = 1 ]; then s=\"$s K${10}-${11}\"; n=$((n+1)); fi; done; echo \"KEYS$s-END\"; set --\r")
        con.expect("OPENED42")
        virsh(self.uri, "send-key", name, "--holdtime", "50", "KEY_LEFTSHIFT", "KEY_X")
        virsh(self.uri, "send-key", name, "--codeset", "usb", "--holdtime", "50", "0x1b")
        keys = con.expect(r"KEYS( K\d+-\d)+-END").group(0)
        self.assertEqual(keys, b"KEYS K42-1 K45-1 K45-0 K42-0 K45-1 K45-0-END")
        for args, message in ((("KEY_XYZZY",), "invalid keycode"),
                              (("--codeset", "atset2", "0x1c"), "not supported")):
            r = virsh(self.uri, "send-key", name, *args, check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(message, r.stderr)

        # Growing vda: the file, and the guest's driver, see 8 MiB.
        virsh(self.uri, "blockresize", name, "vda", "8M")
        self.assertEqual(os.path.getsize(disk), 8 << 20)
        con.ask("echo SZ$(cat /sys/block/vda/size)", "SZ16384")
        for dev, size, message in (("vda", "4M", "cannot shrink"), ("hdc", "8M", "read-only"),
                                   ("vdz", "8M", "invalid path")):
            r = virsh(self.uri, "blockresize", name, dev, size, check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(message, r.stderr)
        self.assertEqual(os.path.getsize(disk), 8 << 20)

        r = virsh(self.uri, "screenshot", name, os.path.join(self.daemon.root, "none.png"), check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no graphics", r.stderr)
        self.check_balloon(name, con)

    def check_balloon(self, name, con):
        """The default virtio balloon: setmem --live shrinks what the guest
        has (its MemTotal) and the VMM's resident set, and gives it back;
        dommemstat --period gets the guest's own statistics."""
        self.assertIn("<memballoon model='virtio'/>", virsh(self.uri, "dumpxml", name).stdout)

        def memstat():
            out = virsh(self.uri, "dommemstat", name).stdout
            return dict((k, int(v)) for k, v in (l.split() for l in out.splitlines() if l.strip()))

        def mem_total():
            m = con.expect(r"MemTotal:\s+(\d+) kB")
            con.buf = con.buf[m.end():]
            return int(m.group(1))

        con.send("grep MemTotal /proc/meminfo\r")
        total = mem_total()
        # Pages the guest touched and freed again, for the balloon to take.
        con.send("dd if=/dev/zero of=/dev/shm/fill bs=1M count=40 2>/dev/null; rm /dev/shm/fill; "
                 "echo FILLED$((6*7))\r")
        con.expect("FILLED42")
        rss = memstat()["rss"]
        virsh(self.uri, "setmem", name, "96M", "--live")
        wait_until(lambda: memstat()["actual"] == 96 * 1024, 120, "the balloon to inflate to 32 MiB")
        self.assertIn("<currentMemory unit='KiB'>98304</currentMemory>", virsh(self.uri, "dumpxml", name).stdout)
        con.send("grep MemTotal /proc/meminfo\r")
        shrunk = mem_total()
        self.assertLessEqual(shrunk, total - 30 * 1024, (total, shrunk))
        self.assertLess(memstat()["rss"], rss - 8 * 1024, (rss, memstat()))

        r = virsh(self.uri, "setmem", name, "256M", "--live", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("higher than max memory", r.stderr)

        virsh(self.uri, "dommemstat", name, "--period", "1", "--live")
        wait_until(lambda: "unused" in memstat() and "last_update" in memstat(), 60,
                   "the guest's balloon statistics")
        st = memstat()
        self.assertLessEqual(st["available"], 96 * 1024)
        self.assertGreater(st["unused"], 0)
        self.assertLess(st["unused"], st["available"])
        first = st["last_update"]
        wait_until(lambda: memstat()["last_update"] > first, 30, "fresher balloon statistics")

        virsh(self.uri, "setmem", name, "128M", "--live")
        wait_until(lambda: memstat()["actual"] == 128 * 1024, 120, "the balloon to deflate")
        con.send("grep MemTotal /proc/meminfo\r")
        self.assertEqual(mem_total(), total)
        virsh(self.uri, "dommemstat", name, "--period", "0", "--live")

    def test_full_lifecycle_console_and_events(self):
        isos = []
        for tag in "ab":
            isos.append(os.path.join(self.daemon.root, "media-%s.iso" % tag))
            with open(isos[-1], "wb") as f:
                f.write(tag.encode() * (1 << 20))
        disk = os.path.join(self.daemon.root, "life-vda.img")
        with open(disk, "wb") as f:
            f.truncate(4 << 20)
        conn = libvirt.open(self.uri)
        conn.defineXML(guest_xml("life").replace(
            "</devices>", "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='%s'/>"
            "<target dev='vda' bus='virtio'/></disk>"
            "<disk type='file' device='cdrom'><source file='%s'/>"
            "<target dev='hdc' bus='ide'/></disk></devices>" % (disk, isos[0])))
        conn.close()
        virsh(self.uri, "start", "life")
        self.events.wait_for("life", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED)
        out = virsh(self.uri, "list").stdout
        self.assertRegex(out, r"\d+\s+life\s+running")
        xml = virsh(self.uri, "dumpxml", "life").stdout
        self.assertRegex(xml, r"<domain type='kvm' id='\d+'>")
        self.assertRegex(xml, r"<source path='/dev/pts/\d+'/>")
        self.assertIn("running", virsh(self.uri, "domstate", "life").stdout)

        con = Console(self.uri, "life")
        con.wait_for_prompt()
        con.shell_roundtrip("OK")
        self.check_live_commands("life", con, disk)
        self.assertEqual(con.detach(), 0)
        self.check_everyday_commands("life", *isos)

        virsh(self.uri, "suspend", "life")
        self.assertEqual(virsh(self.uri, "domstate", "--reason", "life").stdout.strip(), "paused (user)")
        virsh(self.uri, "resume", "life")
        self.assertEqual(virsh(self.uri, "domstate", "life").stdout.strip(), "running")
        virsh(self.uri, "reset", "life")
        virsh(self.uri, "destroy", "life")
        self.assertEqual(virsh(self.uri, "domstate", "--reason", "life").stdout.strip(), "shut off (destroyed)")

        virsh(self.uri, "start", "life")
        con = Console(self.uri, "life")
        con.wait_for_prompt()
        con.shell_roundtrip("AGAIN")
        virsh(self.uri, "shutdown", "life")  # ACPI button; busybox ignores it
        con.send("poweroff -f\r")
        self.events.wait_for("life", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)
        con.wait_exit()  # the stream ends when the guest's serial port goes away
        self.assertEqual(virsh(self.uri, "domstate", "--reason", "life").stdout.strip(), "shut off (shutdown)")

        self.assertEqual(self.events.of("life"), [
            (E.VIR_DOMAIN_EVENT_DEFINED, E.VIR_DOMAIN_EVENT_DEFINED_ADDED),
            (E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED),
            (E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
            (E.VIR_DOMAIN_EVENT_RESUMED, E.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED),
            (E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_DESTROYED),
            (E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED),
            (E.VIR_DOMAIN_EVENT_SHUTDOWN, E.VIR_DOMAIN_EVENT_SHUTDOWN_FINISHED),
            (E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN),
        ])
        virsh(self.uri, "undefine", "life")

    def test_tpm(self):
        """<tpm model='tpm-crb'> with the emulator backend: the daemon runs
        swtpm with the domain's own state directory, the guest finds a TPM
        2.0, swtpm ends with the VM, and undefine removes the state unless
        --keep-tpm."""
        xml = guest_xml("tpm").replace(
            "</devices>", "<tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm></devices>")
        conn = libvirt.open(self.uri)
        dom = conn.defineXML(xml)
        uuid = dom.UUIDString()
        conn.close()
        self.assertIn("<backend type='emulator' version='2.0'/>", virsh(self.uri, "dumpxml", "tpm").stdout)
        state = os.path.join(self.daemon.tpm_dir, uuid, "tpm2")
        virsh(self.uri, "start", "tpm")
        self.assertTrue(os.path.isdir(state), "no TPM state directory")
        con = Console(self.uri, "tpm")
        con.wait_for_prompt()
        con.send("echo TPM$(cat /sys/class/tpm/tpm0/tpm_version_major)-$(ls /dev/tpmrm0)\r")
        con.expect(r"TPM2-/dev/tpmrm0")
        self.assertEqual(con.detach(), 0)
        swtpm = subprocess.run(["pgrep", "-f", "swtpm socket.*" + state], capture_output=True, text=True)
        self.assertEqual(swtpm.returncode, 0, "no swtpm for the domain")
        virsh(self.uri, "destroy", "tpm")
        wait_until(lambda: subprocess.run(["pgrep", "-f", "swtpm socket.*" + state]).returncode != 0,
                   20, "swtpm to end with the VM")
        # Its state stays between runs and goes with undefine.
        self.assertTrue(os.listdir(state), "TPM state empty after a run")
        r = virsh(self.uri, "undefine", "--tpm", "--keep-tpm", "tpm", check=False)
        self.assertNotEqual(r.returncode, 0)
        saved_xml = virsh(self.uri, "dumpxml", "tpm").stdout
        virsh(self.uri, "undefine", "--keep-tpm", "tpm")
        self.assertTrue(os.path.isdir(state), "--keep-tpm removed the state")
        # Defined again with the same uuid, it finds its TPM again.
        conn = libvirt.open(self.uri)
        conn.defineXML(saved_xml)
        conn.close()
        virsh(self.uri, "undefine", "--tpm", "tpm")
        self.assertFalse(os.path.exists(state), "TPM state left after undefine --tpm")

    def test_save_restore_and_managed_save(self):
        """virsh save stops the VM with its whole state in a file and
        virsh restore continues that same guest: a shell variable set before
        the save is still set after.  managedsave + start does the same with
        the daemon's own image, which is then gone.  Bad images and bad
        requests are refused with libvirt errors."""
        self.define("keep")
        virsh(self.uri, "start", "keep")
        con = Console(self.uri, "keep")
        con.wait_for_prompt()
        con.send("MARK=kept$((6*7))\r")
        con.shell_roundtrip("BEFORE")
        self.assertEqual(con.detach(), 0)

        image = os.path.join(self.daemon.root, "keep.save")
        virsh(self.uri, "save", "keep", image, timeout=BOOT_TIMEOUT)
        self.events.wait_for("keep", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_SAVED)
        self.assertEqual(virsh(self.uri, "domstate", "--reason", "keep").stdout.strip(), "shut off (saved)")
        with open(image, "rb") as f:
            self.assertEqual(f.read(8), b"ORIELSAV")
        self.assertIn("<name>keep</name>", virsh(self.uri, "save-image-dumpxml", image).stdout)

        virsh(self.uri, "restore", image, timeout=BOOT_TIMEOUT)
        self.events.wait_for("keep", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_RESTORED)
        self.assertEqual(virsh(self.uri, "domstate", "--reason", "keep").stdout.strip(), "running (restored)")
        con = Console(self.uri, "keep")
        con.ask("echo mark=$MARK", "mark=kept42")
        self.assertEqual(con.detach(), 0)

        # Restoring a running domain's image again is refused.
        r = virsh(self.uri, "restore", image, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("already exists", r.stderr)

        # Managed save: the image lives with the daemon; start continues it.
        virsh(self.uri, "managedsave", "keep", timeout=BOOT_TIMEOUT)
        self.assertEqual(virsh(self.uri, "domstate", "--reason", "keep").stdout.strip(), "shut off (saved)")
        self.assertRegex(virsh(self.uri, "dominfo", "keep").stdout, r"Managed save:\s+yes")
        self.assertIn("keep", virsh(self.uri, "list", "--all", "--managed-save", "--name").stdout)
        r = virsh(self.uri, "undefine", "keep", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("managed save image exists", r.stderr)
        # A definition changed meanwhile applies to the next boot; the saved
        # VM comes back as it was saved (128 MiB).
        conn = libvirt.open(self.uri)
        xml = conn.lookupByName("keep").XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        bigger = re.sub(r"(<(memory|currentMemory) unit='KiB'>)131072<", r"\g<1>163840<", xml)
        self.assertNotEqual(bigger, xml)
        conn.defineXML(bigger)
        conn.close()
        virsh(self.uri, "start", "keep", timeout=BOOT_TIMEOUT)
        self.assertRegex(virsh(self.uri, "dominfo", "keep").stdout, r"Max memory:\s+131072 KiB")
        self.assertEqual(virsh(self.uri, "domstate", "--reason", "keep").stdout.strip(), "running (restored)")
        self.assertRegex(virsh(self.uri, "dominfo", "keep").stdout, r"Managed save:\s+no")
        self.assertEqual(os.listdir(self.daemon.save_dir), [])
        con = Console(self.uri, "keep")
        con.ask("echo again=$MARK", "again=kept42")
        self.assertEqual(con.detach(), 0)

        # Saved paused, restored paused; resume runs the same guest.
        virsh(self.uri, "save", "--paused", "keep", image, timeout=BOOT_TIMEOUT)
        virsh(self.uri, "restore", image, timeout=BOOT_TIMEOUT)
        self.assertEqual(virsh(self.uri, "domstate", "keep").stdout.strip(), "paused")
        virsh(self.uri, "resume", "keep")
        con = Console(self.uri, "keep")
        con.ask("echo third=$MARK", "third=kept42")
        self.assertEqual(con.detach(), 0)

        # Bad input.
        junk = os.path.join(self.daemon.root, "junk.save")
        with open(junk, "wb") as f:
            f.write(b"this is not a save image at all")
        r = virsh(self.uri, "restore", junk, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not an Oriel save image", r.stderr)
        r = virsh(self.uri, "restore", os.path.join(self.daemon.root, "missing.save"), check=False)
        self.assertIn("cannot open save image", r.stderr)
        r = virsh(self.uri, "save", "keep", "/nonexistent-dir/keep.save", check=False, timeout=BOOT_TIMEOUT)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("cannot save domain", r.stderr)
        # ...and the domain runs on after the failed save.
        self.assertEqual(virsh(self.uri, "domstate", "keep").stdout.strip(), "running")
        con = Console(self.uri, "keep")
        con.shell_roundtrip("AFTER")
        self.assertEqual(con.detach(), 0)
        r = virsh(self.uri, "save", "keep", image, readonly=True, check=False)
        self.assertNotEqual(r.returncode, 0)
        virsh(self.uri, "destroy", "keep")
        r = virsh(self.uri, "save", "keep", image, check=False)
        self.assertIn("not running", r.stderr)

        S, R = E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STARTED
        self.assertEqual(self.events.of("keep"), [
            (E.VIR_DOMAIN_EVENT_DEFINED, E.VIR_DOMAIN_EVENT_DEFINED_ADDED),
            (R, E.VIR_DOMAIN_EVENT_STARTED_BOOTED),
            (E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
            (S, E.VIR_DOMAIN_EVENT_STOPPED_SAVED),
            (R, E.VIR_DOMAIN_EVENT_STARTED_RESTORED),
            (E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
            (S, E.VIR_DOMAIN_EVENT_STOPPED_SAVED),
            (E.VIR_DOMAIN_EVENT_DEFINED, E.VIR_DOMAIN_EVENT_DEFINED_UPDATED),
            (R, E.VIR_DOMAIN_EVENT_STARTED_RESTORED),
            (E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
            (S, E.VIR_DOMAIN_EVENT_STOPPED_SAVED),
            (R, E.VIR_DOMAIN_EVENT_STARTED_RESTORED),
            (E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_RESTORED),
            (E.VIR_DOMAIN_EVENT_RESUMED, E.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED),
            (E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
            (E.VIR_DOMAIN_EVENT_RESUMED, E.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED),
            (S, E.VIR_DOMAIN_EVENT_STOPPED_DESTROYED),
        ])

    def test_open_graphics_fd(self):
        """virDomainOpenGraphicsFD hands over a socket connected to the
        VMM's VNC server (the RFB greeting arrives on it); refused on the
        read-only socket and for a display the domain does not have."""
        conn = libvirt.open(self.uri)
        try:
            dom = conn.defineXML(guest_xml("gfx").replace(
                "<serial type='pty'/>", "<graphics type='vnc' autoport='yes' listen='127.0.0.1'/><serial type='pty'/>"))
            dom.create()
            fd = dom.openGraphicsFD(0, libvirt.VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH)
            with socket.socket(fileno=fd) as s:
                s.settimeout(60)
                greeting = b""
                while len(greeting) < 12:
                    chunk = s.recv(12 - len(greeting))
                    self.assertTrue(chunk, "the graphics socket closed before the RFB greeting")
                    greeting += chunk
            self.assertEqual(greeting, b"RFB 003.008\n")
            with self.assertRaises(libvirt.libvirtError) as cm:
                dom.openGraphicsFD(1, 0)
            self.assertEqual(cm.exception.get_error_code(), libvirt.VIR_ERR_INVALID_ARG)
            ro = libvirt.openReadOnly(self.daemon.ro_uri)
            try:
                with self.assertRaises(libvirt.libvirtError) as cm:
                    ro.lookupByName("gfx").openGraphicsFD(0, 0)
                self.assertEqual(cm.exception.get_error_code(), libvirt.VIR_ERR_OPERATION_DENIED)
            finally:
                ro.close()

            # virsh screenshot: the VMM's screen as PNG over a stream.
            shot = os.path.join(self.daemon.root, "gfx.png")
            virsh(self.uri, "screenshot", "gfx", shot)
            st = conn.newStream(0)
            self.assertEqual(dom.screenshot(st, 0, 0), "image/png")
            chunks = []
            st.recvAll(lambda s, data, acc: acc.append(data), chunks)
            st.finish()
            self.assertEqual(b"".join(chunks)[:8], b"\x89PNG\r\n\x1a\n")
            with open(shot, "rb") as f:
                png = f.read()
            self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
            self.assertEqual(png[12:16], b"IHDR")
            width, height = struct.unpack(">II", png[16:24])
            self.assertGreaterEqual(width, 320)
            self.assertGreaterEqual(height, 200)
            self.assertEqual(png[-8:-4], b"IEND")
            r = virsh(self.daemon.ro_uri, "screenshot", "gfx", shot, check=False, readonly=True)
            self.assertNotEqual(r.returncode, 0)
            r = virsh(self.uri, "screenshot", "gfx", shot, "--screen", "1", check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("only screen 0", r.stderr)
            dom.destroy()
            dom.undefine()
        finally:
            conn.close()

    def test_bridge_interface(self):
        """<interface type='bridge'>: the daemon makes a tap device on the
        bridge for the run (named in the live XML), the guest reaches the
        host's address on the bridge through it, and the tap goes when the
        domain stops."""
        def ip(*args):
            subprocess.run(("ip",) + args, check=True)
        ip("link", "add", "obr0", "type", "bridge")
        try:
            ip("addr", "add", "192.168.79.1/24", "dev", "obr0")
            ip("link", "set", "obr0", "up")
            conn = libvirt.open(self.uri)
            try:
                dom = conn.defineXML(guest_xml("br").replace(
                    "<serial type='pty'/>",
                    "<interface type='bridge'><source bridge='obr0'/><mac address='52:54:00:79:00:02'/>"
                    "</interface><serial type='pty'/>"))
                dom.create()
                m = re.search(r"<target dev='([^']+)'/>", dom.XMLDesc(0))
                self.assertIsNotNone(m, "no tap device in the live XML")
                tap = m.group(1)
                master = os.path.basename(os.path.realpath("/sys/class/net/%s/master" % tap))
                self.assertEqual(master, "obr0")
                self.assertNotIn(tap, dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
                con = Console(self.uri, "br")
                con.wait_for_prompt()
                con.send("ip addr add 192.168.79.2/24 dev eth0; ip link set eth0 up; "
                         "ping -c 1 -W 10 192.168.79.1 >/dev/null && echo BRIDGE-$((6*7))\r")
                con.expect("BRIDGE-42", timeout=120)
                # domifstat, by tap device and by MAC: the guest's ARP
                # request and ping went out, the answers came in.
                def ifstat(dev):
                    out = virsh(self.uri, "domifstat", "br", dev).stdout
                    return {f[1]: int(f[2]) for f in (l.split() for l in out.splitlines()) if len(f) == 3}
                st = ifstat(tap)
                self.assertGreaterEqual(st["tx_packets"], 2, st)
                self.assertGreaterEqual(st["rx_packets"], 2, st)
                self.assertGreaterEqual(st["tx_bytes"], 42 + 98, st)
                self.assertGreaterEqual(st["rx_bytes"], 42 + 98, st)
                self.assertGreaterEqual(ifstat("52:54:00:79:00:02")["tx_packets"], st["tx_packets"])
                r = virsh(self.uri, "domifstat", "br", "vnet999", check=False)
                self.assertNotEqual(r.returncode, 0)
                self.assertIn("not a known interface", r.stderr)
                self.assertEqual(con.detach(), 0)
                dom.destroy()
                wait_until(lambda: not os.path.exists("/sys/class/net/" + tap), 30,
                           "the tap device %s removed after the domain stopped" % tap)
                dom.undefine()
            finally:
                conn.close()
        finally:
            subprocess.run(["ip", "link", "del", "obr0"])

    def test_guest_poweroff_by_itself(self):
        self.define("short", cmdline="console=ttyS0 panic=-1 oriel.run=/bin/true")
        virsh(self.uri, "start", "short")
        self.events.wait_for("short", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN,
                             timeout=BOOT_TIMEOUT)
        self.assertEqual(virsh(self.uri, "domstate", "--reason", "short").stdout.strip(), "shut off (shutdown)")
        self.assertEqual(os.listdir(self.daemon.state_dir), [])

    def test_transient_create(self):
        conn = libvirt.open(self.uri)
        d = conn.createXML(guest_xml("trans"), 0)
        self.assertGreater(d.ID(), 0)
        self.assertFalse(d.isPersistent())
        pid = vmm_pid(self.daemon, "trans")
        d.destroy()
        wait_until(lambda: not alive(pid), 20, "the VMM to exit")
        self.assertNotIn("trans", [x.name() for x in conn.listAllDomains()])
        conn.close()

    def test_daemon_restart_readopts_running_vm(self):
        self.define("keep")
        virsh(self.uri, "start", "keep")
        con = Console(self.uri, "keep")
        con.wait_for_prompt()
        con.detach()
        dom_id = virsh(self.uri, "domid", "keep").stdout.strip()
        pid = vmm_pid(self.daemon, "keep")
        self.events.close()
        self.daemon.stop()
        self.assertTrue(alive(pid), "the VMM must survive a daemon restart")
        self.daemon.start()
        self.events = EventLog(self.uri)
        self.assertRegex(virsh(self.uri, "list").stdout, r"%s\s+keep\s+running" % dom_id)
        self.assertEqual(vmm_pid(self.daemon, "keep"), pid)
        con = Console(self.uri, "keep")
        con.shell_roundtrip("ADOPTED")
        con.detach()
        virsh(self.uri, "suspend", "keep")
        virsh(self.uri, "resume", "keep")
        virsh(self.uri, "destroy", "keep")
        wait_until(lambda: not alive(pid), 20, "the adopted VMM to exit")
        self.assertEqual(virsh(self.uri, "domstate", "--reason", "keep").stdout.strip(), "shut off (destroyed)")

    def test_vmm_killed_shows_crashed_others_untouched(self):
        self.define("victim")
        self.define("bystander")
        virsh(self.uri, "start", "victim")
        virsh(self.uri, "start", "bystander")
        victim = vmm_pid(self.daemon, "victim")
        bystander = vmm_pid(self.daemon, "bystander")
        os.kill(victim, signal.SIGKILL)
        self.events.wait_for("victim", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_CRASHED)
        self.assertEqual(virsh(self.uri, "domstate", "--reason", "victim").stdout.strip(), "shut off (crashed)")
        self.assertEqual(virsh(self.uri, "domstate", "bystander").stdout.strip(), "running")
        self.assertTrue(alive(bystander))
        # the crashed domain starts again
        virsh(self.uri, "start", "victim")
        self.assertEqual(virsh(self.uri, "domstate", "victim").stdout.strip(), "running")

    def test_concurrent_clients(self):
        n, seconds = 20, 30
        for i in range(n):
            self.define("c%02d" % i, memory=128, cmdline="console=ttyS0 panic=-1 oriel.shell=0")
        errors, cycles = [], [0] * n

        def worker(i):
            name = "c%02d" % i
            try:
                conn = libvirt.open(self.uri)
                d = conn.lookupByName(name)
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    d.create()
                    if d.info()[0] != E.VIR_DOMAIN_RUNNING:
                        raise AssertionError("%s not running after start" % name)
                    d.suspend()
                    d.resume()
                    d.XMLDesc(0)
                    d.destroy()
                    if d.isActive():
                        raise AssertionError("%s active after destroy" % name)
                    cycles[i] += 1
                conn.close()
            except Exception as e:  # noqa: BLE001 - collected and reported
                errors.append("%s: %r" % (name, e))
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(seconds + 120)
        self.assertEqual(errors, [])
        self.assertTrue(all(c > 0 for c in cycles), cycles)
        conn = libvirt.open(self.uri)
        self.assertEqual(conn.listAllDomains(E.VIR_CONNECT_LIST_DOMAINS_ACTIVE), [])
        conn.close()
        wait_until(lambda: os.listdir(self.daemon.state_dir) == [], 20, "runtime state to be cleaned")
        # VMMs run with --config STATE_DIR/UUID/vmm.conf (the daemon's own
        # command line names only STATE_DIR).
        leaked = subprocess.run(["pgrep", "-af", re.escape(self.daemon.state_dir) + "/[^ ]*/vmm.conf"],
                                capture_output=True, text=True).stdout
        self.assertEqual(leaked.strip(), "", "leaked VMMs")
        print("\n%d clients, %d start/suspend/resume/destroy cycles in %d s"
              % (n, sum(cycles), seconds), file=sys.stderr)

    def test_virt_install_import(self):
        disk = os.path.join(self.daemon.image_dir, "vi.img")
        with open(disk, "wb") as f:
            f.truncate(16 << 20)
        r = subprocess.run(["virt-install", "--connect", self.uri, "--name", "vi", "--memory", "128",
                            "--import", "--disk", "path=%s,bus=virtio" % disk, "--os-variant", "generic",
                            "--boot", "kernel=%s,initrd=%s,kernel_args=console=ttyS0" % (KERNEL, INITRD),
                            "--graphics", "none", "--network", "none", "--noautoconsole"],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.daemon.read_log()[-3000:])
        conn = libvirt.open(self.uri)
        d = conn.lookupByName("vi")
        self.assertTrue(d.isActive())
        self.assertTrue(d.isPersistent())
        conn.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
