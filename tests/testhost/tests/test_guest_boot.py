#!/usr/bin/python3
"""QEMU with KVM inside the test host boots the second-level guest assets."""

import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import testhost  # noqa: E402


class GuestBoot(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.assets = testhost.ensure_assets()
        cls.th = testhost.TestHost()
        cls.th.start()

    @classmethod
    def tearDownClass(cls):
        cls.th.close()

    def qemu(self, kernel, append, extra=(), initrd=None, machine="pc"):
        return ["qemu-system-x86_64", "-enable-kvm", "-M", machine, "-m", "256",
                "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
                "-no-reboot", "-serial", "stdio", "-kernel", kernel,
                "-initrd", initrd or self.assets["INITRAMFS_BUSYBOX"],
                "-append", "console=ttyS0 panic=-1 quiet " + append] + list(extra)

    def test_cloud_kernel_reaches_busybox_init(self):
        p = self.th.spawn(self.qemu(self.assets["VMLINUZ_CLOUD"], "oriel.shell=0"))
        p.wait_for_output(r"ORIEL-GUEST-INIT", timeout=120)
        p.kill()
        p.wait(30)

    def test_run_parameter_reports_script_status(self):
        p = self.th.spawn(self.qemu(self.assets["VMLINUZ_GENERIC"], "oriel.run=/bin/false"))
        self.assertEqual(p.wait(180), 0, p.output)
        self.assertIn("ORIEL-GUEST-INIT", p.output)
        self.assertIn("ORIEL-GUEST-EXIT=1", p.output)

    def test_rootfs_over_virtio_blk(self):
        disk = self.assets["ROOTFS_EXT4"]
        p = self.th.spawn(self.qemu(
            self.assets["VMLINUZ_CLOUD"], "root=/dev/vda ro oriel.run=/bin/true",
            ["-drive", "file=%s,if=virtio,format=raw,readonly=on,snapshot=on" % disk]))
        self.assertEqual(p.wait(180), 0, p.output)
        self.assertIn("ORIEL-GUEST-INIT", p.output)
        self.assertIn("ORIEL-ROOTFS-INIT", p.output)
        self.assertIn("ORIEL-GUEST-EXIT=0", p.output)

    def test_extended_initramfs_runs_added_program(self):
        extend = os.path.join(HERE, "..", "..", "assets", "initramfs-extend")
        with tempfile.TemporaryDirectory(prefix="oriel-initramfs-") as tmp:
            os.makedirs(os.path.join(tmp, "extra", "usr", "bin"))
            prog = os.path.join(tmp, "extra", "usr", "bin", "probe")
            with open(prog, "w") as f:
                f.write("#!/bin/sh\necho \"probe on $(uname -r)\"\nexit 5\n")
            os.chmod(prog, 0o755)
            image = os.path.join(tmp, "extended.img")
            subprocess.run([extend, image, os.path.join(tmp, "extra")], check=True)
            p = self.th.spawn(self.qemu(self.assets["VMLINUZ_CLOUD"], "oriel.run=/usr/bin/probe",
                                        initrd=image, machine="microvm,rtc=on"))
            self.assertEqual(p.wait(180), 0, p.output)
        self.assertRegex(p.output, r"probe on %s\r?\n" % self.assets["KVER_CLOUD"])
        self.assertIn("ORIEL-GUEST-EXIT=5", p.output)


if __name__ == "__main__":
    unittest.main(verbosity=2)
