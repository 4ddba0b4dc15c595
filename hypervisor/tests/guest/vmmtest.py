"""Helpers for oriel-vmm guest tests.

A guest test is one script that runs twice: on the build machine it boots
a test host (tests/testhost) and runs itself inside, where /dev/kvm is
real; inside (ORIEL_IN_TESTHOST=1) it starts oriel-vmm, talks to the
guest's serial console and the control socket, and exits 0 on success.
"""

import json
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "testhost"))


class Failure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise Failure(message)


def log(msg):
    print("[%8.3f] %s" % (time.monotonic(), msg), flush=True)


def assets():
    """Paths of the guest assets (kernel, initramfs, rootfs)."""
    cache = os.environ.get("ORIEL_ASSET_CACHE", "/var/cache/oriel-tests")
    env = {}
    with open(os.path.join(cache, "assets.env")) as f:
        for line in f:
            if "=" in line:
                k, v = line.strip().split("=", 1)
                env[k] = v
    return env


INNER_TIMEOUT = 600


def run_in_testhost(script, vmm, timeout=INNER_TIMEOUT + 60):
    """Outer half: boot a test host and run `script` inside with the VMM path."""
    import testhost
    testhost.ensure_assets()
    with testhost.TestHost(mem_mib=2048) as th:
        log("test host ready after %.1f s" % th.boot_seconds)

        def relay(fd, data):
            (sys.stdout if fd == 1 else sys.stderr).buffer.write(data)
            (sys.stdout if fd == 1 else sys.stderr).flush()

        r = th.run(["/usr/bin/python3", os.path.abspath(script), vmm],
                   timeout=timeout, on_output=relay)
        return r.returncode


def main(script, inner):
    """Entry point of a guest test: argv[1] is the oriel-vmm binary."""
    vmm = os.path.abspath(sys.argv[1])
    if os.environ.get("ORIEL_IN_TESTHOST") != "1":
        sys.exit(run_in_testhost(script, vmm))
    # A hang anywhere shows where it is instead of dying silently.
    import faulthandler
    faulthandler.dump_traceback_later(INNER_TIMEOUT, exit=True)
    try:
        inner(vmm)
    except Failure as e:
        log("FAIL: %s" % e)
        sys.exit(1)
    log("PASS")
    sys.exit(0)


class Stream:
    """A byte stream (socket or pty fd) with expect()."""

    def __init__(self, fd, name):
        # A socket object is kept so that it stays open.
        self.owner = fd
        self.fd = fd if isinstance(fd, int) else fd.fileno()
        self.name = name
        self.buf = b""
        self.seen = b""   # everything ever received, for diagnostics

    def _read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if not r:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            data = b""
        if not data:
            raise Failure("%s closed; output so far:\n%s" % (self.name, self.tail()))
        self.buf += data
        self.seen += data
        return True

    def tail(self, n=3000):
        return self.seen[-n:].decode(errors="replace")

    def expect(self, pattern, timeout):
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Failure("%s: no %r within %s s; output so far:\n%s"
                              % (self.name, pattern, timeout, self.tail()))
            self._read(remaining)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        os.write(self.fd, data)


class Shell:
    """The guest's shell on a serial console stream."""

    counter = 0

    def __init__(self, stream):
        self.s = stream

    def run(self, cmd, timeout=180):
        """Run cmd in the guest shell; return its output (stripped)."""
        Shell.counter += 1
        tag = "ORX%d" % Shell.counter
        # The markers are built by the shell, so the echoed command line
        # itself never matches them.
        self.s.send("echo %s$((1+1))B; %s; echo %s$((2+1))E\n" % (tag, cmd, tag))
        self.s.expect(r"%s2B\r?\n" % tag, timeout)
        m = self.s.expect(r"([\s\S]*?)%s3E" % tag, timeout)
        return m.group(1).decode(errors="replace").replace("\r", "").strip()


