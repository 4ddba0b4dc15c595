#!/usr/bin/python3
"""OVMF runs in nested guests of the UEFI test host, boot after boot.

Debian's QEMU 7.2 as the test host aborts in most OVMF runs of a nested
guest (tcg_handle_interrupt asserts the global lock when OVMF writes CR8;
see tests/testhost/qemu-cr8-lock.patch).  TestHost(uefi=True) runs on the
patched build from build-qemu.  In one test host, Debian's stock
qemu-system-x86_64 -enable-kvm -M q35 boots Debian's OVMF several times,
then the Secure Boot build with SMM, each time to a GRUB EFI image that
prints a marker on the serial console and powers off.

ORIEL_TESTHOST_QEMU=/usr/bin/qemu-system-x86_64 runs the same test on the
stock QEMU, to see the abort.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import testhost  # noqa: E402

OVMF = "/usr/share/OVMF"
MARKER = "ORIEL-UEFI-GRUB"
# GRUB's configuration on the ISO: the marker, then power off (EFI
# ResetSystem), which ends the nested QEMU with status 0.
GRUB_CFG = "echo %s\nhalt\n" % MARKER
BOOT_TIMEOUT = 420  # seconds from QEMU start to the marker, per boot
PLAIN_BOOTS = 3


def build_iso(workdir):
    """A GRUB EFI ISO (grub-mkrescue, x86_64-efi only) printing MARKER."""
    tree = os.path.join(workdir, "iso")
    os.makedirs(os.path.join(tree, "boot", "grub"))
    with open(os.path.join(tree, "boot", "grub", "grub.cfg"), "w") as f:
        f.write(GRUB_CFG)
    iso = os.path.join(workdir, "grub-efi.iso")
    r = subprocess.run(["grub-mkrescue", "-d", "/usr/lib/grub/x86_64-efi", "-o", iso, tree],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise RuntimeError("grub-mkrescue failed:\n" + r.stdout.decode(errors="replace"))
    return iso


class UefiTestHost(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for path in ["OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd", "OVMF_CODE_4M.secboot.fd"]:
            if not os.path.exists(os.path.join(OVMF, path)):
                raise unittest.SkipTest("%s/%s is missing (install ovmf: tools/install-deps)"
                                        % (OVMF, path))
        if not os.path.isdir("/usr/lib/grub/x86_64-efi"):
            raise unittest.SkipTest("grub-efi-amd64-bin is not installed (tools/install-deps)")
        testhost.ensure_assets()
        cls.workdir = tempfile.mkdtemp(prefix="oriel-uefi-host-")
        try:
            cls.iso = build_iso(cls.workdir)
            cls.th = testhost.TestHost(uefi=True)
            cls.th.start()
        except BaseException:
            shutil.rmtree(cls.workdir, ignore_errors=True)
            raise
        sys.stderr.write("test host QEMU: %s, ready after %.1f s\n"
                         % (cls.th.qemu, cls.th.boot_seconds))

    @classmethod
    def tearDownClass(cls):
        cls.th.close()
        shutil.rmtree(cls.workdir, ignore_errors=True)

    def boot_ovmf(self, name, code, machine, extra=()):
        """Boot the ISO under OVMF in the nested stock QEMU; return seconds."""
        try:
            return self._boot_ovmf(name, code, machine, extra)
        except testhost.TestHostError as e:  # the test host died or a command failed
            self.fail("%s: %s\n%s" % (name, e, self.th.diagnostics()))

    def _boot_ovmf(self, name, code, machine, extra):
        th = self.th
        vars_copy = "/tmp/%s-vars.fd" % name  # in the test host's own overlay
        th.run(["cp", os.path.join(OVMF, "OVMF_VARS_4M.fd"), vars_copy], timeout=60, check=True)
        argv = ["qemu-system-x86_64", "-enable-kvm", "-cpu", "host", "-M", machine,
                "-m", "512", "-smp", "1", "-nodefaults", "-no-user-config",
                "-display", "none", "-monitor", "none", "-serial", "stdio",
                "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + os.path.join(OVMF, code),
                "-drive", "if=pflash,format=raw,unit=1,file=" + vars_copy,
                "-cdrom", self.iso] + list(extra)
        started = time.monotonic()
        proc = th.spawn(argv)
        try:
            proc.wait_for_output(MARKER, timeout=BOOT_TIMEOUT)
        except testhost.TestHostError as e:
            try:
                proc.kill()
            except testhost.TestHostError:
                pass  # the test host is gone
            self.fail("%s: OVMF did not reach GRUB's marker: %s\n%s"
                      % (name, e, th.diagnostics()))
        seconds = time.monotonic() - started
        # The firmware started the boot loader from the CD (BDS), and GRUB's
        # halt powered the machine off through the firmware.
        self.assertIn("BdsDxe: starting Boot", proc.output)
        status = proc.wait(120)
        if status is None:
            proc.kill()
        self.assertEqual(status, 0, "%s: QEMU did not power off cleanly; output:\n%s"
                         % (name, proc.output))
        r = th.run("true", timeout=60)  # the test host is still there
        self.assertEqual(r.returncode, 0)
        sys.stderr.write("%s: GRUB marker after %.1f s\n" % (name, seconds))
        return seconds

    def test_1_ovmf_q35_boots_repeatedly(self):
        for i in range(1, PLAIN_BOOTS + 1):
            self.boot_ovmf("q35-%d" % i, "OVMF_CODE_4M.fd", "q35")

    def test_2_ovmf_secure_boot_build_with_smm(self):
        self.boot_ovmf("q35-smm-secboot", "OVMF_CODE_4M.secboot.fd", "q35,smm=on",
                       ["-global", "driver=cfi.pflash01,property=secure,value=on"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
