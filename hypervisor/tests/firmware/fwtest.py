"""Helpers for the firmware boot tests: GRUB media built at test time with
grub-mkrescue (a Debian cloud kernel and the busybox initramfs), and the
outer/inner split of guest tests (see ../guest/vmmtest.py).

Every medium's grub.cfg prints ORIEL-GRUB-<LABEL> on the serial console
before loading Linux, so a test can tell which medium the firmware booted.
"""

import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest"))
import vmmtest  # noqa: E402
from vmmtest import Failure, check, log  # noqa: E402,F401

BIOS = "/usr/share/seabios/bios.bin"

GRUB_CFG = """serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
echo ORIEL-GRUB-{label}
linux /vmlinuz console=ttyS0 quiet {cmdline}
initrd /initrd.img
boot
"""


def build_media(outdir, labels, cmdline="", flavour="cloud", extra_modules=()):
    """Build one GRUB ISO per label in outdir: <label>.iso (also bootable
    as a disk: grub-mkrescue writes a hybrid image with an MBR).
    extra_modules (paths under lib/modules/KVER of the flavour's kernel)
    are added with their dependencies; /bochs-order in the initramfs lists
    them in load order."""
    a = vmmtest.assets()
    stage = tempfile.mkdtemp(prefix="oriel-grub-", dir=outdir)
    os.makedirs(os.path.join(stage, "boot", "grub"))
    key = flavour.upper()
    shutil.copyfile(a["VMLINUZ_" + key], os.path.join(stage, "vmlinuz"))
    with open(a["INITRAMFS_BUSYBOX"], "rb") as f:
        initrd = f.read()
    if extra_modules:
        initrd += b"\0" * (-len(initrd) % 4) + modules_cpio(
            a["MODULES_" + key], a["KVER_" + key], extra_modules)
    # Compressed: GRUB reads the CD through the BIOS, every byte costs.
    with gzip.open(os.path.join(stage, "initrd.img"), "wb", compresslevel=1) as dst:
        dst.write(initrd)
    paths = {}
    for label in labels:
        with open(os.path.join(stage, "boot", "grub", "grub.cfg"), "w") as f:
            f.write(GRUB_CFG.format(label=label, cmdline=cmdline))
        out = os.path.join(outdir, label.lower() + ".iso")
        r = subprocess.run(["grub-mkrescue", "-o", out, stage],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise Failure("grub-mkrescue failed: %s" % r.stdout.decode(errors="replace")[-2000:])
        paths[label] = out
    shutil.rmtree(stage)
    return paths


def modules_cpio(moddir, kver, modules):
    """A newc archive with the modules and their dependencies (from
    modules.dep) and /bochs-order listing them in load order."""
    deps = {}
    with open(os.path.join(moddir, "modules.dep")) as f:
        for line in f:
            name, _, rest = line.partition(":")
            deps[name.strip()] = rest.split()
    order = []
    for m in modules:
        # modules.dep lists every dependency, the one to load first last.
        for d in list(reversed(deps.get(m, []))) + [m]:
            if d not in order:
                order.append(d)
    entries, dirs = [], set()
    for rel in order:
        parts = ("lib/modules/%s/%s" % (kver, rel)).split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if d not in dirs:
                dirs.add(d)
                entries.append((d, 0o40755, b""))
        with open(os.path.join(moddir, rel), "rb") as f:
            entries.append(("/".join(parts), 0o100644, f.read()))
    entries.append(("bochs-order", 0o100644, ("\n".join(order) + "\n").encode()))
    return vmmtest._cpio_newc(entries)


def main(script, inner, labels, cmdline="", timeout=1500, flavour="cloud", extra_modules=()):
    """argv[1]: oriel-vmm.  Outside the test host: build the media, then run
    this script inside with the media directory as argv[2]."""
    vmm = os.path.abspath(sys.argv[1])
    if os.environ.get("ORIEL_IN_TESTHOST") != "1":
        import testhost
        testhost.ensure_assets()
        if shutil.which("grub-mkrescue") is None:
            print("grub-mkrescue is missing (grub-pc-bin, xorriso, mtools)")
            sys.exit(77)
        media = tempfile.mkdtemp(prefix="oriel-fw-media-", dir="/var/tmp")
        try:
            build_media(media, labels, cmdline, flavour, extra_modules)
            with testhost.TestHost(mem_mib=2048, shares=[media]) as th:
                log("test host ready after %.1f s" % th.boot_seconds)

                def relay(fd, data):
                    out = sys.stdout if fd == 1 else sys.stderr
                    out.buffer.write(data)
                    out.flush()

                r = th.run(["/usr/bin/python3", os.path.abspath(script), vmm, media],
                           timeout=timeout, on_output=relay)
                sys.exit(r.returncode)
        finally:
            shutil.rmtree(media, ignore_errors=True)
    media = sys.argv[2]
    paths = {label: os.path.join(media, label.lower() + ".iso") for label in labels}
    try:
        inner(vmm, paths)
    except Failure as e:
        log("FAIL: %s" % e)
        sys.exit(1)
    log("PASS")
    sys.exit(0)


def start(vmm_bin, args, name="guest"):
    """oriel-vmm booting SeaBIOS with the serial console on a UNIX socket;
    returns (VMM, serial Stream)."""
    serial = os.path.join("/tmp", "oriel-fw-serial-%d-%s.sock" % (os.getpid(), name))
    vmm = vmmtest.VMM(vmm_bin, ["--memory", "512M", "--bios", BIOS,
                                "--serial", "unix:" + serial] + list(args), name=name)
    con = vmmtest.Stream(vmmtest.connect_unix(serial), "serial console")
    return vmm, con


def expect_boot(vmm, con, label, timeout=300):
    """Wait for the medium's GRUB marker, then the guest's init; returns the
    seconds from process start to init."""
    con.expect("ORIEL-GRUB-" + label, timeout)
    log("GRUB from %s after %.2f s" % (label, time.monotonic() - vmm.started))
    con.expect("ORIEL-GUEST-INIT", timeout)
    t = time.monotonic() - vmm.started
    log("guest init after %.2f s" % t)
    return t