class Control:
    """A control-socket client (CONTROL.md)."""

    def __init__(self, path, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise Failure("cannot connect to the control socket %s" % path)
                time.sleep(0.05)
        self.f = self.sock.makefile("rwb", buffering=0)
        self.events = []
        self.next_id = 0
        self.greeting = self._read(timeout)
        check("oriel" in self.greeting, "bad greeting %r" % self.greeting)

    def _read(self, timeout):
        self.sock.settimeout(timeout)
        try:
            line = self.f.readline()
        except socket.timeout:
            raise Failure("no message on the control socket within %s s" % timeout)
        if not line:
            raise Failure("control socket closed")
        return json.loads(line)

    def execute(self, name, timeout=30, **args):
        self.next_id += 1
        msg = {"execute": name, "id": self.next_id}
        if args:
            msg["arguments"] = args
        self.f.write((json.dumps(msg) + "\n").encode())
        while True:
            m = self._read(timeout)
            if "event" in m:
                self.events.append(m)
                continue
            check(m.get("id") == self.next_id, "reply with the wrong id: %r" % m)
            return m

    def command(self, name, timeout=30, **args):
        m = self.execute(name, timeout, **args)
        check("return" in m, "%s failed: %r" % (name, m))
        return m["return"]

    def wait_event(self, name, timeout):
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e["event"] == name:
                    return self.events.pop(i)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Failure("no %s event within %s s (events: %r)" % (name, timeout, self.events))
            self.events.append(self._read(remaining))

    def close(self):
        self.sock.close()


class Swtpm:
    """A swtpm (TPM 2.0) with its state in tmp/name and its control socket
    at .ctrl, for --tpm swtpm=PATH."""

    def __init__(self, tmp, name):
        self.dir = os.path.join(tmp, name)
        os.mkdir(self.dir)
        self.ctrl = os.path.join(self.dir, "ctrl.sock")
        self.proc = subprocess.Popen(
            ["swtpm", "socket", "--tpm2", "--tpmstate", "dir=" + self.dir,
             "--ctrl", "type=unixio,path=" + self.ctrl, "--log", "file=" + self.dir + "/log"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.ctrl):
            check(self.proc.poll() is None and time.monotonic() < deadline,
                  "swtpm did not make %s" % self.ctrl)
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)


class VMM:
    """An oriel-vmm process."""

    def __init__(self, vmm, args, name="guest"):
        self.tmp = tempfile.mkdtemp(prefix="oriel-guest-")
        self.control_path = os.path.join(self.tmp, "control.sock")
        self.argv = [vmm, "--name", name, "--control", self.control_path] + list(args)
        log("starting " + " ".join(self.argv))
        self.started = time.monotonic()
        # stderr goes to a file so that nothing the VMM says can block it;
        # stdout is a pipe only when a test reads it (--serial stdio).
        self.stderr_path = os.path.join(self.tmp, "stderr.log")
        self.stderr_file = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE if "stdio" in args
                                     else subprocess.DEVNULL,
                                     stderr=self.stderr_file)
        self.stdout = Stream(self.proc.stdout.fileno(), "oriel-vmm stdout") \
            if self.proc.stdout else None

    def expect_stderr(self, pattern, timeout):
        """Wait until the VMM's stderr matches pattern; return the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            with open(self.stderr_path, errors="replace") as f:
                m = rx.search(f.read())
            if m:
                return m
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise Failure("oriel-vmm stderr: no %r within %s s" % (pattern, timeout))
            time.sleep(0.05)

    def stderr_text(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def path(self, name):
        return os.path.join(self.tmp, name)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Failure("oriel-vmm still running after %s s" % timeout)

    def kill(self):
        # Bounded: a VMM stuck in the kernel must not hide the failure that
        # brought the test here behind an endless wait.
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                log("oriel-vmm pid %d did not exit 30 s after SIGKILL" % self.proc.pid)


def connect_unix(path, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise Failure("cannot connect to %s" % path)
            time.sleep(0.05)


def kernel_args(extra="", initrd=None):
    return ["--kernel", assets()["VMLINUZ_CLOUD"],
            "--initrd", initrd or assets()["INITRAMFS_BUSYBOX"],
            "--cmdline", ("console=ttyS0 quiet " + extra).strip()]


def _cpio_newc(entries):
    """A newc cpio archive of (name, mode, data) entries."""
    out = bytearray()

    def pad():
        while len(out) % 4:
            out.append(0)

    for ino, (name, mode, data) in enumerate(entries + [("TRAILER!!!", 0, b"")], 1):
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name) + 1, 0]
        out += b"070701" + b"".join(b"%08X" % f for f in fields)
        out += name.encode() + b"\0"
        pad()
        out += data
        pad()
    return bytes(out)


def initrd_with_modules(tmpdir, modules, kernel="cloud"):
    """The test initramfs plus the given modules of the cloud (or generic)
    kernel (paths under its lib/modules/KVER), appended as a second cpio
    archive; returns its path.  The shell loads them with load_modules()."""
    a = assets()
    flavour = kernel.upper()
    kver = a["KVER_" + flavour]
    entries = []
    dirs = set()
    for rel in modules:
        parts = ("lib/modules/%s/%s" % (kver, rel)).split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if d not in dirs:
                dirs.add(d)
                entries.append((d, 0o40755, b""))
        with open(os.path.join(a["MODULES_" + flavour], rel), "rb") as f:
            entries.append(("/".join(parts), 0o100644, f.read()))
    path = os.path.join(tmpdir, "initrd-extra.img")
    with open(a["INITRAMFS_BUSYBOX"], "rb") as f:
        base = f.read()
    with open(path, "wb") as f:
        f.write(base)
        f.write(b"\0" * (-len(base) % 4))
        f.write(_cpio_newc(entries))
    return path


def arm_power_button(sh):
    """Make the busybox guest power off when its ACPI power button is
    pressed (what acpid or logind does on a full system)."""
    dev = sh.run("for e in /sys/class/input/event*; do "
                 "grep -q 'Power Button' $e/device/name && echo /dev/input/${e##*/}; done")
    check(dev.startswith("/dev/input/event"), "no ACPI power button input device: %r" % dev)
    dev = dev.split()[0]
    sh.run("(head -c 1 %s >/dev/null && poweroff -f) >/dev/null 2>&1 & true" % dev)
    # Only a reader that has the device open sees the press: wait for it.
    opened = sh.run("n=0; until ls -l /proc/[0-9]*/fd 2>/dev/null | grep -q '%s$'; do "
                    "n=$((n+1)); [ $n -gt 600 ] && break; usleep 50000; done; echo $n" % dev)
    check(int(opened) <= 600, "the power button reader never opened %s" % dev)
