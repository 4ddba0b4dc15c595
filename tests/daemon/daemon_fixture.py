"""An isolated virtorield instance for tests: its own sockets, config,
state and image directories under a temporary directory."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time


def build_root():
    """The meson build directory (tests run with it as the working dir)."""
    return os.environ.get("MESON_BUILD_ROOT", os.getcwd())


def virtorield_path():
    path = os.environ.get("VIRTORIELD")
    if path:
        return path
    return os.path.join(build_root(), "daemon", "virtorield")


def vmm_path():
    path = os.environ.get("ORIEL_VMM")
    if path:
        return path
    return os.path.join(build_root(), "hypervisor", "oriel-vmm")


class Daemon:
    def __init__(self, vmm=None, root=None, extra_args=()):
        self.root = root or tempfile.mkdtemp(prefix="virtorield-test-")
        self.own_root = root is None
        self.sock_dir = os.path.join(self.root, "sock")
        self.config_dir = os.path.join(self.root, "etc")
        self.state_dir = os.path.join(self.root, "run")
        self.image_dir = os.path.join(self.root, "images")
        self.save_dir = os.path.join(self.root, "save")
        self.tpm_dir = os.path.join(self.root, "swtpm")
        self.nvram_dir = os.path.join(self.root, "nvram")
        self.rw_sock = os.path.join(self.sock_dir, "virtorield-sock")
        self.ro_sock = os.path.join(self.sock_dir, "virtorield-sock-ro")
        self.uri = "oriel:///system?socket=" + self.rw_sock
        self.ro_uri = "oriel:///system?socket=" + self.ro_sock
        self.vmm = vmm or vmm_path()
        self.extra_args = list(extra_args)
        self.proc = None
        self.log_path = os.path.join(self.root, "daemon.log")

    def start(self, timeout=10):
        os.makedirs(self.root, exist_ok=True)
        if os.path.exists(self.rw_sock):
            os.unlink(self.rw_sock)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [virtorield_path(), "--verbose", "--socket-dir", self.sock_dir,
             "--config-dir", self.config_dir, "--state-dir", self.state_dir,
             "--image-dir", self.image_dir, "--save-dir", self.save_dir,
             "--tpm-dir", self.tpm_dir, "--nvram-dir", self.nvram_dir,
             "--vmm", self.vmm] + self.extra_args,
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("virtorield exited early:\n" + self.read_log())
            if os.path.exists(self.ro_sock):
                s = socket.socket(socket.AF_UNIX)
                try:
                    s.connect(self.rw_sock)
                    return self
                except OSError:
                    pass
                finally:
                    s.close()
            time.sleep(0.05)
        raise RuntimeError("virtorield did not start listening:\n" + self.read_log())

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()
            self.log = None

    def sanitizer_report(self):
        """Sanitizer findings in the daemon's log (ASan/UBSan builds)."""
        log = self.read_log() if os.path.exists(self.log_path) else ""
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if marker in log:
                return log
        return None

    def cleanup(self):
        self.stop()
        report = self.sanitizer_report()
        if self.own_root:
            shutil.rmtree(self.root, ignore_errors=True)
        if report:
            raise RuntimeError("virtorield reported a sanitizer error:\n" + report[-6000:])

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


def virsh(uri, *args, check=True, readonly=False, timeout=60):
    argv = ["virsh", "-q"] + (["-r"] if readonly else []) + ["-c", uri] + list(args)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (" ".join(argv), r.returncode, r.stdout, r.stderr))
    return r


DEMO_XML = """<domain type='kvm'>
  <name>{name}</name>
  <title>A test domain</title>
  <memory unit='MiB'>{memory}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{kernel}</kernel>
    {initrd}
    <cmdline>{cmdline}</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <on_reboot>destroy</on_reboot>
  <devices>
    {disks}
    <interface type='network'><source network='default'/><model type='virtio'/></interface>
    <serial type='pty'/>
    <console type='pty'/>
  </devices>
</domain>
"""


def demo_xml(name="demo", memory=256, kernel="/boot/vmlinuz", initrd=None,
             cmdline="console=ttyS0", disks=""):
    return DEMO_XML.format(name=name, memory=memory, kernel=kernel,
                           initrd="<initrd>%s</initrd>" % initrd if initrd else "",
                           cmdline=cmdline, disks=disks)


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.1)


def run_script_in_testhost(script, args, env, timeout):
    """Boot a test host, run `script` (next to this file) there with
    /usr/bin/python3, print its output and return its exit status."""
    import sys
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "testhost"))
    import testhost
    argv = ["/usr/bin/python3", os.path.join(here, script)] + list(args)
    with testhost.TestHost() as th:
        r = th.run(argv, env=dict(env, PYTHONDONTWRITEBYTECODE="1"), timeout=timeout)
    sys.stdout.write(r.output)
    return r.returncode
