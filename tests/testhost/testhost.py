"""Test host: a QEMU TCG virtual machine with a real, nested /dev/kvm.

This machine's /dev/kvm (PVM) cannot run unmodified guests, so everything
that runs a guest runs inside a test host: QEMU emulates an AMD-V CPU with
NPT, Debian's generic kernel loads kvm-amd, and this machine's root
filesystem, shared read-only over 9p with a tmpfs overlay on top, is the
test host's root, so every path (build tree, installed tools) is the same
inside.  Commands run as root through an agent on a virtio-serial port.

    with TestHost() as th:
        r = th.run("uname -r", timeout=60)
        r.returncode, r.output
        daemon = th.spawn(["/path/to/daemon", "--foreground"])
        daemon.wait_for_output(r"listening", timeout=30)
        ...

Writes inside land in the overlay and vanish with the test host, except in
the directories given as `shares`, which are the host's directories,
writable, at the same paths.
"""

import base64
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_ASSETS = os.path.normpath(os.path.join(HERE, "..", "assets", "build-assets"))
BUILD_QEMU = os.path.join(HERE, "build-qemu")
DEFAULT_QEMU = "qemu-system-x86_64"
AGENT = os.path.join(HERE, "agent.py")
DEFAULT_MEM_MIB = 4096
DEFAULT_BOOT_TIMEOUT = 180
# The CLI reports failures of the test host itself with this exit code.
EXIT_TESTHOST_FAILURE = 125
BASE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LANG": "C.UTF-8",
    "TERM": "dumb",
    "USER": "root",
    "LOGNAME": "root",
    "SHELL": "/bin/sh",
    "ORIEL_IN_TESTHOST": "1",
}


class TestHostError(Exception):
    """The test host failed to boot, died, or could not run a request."""


class CommandTimeout(TestHostError):
    """A command did not finish in time; it has been killed."""

    def __init__(self, message, result):
        super().__init__(message)
        self.result = result


class CommandResult:
    def __init__(self, argv, returncode, stdout, stderr, output):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout  # bytes
        self.stderr = stderr  # bytes
        self.output = output  # str: stdout and stderr in arrival order

    def __repr__(self):
        return "CommandResult(%r, returncode=%r)" % (self.argv, self.returncode)


def ensure_assets(quiet=True):
    """Run build-assets (cached, cheap when up to date); return the manifest."""
    cmd = [BUILD_ASSETS] + (["--quiet"] if quiet else [])
    subprocess.run(cmd, check=True)
    return read_manifest()


def read_manifest():
    cache = os.environ.get("ORIEL_ASSET_CACHE", "/var/cache/oriel-tests")
    manifest = {}
    with open(os.path.join(cache, "assets.env")) as f:
        for line in f:
            key, sep, value = line.rstrip("\n").partition("=")
            if sep:
                manifest[key] = value
    return manifest


def uefi_qemu(quiet=False):
    """The test host's QEMU for UEFI work; return the path of its binary.

    Debian's QEMU 7.2 with qemu-cr8-lock.patch, built by build-qemu when
    the cache lacks it (8 to 20 minutes on 2 CPUs; its progress goes to
    stderr), cached under $ORIEL_ASSET_CACHE/qemu-uefi afterwards."""
    cmd = [BUILD_QEMU, "--print-path"] + (["--quiet"] if quiet else [])
    r = subprocess.run(cmd, stdout=subprocess.PIPE)
    path = r.stdout.decode().strip()
    if r.returncode != 0 or not os.path.isfile(path):
        raise TestHostError("build-qemu failed (exit status %s); see its messages above"
                            % r.returncode)
    return path


def _caller_env():
    return {k: v for k, v in os.environ.items() if k.startswith("ORIEL_")}


