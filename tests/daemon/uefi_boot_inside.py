#!/usr/bin/python3
"""Inside the UEFI test host: virtorield starts the Windows 11-shaped
domain (q35 with SMM, OVMF chosen from Debian's descriptors, NVRAM copied
from the template, tpm-crb, e1000e, xHCI tablet, SATA) and OVMF boots a
GRUB EFI CD-ROM that prints a marker on the serial console and powers
off.  The NVRAM file then holds what OVMF wrote; undefine --nvram removes
it.  The domain asks for the firmware without Secure Boot because the
CD's GRUB is unsigned; Secure Boot itself, with Debian's signed chain, is
firmware-secure-boot's (hypervisor/tests/firmware/firmware-uefi.py)."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_fixture import Daemon, virsh, wait_until  # noqa: E402
from lifecycle_inside import Console  # noqa: E402

import libvirt  # noqa: E402

MARKER = "ORIEL-DAEMON-UEFI-GRUB"
VARS_TEMPLATE = "/usr/share/OVMF/OVMF_VARS_4M.fd"
BOOT_TIMEOUT = 600

DOMAIN = """<domain type='kvm'>
  <name>w11boot</name>
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <os firmware='efi'>
    <type arch='x86_64' machine='q35'>hvm</type>
    <firmware>
      <feature enabled='no' name='enrolled-keys'/>
      <feature enabled='no' name='secure-boot'/>
    </firmware>
    <boot dev='cdrom'/>
  </os>
  <features><acpi/><apic/><smm state='on'/>
    <hyperv mode='custom'><relaxed state='on'/><vapic state='on'/><spinlocks state='on' retries='8191'/></hyperv>
  </features>
  <clock offset='localtime'><timer name='hypervclock' present='yes'/></clock>
  <on_reboot>destroy</on_reboot>
  <devices>
    <disk type='file' device='cdrom'><source file='{iso}'/><target dev='sdb' bus='sata'/><readonly/></disk>
    <controller type='usb' model='qemu-xhci'/>
    <interface type='network'><source network='default'/><model type='e1000e'/></interface>
    <serial type='pty'/><console type='pty'/>
    <input type='tablet' bus='usb'/>
    <tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>
  </devices>
</domain>
"""


def build_iso(workdir):
    tree = os.path.join(workdir, "iso")
    os.makedirs(os.path.join(tree, "boot", "grub"))
    with open(os.path.join(tree, "boot", "grub", "grub.cfg"), "w") as f:
        f.write("echo %s\nhalt\n" % MARKER)
    iso = os.path.join(workdir, "grub-efi.iso")
    subprocess.run(["grub-mkrescue", "-d", "/usr/lib/grub/x86_64-efi", "-o", iso, tree],
                   check=True, capture_output=True)
    return iso


class UefiBoot(unittest.TestCase):
    def test_win11_platform_boots_grub(self):
        work = tempfile.mkdtemp(prefix="uefi-boot-")
        daemon = Daemon().start()
        try:
            iso = build_iso(work)
            conn = libvirt.open(daemon.uri)
            conn.defineXML(DOMAIN.format(iso=iso))
            conn.close()
            nvram = os.path.join(daemon.nvram_dir, "w11boot_VARS.fd")
            virsh(daemon.uri, "start", "w11boot")
            self.assertTrue(os.path.exists(nvram))
            con = Console(daemon.uri, "w11boot")
            con.expect(MARKER, timeout=BOOT_TIMEOUT)
            # GRUB's halt powers the VM off through the firmware; the
            # console stream ends with it.
            con.wait_exit(timeout=120)
            wait_until(lambda: virsh(daemon.uri, "domstate", "w11boot").stdout.strip() == "shut off",
                       60, "the domain to be shut off")
            with open(nvram, "rb") as a, open(VARS_TEMPLATE, "rb") as b:
                self.assertNotEqual(a.read(), b.read(), "OVMF wrote nothing to the NVRAM file")
            virsh(daemon.uri, "undefine", "w11boot", "--nvram")
            self.assertFalse(os.path.exists(nvram))
        finally:
            alive = daemon.alive()
            log = daemon.read_log()
            daemon.cleanup()
            shutil.rmtree(work, ignore_errors=True)
            self.assertTrue(alive, log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
