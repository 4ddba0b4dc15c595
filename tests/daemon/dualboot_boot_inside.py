#!/usr/bin/python3
"""A dual-boot domain really running: virtorield starts the real oriel-vmm
on the synthetic disk of dualboot_fixture's disk (a loop device here in
the test host), a Linux guest reads and writes it through AHCI.  Runs
inside the test host (test_dualboot_boot.py starts it there).

The guest sees the ESP and the Windows partition as on the disk and zeros
where the Linux partition is; its write to the Linux partition fails; its
write to the Windows partition lands in the trial overlay and not on the
disk.  While it runs the disk's lock is the VMM's: a second domain on the
disk is refused naming its process, and destroy gives the lock back."""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "testhost"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "dualboot", "tests"))
from daemon_fixture import Daemon, virsh, wait_until  # noqa: E402
from lifecycle_inside import Console, KERNEL, INITRD  # noqa: E402
from test_dualboot import domain_xml, tool  # noqa: E402
from test_dualboot_loop import LoopDisk  # noqa: E402
import dualboot_fixture as fx  # noqa: E402

MIB = 1024 * 1024


def guest_xml(name, device):
    xml = domain_xml(name, device, bus="sata")
    return xml.replace(
        "<os><type arch='x86_64' machine='q35'>hvm</type></os>",
        "<os><type arch='x86_64' machine='pc'>hvm</type><kernel>%s</kernel><initrd>%s</initrd>"
        "<cmdline>console=ttyS0 panic=-1</cmdline></os>" % (KERNEL, INITRD)).replace(
        "<target dev='nvme0n1' bus='sata'/>", "<target dev='sda' bus='sata'/>").replace(
        "  </devices>", "    <serial type='pty'/>\n    <console type='pty'/>\n  </devices>")


def md5_of(path, offset_mib, size_mib):
    h = hashlib.md5()
    with open(path, "rb") as f:
        f.seek(offset_mib * MIB)
        h.update(f.read(size_mib * MIB))
    return h.hexdigest()


class DualbootBoot(unittest.TestCase):
    def test_trial_guest_on_synthetic_disk(self):
        work = tempfile.mkdtemp(prefix="dualboot-boot-")
        image = os.path.join(work, "disk.img")
        shutil.copyfile(os.environ["DUALBOOT_IMAGE"], image)
        subprocess.run(["modprobe", "loop"], capture_output=True)
        disk = LoopDisk(image)
        dev = disk.device
        daemon = Daemon(root=os.path.join(work, "d"),
                        extra_args=["--dualboot-dir", os.path.join(work, "d", "dualboot")]).start()
        con = None
        try:
            esp, win, linux = (md5_of(dev, *fx.ESP), md5_of(dev, *fx.WIN), md5_of(dev, *fx.LINUX))
            path = os.path.join(work, "win.xml")
            with open(path, "w") as f:
                f.write(guest_xml("win", dev))
            virsh(daemon.uri, "define", path)
            virsh(daemon.uri, "start", "win")
            con = Console(daemon.uri, "win")
            con.wait_for_prompt()

            def ask(tag, command):
                # The quotes keep the echoed command line from matching.
                con.send("echo '@@'%s=$(%s)\r" % (tag, command))
                return con.expect(r"@@%s=([^\r\n]*)\r?\n" % tag, timeout=120).group(1).decode().strip()

            ask("DEV", "n=0; while [ ! -b /dev/sda ] && [ $n -lt 200 ]; do usleep 50000; n=$((n+1)); done; echo ok")
            size = ask("SIZE", "cat /sys/block/sda/size")
            self.assertEqual(int(size) * 512, fx.DISK_MIB * MIB)
            read = lambda tag, span: ask(tag, "dd if=/dev/sda bs=1M skip=%d count=%d 2>/dev/null | md5sum"  # noqa: E731
                                         % span).split()[0]
            self.assertEqual(read("ESP", fx.ESP), esp)
            self.assertEqual(read("WIN", fx.WIN), win)
            zeros = hashlib.md5(bytes(fx.LINUX[1] * MIB)).hexdigest()
            self.assertEqual(read("LINUX", fx.LINUX), zeros)
            # A write where Linux lives fails; one to Windows goes to the overlay.
            rc = ask("WLINUX", "dd if=/dev/urandom of=/dev/sda bs=4096 seek=%d count=1 conv=fsync 2>/dev/null; "
                     "echo $?" % (fx.LINUX[0] * 256))
            self.assertNotEqual(rc, "0")
            rc = ask("WWIN", "dd if=/dev/urandom of=/dev/sda bs=4096 seek=%d count=1 conv=fsync 2>/dev/null; "
                     "echo $?" % (fx.WIN[0] * 256 + 16))
            self.assertEqual(rc, "0")
            self.assertNotEqual(read("WIN2", fx.WIN), win)

            # The running VMM holds the disk's lock.
            pid = int(open(os.path.join(daemon.state_dir, [n for n in os.listdir(daemon.state_dir)
                                                            if re.fullmatch(r"[0-9a-f-]{36}", n)][0],
                                        "pid")).read())
            with open(os.path.join(work, "win2.xml"), "w") as f:
                f.write(guest_xml("win2", dev))
            virsh(daemon.uri, "define", os.path.join(work, "win2.xml"))
            r = virsh(daemon.uri, "start", "win2", check=False)
            self.assertIn("disk-lock: Another virtual machine is using this disk (process %d)." % pid, r.stderr)
            lock = subprocess.run([tool(), "lock", "--device", dev, "--lock-dir", daemon.state_dir],
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True)
            self.assertEqual(lock.returncode, 1, lock.stdout + lock.stderr)

            con.detach()
            con = None
            virsh(daemon.uri, "destroy", "win")
            wait_until(lambda: subprocess.run([tool(), "lock", "--device", dev, "--lock-dir", daemon.state_dir],
                                              stdin=subprocess.DEVNULL, capture_output=True).returncode == 0,
                       30, "the lock to be free")
            # Trial mode: the disk is as it was; the overlay has the write.
            self.assertEqual((md5_of(dev, *fx.ESP), md5_of(dev, *fx.WIN), md5_of(dev, *fx.LINUX)),
                             (esp, win, linux))
            trial = os.path.join(work, "d", "dualboot", "win", "trial.qcow2")
            out = subprocess.run(["qemu-img", "map", "--output=json", trial], check=True, capture_output=True,
                                 text=True).stdout
            self.assertIn('"data": true', out)
            subprocess.run(["qemu-img", "check", trial], check=True, capture_output=True)
        finally:
            if con:
                con.detach()
            for name in ("win", "win2"):
                virsh(daemon.uri, "destroy", name, check=False)
            log = daemon.read_log()
            alive = daemon.alive()
            daemon.cleanup()
            disk.close()
            shutil.rmtree(work, ignore_errors=True)
            self.assertTrue(alive, log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