class Process:
    """A command running inside the test host."""

    def __init__(self, host, jid, argv, on_output):
        self.host = host
        self.id = jid
        self.argv = argv
        self.pid = None
        self.returncode = None
        self._on_output = on_output
        self.callback_error = None  # what on_output raised, if it did
        self._chunks = []  # (fd, bytes)
        self._cond = host._cond

    # Called by the reader thread with host._cond held.
    def _output(self, fd, data):
        self._chunks.append((fd, data))
        if self._on_output is not None:
            try:
                self._on_output(fd, data)
            except Exception as e:  # e.g. a closed pipe: keep collecting
                self._on_output = None
                self.callback_error = e

    @property
    def stdout(self):
        with self._cond:
            return b"".join(d for fd, d in self._chunks if fd == 1)

    @property
    def stderr(self):
        with self._cond:
            return b"".join(d for fd, d in self._chunks if fd == 2)

    @property
    def output(self):
        with self._cond:
            return b"".join(d for _, d in self._chunks).decode(errors="replace")

    def result(self):
        return CommandResult(self.argv, self.returncode, self.stdout,
                             self.stderr, self.output)

    def _wait_until(self, predicate, timeout, what):
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not predicate():
                if self.host._dead is not None:
                    raise TestHostError("test host died while waiting for %s: %s"
                                        % (what, self.host._dead))
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def wait(self, timeout=None):
        """Wait for the exit; return the exit code (-N if killed by signal N).

        Returns None if it is still running after `timeout` seconds."""
        self._wait_until(lambda: self.returncode is not None, timeout, "exit")
        return self.returncode

    def wait_for_output(self, pattern, timeout):
        """Wait until the output so far matches the regular expression.

        Returns the match; raises TestHostError on timeout or if the process
        exits first."""
        rx = re.compile(pattern)
        found = []

        def check():
            m = rx.search(b"".join(d for _, d in self._chunks).decode(errors="replace"))
            if m:
                found.append(m)
                return True
            return self.returncode is not None

        if not self._wait_until(check, timeout, "output %r" % pattern):
            raise TestHostError("no output matching %r from %s within %s s; output:\n%s"
                                % (pattern, self.argv, timeout, self.output))
        if not found:
            raise TestHostError("%s exited with %s before printing %r; output:\n%s"
                                % (self.argv, self.returncode, pattern, self.output))
        return found[0]

    def send_signal(self, sig):
        self.host._send({"op": "signal", "id": self.id, "signal": int(sig)})

    def terminate(self):
        self.send_signal(signal.SIGTERM)

    def kill(self):
        self.send_signal(signal.SIGKILL)


