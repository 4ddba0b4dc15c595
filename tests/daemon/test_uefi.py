#!/usr/bin/python3
"""The Windows 11 platform through virt-install, virsh and python3-libvirt
against an isolated virtorield, with Debian's OVMF descriptors: firmware
auto-selection, the XML shown back, the oriel-vmm config generated for it,
the per-domain NVRAM file on the file system, undefine's NVRAM and TPM
rules, domain capabilities, and bad input.  No guest runs: the VMM is a
script that keeps the config it was given and fails."""

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_fixture import Daemon, virsh  # noqa: E402

import libvirt  # noqa: E402

CODE_MS = "/usr/share/OVMF/OVMF_CODE_4M.ms.fd"
VARS_MS = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"
CODE_PLAIN = "/usr/share/OVMF/OVMF_CODE_4M.fd"
VARS_PLAIN = "/usr/share/OVMF/OVMF_VARS_4M.fd"
DESCRIPTORS = "/usr/share/qemu/firmware/40-edk2-x86_64-secure-enrolled.json"

RECORDING_VMM = """#!/bin/sh
# Keeps the --config file it was started with, then fails to start.
n=1
while [ -e "{out}/vmm.conf.$n" ]; do n=$((n + 1)); done
cp "$2" "{out}/vmm.conf.$n"
echo "recording VMM: no guest runs here" >&2
exit 1
"""

# What virt-install writes for Windows 11 given the platform explicitly
# (it chooses q35, UEFI and such itself only for qemu:// connections).
VIRT_INSTALL_WIN11 = [
    "--osinfo", "win11", "--machine", "q35",
    "--boot", "uefi,firmware.feature0.name=secure-boot,firmware.feature0.enabled=yes,"
              "firmware.feature1.name=enrolled-keys,firmware.feature1.enabled=yes",
    "--features", "smm.state=on,hyperv.relaxed.state=on,hyperv.vapic.state=on,"
                  "hyperv.spinlocks.state=on,hyperv.spinlocks.retries=8191",
    "--clock", "offset=localtime,hypervclock_present=yes",
    "--disk", "size=1,bus=sata",
    "--network", "network=default,model=e1000e",
    "--controller", "usb,model=qemu-xhci", "--input", "tablet,bus=usb",
    "--graphics", "vnc", "--noautoconsole",
]

UEFI_XML = """<domain type='kvm'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>
  <os{firmware}>
    <type arch='x86_64' machine='{machine}'>hvm</type>
    {os}
  </os>
  <features><acpi/>{features}</features>
  <devices>{devices}</devices>
</domain>
"""


def uefi_xml(name, os_xml="", firmware=" firmware='efi'", machine="q35", features="<smm state='on'/>",
             devices=""):
    return UEFI_XML.format(name=name, os=os_xml, firmware=firmware, machine=machine, features=features,
                           devices=devices)


@unittest.skipUnless(os.path.exists(DESCRIPTORS) and os.path.exists(CODE_MS),
                     "Debian's ovmf (firmware descriptors) is not installed")
class UefiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="virtorield-uefi-")
        cls.confs = os.path.join(cls.tmp, "confs")
        os.mkdir(cls.confs)
        vmm = os.path.join(cls.tmp, "recording-vmm")
        with open(vmm, "w") as f:
            f.write(RECORDING_VMM.format(out=cls.confs))
        os.chmod(vmm, 0o755)
        cls.daemon = Daemon(vmm=vmm, root=os.path.join(cls.tmp, "d")).start()
        cls.uri = cls.daemon.uri
        cls.conn = libvirt.open(cls.uri)

    @classmethod
    def tearDownClass(cls):
        cls.conn.close()
        cls.daemon.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def tearDown(self):
        self.assertTrue(self.daemon.alive(), self.daemon.read_log())

    def names(self):
        return virsh(self.uri, "list", "--all", "--name").stdout.split()

    def nvram(self, name):
        return os.path.join(self.daemon.nvram_dir, name + "_VARS.fd")

    def start_and_get_config(self, name):
        """Start (the recording VMM fails) and return the config it got."""
        before = set(os.listdir(self.confs))
        r = virsh(self.uri, "start", name, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("oriel-vmm exited with status 1", r.stderr)
        new = set(os.listdir(self.confs)) - before
        self.assertEqual(len(new), 1, r.stderr + self.daemon.read_log()[-3000:])
        with open(os.path.join(self.confs, new.pop())) as f:
            return f.read().splitlines()

    def define_fails(self, xml, code, needle):
        with self.assertRaises(libvirt.libvirtError) as cm:
            self.conn.defineXML(xml)
        self.assertEqual(cm.exception.get_error_code(), code, str(cm.exception))
        self.assertIn(needle, str(cm.exception))
        name = ET.fromstring(xml).find("name").text
        self.assertNotIn(name, self.names())
        self.assertFalse(os.path.exists(self.nvram(name)))

    def test_win11_virt_install(self):
        iso = os.path.join(self.daemon.image_dir, "win11.iso")
        with open(iso, "wb") as f:
            f.truncate(4 << 20)
        r = subprocess.run(["virt-install", "--connect", self.uri, "--name", "w11", "--cdrom", iso,
                            "--print-xml", "1"] + VIRT_INSTALL_WIN11,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.conn.defineXML(r.stdout)

        dom = ET.fromstring(virsh(self.uri, "dumpxml", "w11").stdout)
        os_el = dom.find("os")
        self.assertEqual(os_el.get("firmware"), "efi")
        self.assertEqual(os_el.find("type").get("machine"), "q35")
        feats = {f.get("name"): f.get("enabled") for f in os_el.findall("firmware/feature")}
        self.assertEqual(feats, {"secure-boot": "yes", "enrolled-keys": "yes"})
        loader = os_el.find("loader")
        self.assertEqual((loader.get("readonly"), loader.get("secure"), loader.get("type"), loader.text),
                         ("yes", "yes", "pflash", CODE_MS))
        nvram = os_el.find("nvram")
        self.assertEqual((nvram.get("template"), nvram.text), (VARS_MS, self.nvram("w11")))
        self.assertEqual(dom.find("features/smm").get("state"), "on")
        self.assertEqual(dom.find("features/hyperv/spinlocks").get("retries"), "8191")
        self.assertEqual(dom.find("clock").get("offset"), "localtime")
        self.assertIsNotNone(dom.find("clock/timer[@name='hypervclock']"))
        tpm = dom.find("devices/tpm")
        self.assertEqual(tpm.get("model"), "tpm-crb")
        self.assertEqual((tpm.find("backend").get("type"), tpm.find("backend").get("version")),
                         ("emulator", "2.0"))
        self.assertEqual(dom.find("devices/interface/model").get("type"), "e1000e")
        self.assertEqual(dom.find("devices/controller[@type='usb']").get("model"), "qemu-xhci")
        self.assertEqual(dom.find("devices/input[@type='tablet']").get("bus"), "usb")
        disks = {d.get("device"): d.find("target").get("bus") for d in dom.findall("devices/disk")}
        self.assertEqual(disks, {"disk": "sata", "cdrom": "sata"})
        # Defined, not started: no NVRAM file yet.
        self.assertFalse(os.path.exists(self.nvram("w11")))

        conf = self.start_and_get_config("w11")
        self.assertIn("machine = q35,smm=on", conf)
        self.assertIn("uefi = code=%s,vars=%s,secure=on" % (CODE_MS, self.nvram("w11")), conf)
        self.assertIn("usb = xhci", conf)
        self.assertIn("rtc-base = localtime", conf)
        self.assertIn("cdrom = " + iso, conf)
        self.assertTrue(any(l.startswith("net = user,") and l.endswith(",model=e1000e") for l in conf), conf)
        self.assertTrue(any(l.startswith("disk = ") and ",if=ahci," in l for l in conf), conf)
        self.assertTrue(any(l.startswith("tpm = swtpm=") for l in conf), conf)
        self.assertTrue(any(l.startswith("hyperv = relaxed,vapic,spinlocks=8191") for l in conf), conf)
        self.assertFalse(any(l.startswith("bios") for l in conf), conf)

        # The NVRAM file: the template's copy, private, in a private directory.
        path = self.nvram("w11")
        with open(path, "rb") as a, open(VARS_MS, "rb") as b:
            self.assertEqual(a.read(), b.read())
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(self.daemon.nvram_dir).st_mode), 0o700)
        # What the guest wrote is never replaced by the template.
        with open(path, "r+b") as f:
            f.write(b"GUEST")
        self.start_and_get_config("w11")
        with open(path, "rb") as f:
            self.assertEqual(f.read(5), b"GUEST")

        # undefine: refused while the NVRAM file exists, then --nvram.
        dom_obj = self.conn.lookupByName("w11")
        with self.assertRaises(libvirt.libvirtError) as cm:
            dom_obj.undefine()
        self.assertEqual(cm.exception.get_error_code(), libvirt.VIR_ERR_OPERATION_INVALID)
        self.assertIn("cannot undefine domain with nvram", str(cm.exception))
        r = virsh(self.uri, "undefine", "w11", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("cannot undefine domain with nvram", r.stderr)
        self.assertIn("w11", self.names())
        self.assertTrue(os.path.exists(path))
        virsh(self.uri, "undefine", "w11", "--nvram")
        self.assertNotIn("w11", self.names())
        self.assertFalse(os.path.exists(path))

    def test_keep_nvram_and_tpm_rules(self):
        tpm = "<tpm model='tpm-crb'><backend type='emulator' version='2.0'%s/></tpm>"
        cases = [
            # (persistent_state, undefine flags, NVRAM kept, TPM state kept)
            ("", ["--keep-nvram"], True, False),
            ("", ["--nvram", "--keep-tpm"], False, True),
            (" persistent_state='yes'", ["--nvram"], False, True),
            (" persistent_state='yes'", ["--nvram", "--tpm"], False, False),
        ]
        for i, (persistent, flags, nvram_kept, tpm_kept) in enumerate(cases):
            with self.subTest(persistent=persistent, flags=flags):
                name = "t-keep%d" % i
                d = self.conn.defineXML(uefi_xml(name, devices=tpm % persistent))
                if persistent:
                    self.assertIn("persistent_state='yes'", d.XMLDesc(0))
                self.start_and_get_config(name)
                self.assertTrue(os.path.exists(self.nvram(name)))
                state = os.path.join(self.daemon.tpm_dir, d.UUIDString(), "tpm2")
                os.makedirs(state, exist_ok=True)
                with open(os.path.join(state, "tpm2-00.permall"), "wb") as f:
                    f.write(b"state")
                virsh(self.uri, "undefine", name, *flags)
                self.assertNotIn(name, self.names())
                self.assertEqual(os.path.exists(self.nvram(name)), nvram_kept)
                self.assertEqual(os.path.exists(state), tpm_kept)
                shutil.rmtree(os.path.join(self.daemon.tpm_dir, d.UUIDString()), ignore_errors=True)
                if nvram_kept:
                    os.unlink(self.nvram(name))
        # Contradicting flags.
        self.conn.defineXML(uefi_xml("t-both"))
        r = virsh(self.uri, "undefine", "t-both", "--nvram", "--keep-nvram", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("t-both", self.names())
        # Never started: no NVRAM file, so plain undefine works.
        virsh(self.uri, "undefine", "t-both")

    def test_explicit_loader_and_pc(self):
        # An explicit pflash loader: the template comes from its descriptor.
        xml = uefi_xml("t-explicit", firmware="", features="",
                       os_xml="<loader readonly='yes' type='pflash'>%s</loader>" % CODE_PLAIN)
        self.conn.defineXML(xml)
        os_el = ET.fromstring(virsh(self.uri, "dumpxml", "t-explicit").stdout).find("os")
        self.assertIsNone(os_el.get("firmware"))
        self.assertEqual(os_el.find("nvram").get("template"), VARS_PLAIN)
        conf = self.start_and_get_config("t-explicit")
        self.assertIn("machine = q35", conf)
        self.assertIn("uefi = code=%s,vars=%s" % (CODE_PLAIN, self.nvram("t-explicit")), conf)
        virsh(self.uri, "undefine", "t-explicit", "--nvram")
        # firmware='efi' on i440FX: the firmware without SMM; no machine line.
        self.conn.defineXML(uefi_xml("t-pc", machine="pc", features=""))
        loader = ET.fromstring(virsh(self.uri, "dumpxml", "t-pc").stdout).find("os/loader")
        self.assertEqual((loader.text, loader.get("secure")), (CODE_PLAIN, None))
        conf = self.start_and_get_config("t-pc")
        self.assertFalse(any(l.startswith("machine") for l in conf), conf)
        self.assertIn("uefi = code=%s,vars=%s" % (CODE_PLAIN, self.nvram("t-pc")), conf)
        virsh(self.uri, "undefine", "t-pc", "--nvram")

    def test_bad_input(self):
        secure = "<firmware><feature enabled='yes' name='secure-boot'/></firmware>"
        self.define_fails(uefi_xml("t-bad1", machine="pc", features="", os_xml=secure),
                          libvirt.VIR_ERR_OPERATION_FAILED, "Unable to find any firmware to satisfy 'efi'")
        self.define_fails(uefi_xml("t-bad2", firmware="", features="",
                                   os_xml="<loader readonly='yes' secure='yes' type='pflash'>%s</loader>" % CODE_MS),
                          libvirt.VIR_ERR_CONFIG_UNSUPPORTED, "Secure boot requires SMM feature enabled")
        self.define_fails(uefi_xml("t-bad3", firmware="",
                                   os_xml="<loader readonly='yes' type='pflash'>/nonexistent/OVMF_CODE.fd</loader>"
                                          "<nvram template='%s'/>" % VARS_PLAIN),
                          libvirt.VIR_ERR_OPERATION_FAILED, "/nonexistent/OVMF_CODE.fd")
        small = os.path.join(self.tmp, "VARS-2M.fd")
        with open(small, "wb") as f:
            f.truncate(131072)
        self.define_fails(uefi_xml("t-bad4", firmware="",
                                   os_xml="<loader readonly='yes' type='pflash'>%s</loader>"
                                          "<nvram template='%s'/>" % (CODE_PLAIN, small)),
                          libvirt.VIR_ERR_CONFIG_UNSUPPORTED, "does not belong to loader")
        odd = os.path.join(self.tmp, "odd.fd")
        with open(odd, "wb") as f:
            f.truncate(1000)
        self.define_fails(uefi_xml("t-bad5", firmware="",
                                   os_xml="<loader readonly='yes' type='pflash'>%s</loader>"
                                          "<nvram template='%s'/>" % (odd, VARS_PLAIN)),
                          libvirt.VIR_ERR_CONFIG_UNSUPPORTED, "is not a flash image")
        self.define_fails(uefi_xml("t-bad6", firmware="",
                                   os_xml="<loader readonly='yes' type='pflash'>%s</loader>"
                                          "<nvram>relative/x_VARS.fd</nvram>" % CODE_PLAIN),
                          libvirt.VIR_ERR_CONFIG_UNSUPPORTED, "absolute")

    def test_smm_on_i440fx_refused_at_start(self):
        self.conn.defineXML(uefi_xml("t-smm", firmware="", machine="pc", os_xml="<kernel>/boot/vmlinuz</kernel>"))
        r = virsh(self.uri, "start", "t-smm", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("SMM needs the Q35 machine", r.stderr)
        virsh(self.uri, "undefine", "t-smm")

    def test_domain_capabilities(self):
        caps = ET.fromstring(self.conn.getDomainCapabilities(None, "x86_64", "q35", "kvm", 0))
        self.assertEqual(caps.find("machine").text, "pc-q35-oriel")
        self.assertEqual([v.text for v in caps.findall("os/enum[@name='firmware']/value")], ["efi"])
        loaders = [v.text for v in caps.findall("os/loader/value")]
        self.assertIn(CODE_MS, loaders)
        self.assertIn(CODE_PLAIN, loaders)
        self.assertEqual([v.text for v in caps.findall("os/loader/enum[@name='type']/value")], ["rom", "pflash"])
        self.assertEqual([v.text for v in caps.findall("os/loader/enum[@name='secure']/value")], ["yes", "no"])
        tpm = caps.find("devices/tpm")
        self.assertEqual(tpm.get("supported"), "yes")
        self.assertEqual([v.text for v in tpm.findall("enum[@name='model']/value")], ["tpm-crb"])
        self.assertEqual([v.text for v in tpm.findall("enum[@name='backendModel']/value")], ["emulator"])
        self.assertEqual([v.text for v in tpm.findall("enum[@name='backendVersion']/value")], ["2.0"])
        self.assertIn("relaxed", [v.text for v in caps.findall("features/hyperv/enum/value")])
        # i440FX: only firmware without SMM, no secure boot.
        pc = ET.fromstring(virsh(self.uri, "domcapabilities", "--machine", "pc").stdout)
        self.assertEqual([v.text for v in pc.findall("os/loader/value")], [CODE_PLAIN])
        self.assertEqual([v.text for v in pc.findall("os/loader/enum[@name='secure']/value")], ["no"])
        r = virsh(self.uri, "domcapabilities", "--machine", "virt", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("'virt'", r.stderr)
        # The capabilities list the Q35 machine for clients that look there.
        self.assertIn("<machine canonical='pc-q35-oriel' maxCpus='64'>q35</machine>",
                      self.conn.getCapabilities())


if __name__ == "__main__":
    unittest.main(verbosity=2)