class TestHost:
    def __init__(self, mem_mib=DEFAULT_MEM_MIB, shares=(), boot_timeout=DEFAULT_BOOT_TIMEOUT,
                 console_log=None, qemu=None, root_cache="loose", uefi=False):
        """`uefi=True` runs the test host on the QEMU that build-qemu makes
        (see uefi_qemu()): the one that survives OVMF in nested guests.
        `qemu` names the test host's QEMU binary explicitly; without either,
        it is $ORIEL_TESTHOST_QEMU if set, else Debian's qemu-system-x86_64.
        $ORIEL_TESTHOST_QEMU also overrides `uefi=True` (say, to show that
        the stock QEMU aborts)."""
        self.mem_mib = int(mem_mib)
        self.shares = [os.path.abspath(s) for s in shares]
        self.boot_timeout = boot_timeout
        self.console_log = console_log
        self.uefi = uefi
        if qemu is None:
            qemu = os.environ.get("ORIEL_TESTHOST_QEMU") or None
        if qemu is None and not uefi:
            qemu = DEFAULT_QEMU
        self.qemu = qemu  # None: uefi_qemu(), resolved in start()
        self.root_cache = root_cache
        self.boot_seconds = None  # host wall time from QEMU start to ready
        self.guest_uptime = None  # test host's uptime when the agent started
        self.kernel = None
        self._cond = threading.Condition()
        self._procs = {}
        self._next_id = 1
        self._dead = None
        self._sock = None
        self._proc = None
        self._tmpdir = None
        self._reader = None
        self._ready = False
        self._send_lock = threading.Lock()
        self._nudger = None

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _qemu_argv(self, manifest, agent_fd):
        for path in [AGENT] + self.shares:
            if re.search(r"\s", path):
                raise TestHostError("path with white space cannot be passed to the test host: %r" % path)
        for path in self.shares:
            if not os.path.isdir(path):
                raise TestHostError("share %r is not a directory" % path)
        modules = os.path.realpath(manifest["TESTHOST_MODULES"])
        cmdline = ["console=ttyS0", "panic=-1", "loglevel=4", "mitigations=off",
                   "oriel.agent=" + AGENT, "oriel.modules=" + modules,
                   "oriel.cache=" + self.root_cache]
        argv = [self.qemu, "-accel", "tcg", "-cpu", "EPYC,+svm,+npt",
                "-smp", "1", "-m", str(self.mem_mib), "-M", "pc",
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-kernel", manifest["TESTHOST_KERNEL"],
                "-initrd", manifest["TESTHOST_INITRAMFS"],
                "-chardev", "file,id=con,path=" + os.path.join(self._tmpdir, "console.log"),
                "-serial", "chardev:con",
                "-fsdev", "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap",
                "-device", "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot",
                "-device", "virtio-rng-pci",
                "-device", "virtio-serial-pci",
                "-chardev", "socket,id=agent,fd=%d" % agent_fd,
                "-device", "virtserialport,chardev=agent,name=oriel.agent"]
        for i, path in enumerate(self.shares):
            tag = "share%d" % i
            argv += ["-fsdev", "local,id=%s,path=%s,security_model=none,multidevs=remap" % (tag, path),
                     "-device", "virtio-9p-pci,fsdev=%s,mount_tag=%s" % (tag, tag)]
            cmdline.append("oriel.share=%s:%s" % (tag, path))
        cmdline += os.environ.get("ORIEL_TESTHOST_APPEND", "").split()
        if os.environ.get("ORIEL_TESTHOST_MONITOR"):
            argv += ["-monitor", "unix:%s,server=on,wait=off" % os.environ["ORIEL_TESTHOST_MONITOR"]]
        argv += ["-append", " ".join(cmdline)]
        return argv

    def start(self):
        manifest = read_manifest() if self._assets_present() else ensure_assets()
        if self.qemu is None:
            self.qemu = uefi_qemu()
        self._tmpdir = tempfile.mkdtemp(prefix="oriel-testhost-")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock = ours
        try:
            argv = self._qemu_argv(manifest, theirs.fileno())
        except TestHostError:
            theirs.close()
            self._cleanup()
            raise
        self._qemu_stderr = open(os.path.join(self._tmpdir, "qemu.log"), "w+b")
        started = time.monotonic()
        try:
            self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                          stdout=self._qemu_stderr, stderr=self._qemu_stderr,
                                          pass_fds=[theirs.fileno()])
        except OSError as e:
            self._cleanup()
            raise TestHostError("cannot start %s: %s" % (self.qemu, e)) from e
        finally:
            theirs.close()
        self._reader = threading.Thread(target=self._read_loop, daemon=True,
                                        name="testhost-reader")
        self._reader.start()
        deadline = started + self.boot_timeout
        with self._cond:
            while not self._ready and self._dead is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            ready, dead = self._ready, self._dead
        if not ready:
            why = dead or "not ready after %s s" % self.boot_timeout
            diag = self.diagnostics()
            self.close()
            raise TestHostError("test host failed to boot: %s\n%s" % (why, diag))
        self.boot_seconds = time.monotonic() - started
        self._nudger = threading.Thread(target=self._nudge_loop, daemon=True,
                                        name="testhost-nudge")
        self._nudger.start()

    # QEMU 7.2's TCG emulation of AMD-V sometimes leaves the test host's vCPU
    # with its APIC timer interrupt pending but never taken, after many
    # exits of a nested guest; the test host then stands still until some
    # other interrupt arrives (seen: minutes).  A message on the agent
    # channel is such an interrupt: one goes at least every NUDGE_SECONDS
    # (sooner while the agent is talking, which wakes the wait), so a stall
    # lasts at most that long.
    NUDGE_SECONDS = 0.5

    def _nudge_loop(self):
        while True:
            with self._cond:
                if self._dead is not None or self._sock is None:
                    return
                self._cond.wait(self.NUDGE_SECONDS)
                if self._dead is not None or self._sock is None:
                    return
            try:
                self._send({"op": "nudge"})
            except TestHostError:
                return

    @staticmethod
    def _assets_present():
        try:
            m = read_manifest()
        except OSError:
            return False
        return all(os.path.exists(m.get(k, "")) for k in
                   ("TESTHOST_KERNEL", "TESTHOST_INITRAMFS", "TESTHOST_MODULES"))

    def cpu_seconds(self):
        """CPU time the test host's QEMU has used so far (user + system).

        Under load, wall times inside the emulated test host stretch; its
        CPU time much less so."""
        with open("/proc/%d/stat" % self._proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def diagnostics(self):
        """Tail of the test host's console and of QEMU's own messages."""
        parts = []
        for name in ("console.log", "qemu.log"):
            path = os.path.join(self._tmpdir or "", name)
            try:
                with open(path, "rb") as f:
                    text = f.read().decode(errors="replace")
            except OSError:
                continue
            # QEMU warns once per CPUID feature TCG lacks; that is expected noise.
            lines = [l for l in text.splitlines()
                     if "TCG doesn't support requested feature" not in l][-40:]
            if lines:
                parts.append("--- %s (last %d lines) ---\n%s" % (name, len(lines), "\n".join(lines)))
        return "\n".join(parts)

    def close(self):
        """Power the test host off (killing what runs inside) and clean up."""
        if self._proc is not None and self._proc.poll() is None:
            asked = False
            if self._ready and self._dead is None:
                try:
                    self._send({"op": "poweroff"})
                    asked = True
                except TestHostError:
                    pass
            try:
                self._proc.wait(timeout=10 if asked else 0)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._reader is not None:
            self._reader.join(timeout=5)
        self._cleanup()

    def _cleanup(self):
        with self._send_lock:  # not under a nudge being sent
            if self._sock is not None:
                self._sock.close()
                self._sock = None
        if self._tmpdir is not None:
            if self.console_log:
                try:
                    shutil.copyfile(os.path.join(self._tmpdir, "console.log"), self.console_log)
                except OSError:
                    pass
            if getattr(self, "_qemu_stderr", None) is not None:
                self._qemu_stderr.close()
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    # -- agent channel -----------------------------------------------------

    def _send(self, msg):
        data = (json.dumps(msg, separators=(",", ":")) + "\n").encode()
        with self._send_lock:
            if self._sock is None or self._dead is not None:
                raise TestHostError("test host is not running: %s" % (self._dead or "closed"))
            try:
                self._sock.sendall(data)
            except OSError as e:
                raise TestHostError("lost the test host agent: %s" % e) from e

    def _read_loop(self):
        buf = b""
        reason = "QEMU exited"
        try:
            while True:
                chunk = self._sock.recv(262144)
                if not chunk:
                    break
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line.strip():
                        self._dispatch(json.loads(line))
        except OSError as e:
            reason = "agent channel error: %s" % e
        except (ValueError, KeyError) as e:
            reason = "agent protocol error: %r" % e
        if self._proc is not None:
            try:
                rc = self._proc.wait(timeout=10)
                reason = "QEMU exited with status %s" % rc
            except subprocess.TimeoutExpired:
                pass
        with self._cond:
            self._dead = reason
            self._cond.notify_all()

    def _dispatch(self, msg):
        op = msg.get("op")
        with self._cond:
            if op == "ready":
                self._ready = True
                self.guest_uptime = msg.get("uptime")
                self.kernel = msg.get("kernel")
            elif op == "started":
                p = self._procs.get(msg["id"])
                if p is not None:
                    p.pid = msg["pid"]
            elif op == "output":
                p = self._procs.get(msg["id"])
                if p is not None:
                    p._output(msg["fd"], base64.b64decode(msg["data"]))
            elif op == "exit":
                p = self._procs.pop(msg["id"], None)
                if p is not None:
                    p.returncode = msg["status"]
            elif op == "log":
                pass
            self._cond.notify_all()

    # -- commands ----------------------------------------------------------

    def spawn(self, cmd, cwd=None, env=None, input=None, on_output=None):
        """Start `cmd` (a shell string or an argv list) inside; return a Process.

        The environment is a clean root environment plus the caller's ORIEL_*
        variables plus `env`.  `cwd` defaults to the caller's current
        directory.  `on_output(fd, data)` is called from the reader thread
        for each chunk of output, as it arrives."""
        argv = ["/bin/sh", "-c", cmd] if isinstance(cmd, str) else [str(a) for a in cmd]
        full_env = dict(BASE_ENV)
        full_env.update(_caller_env())
        if env:
            full_env.update(env)
        if isinstance(input, str):
            input = input.encode()
        with self._cond:
            jid = self._next_id
            self._next_id += 1
            proc = Process(self, jid, argv, on_output)
            self._procs[jid] = proc
        self._send({"op": "spawn", "id": jid, "argv": argv,
                    "cwd": os.path.abspath(cwd or os.getcwd()), "env": full_env,
                    "stdin": None if input is None else base64.b64encode(input).decode()})
        return proc

    def run(self, cmd, timeout=None, cwd=None, env=None, input=None, check=False,
            on_output=None):
        """Run `cmd` inside and wait; return a CommandResult.

        On timeout the command's process group is killed and CommandTimeout
        raised (it carries the partial result).  With check=True a nonzero
        exit raises TestHostError."""
        proc = self.spawn(cmd, cwd=cwd, env=env, input=input, on_output=on_output)
        if proc.wait(timeout) is None:
            proc.kill()
            proc.wait(10)
            raise CommandTimeout("%s did not finish within %s s; output:\n%s"
                                 % (shlex.join(proc.argv), timeout, proc.output),
                                 proc.result())
        result = proc.result()
        if check and result.returncode != 0:
            raise TestHostError("%s exited with %s; output:\n%s"
                                % (shlex.join(proc.argv), result.returncode, result.output))
        return result
