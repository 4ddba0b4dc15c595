#!/usr/bin/python3
"""virsh, virt-install and python3-libvirt against an isolated virtorield:
everything that needs no running guest."""

import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_fixture import Daemon, demo_xml, virsh  # noqa: E402

import libvirt  # noqa: E402

FC4_CFG = """# classic xm config
kernel = "/boot/vmlinuz-2.6.11-1.1366_FC4xenU"
ramdisk = "/boot/initrd-2.6.11-1.1366_FC4xenU.img"
memory = 128
name = "fc4"
uuid = "4dea22b3-1d52-d8f3-2516-782e98ab3fa0"
vcpus = 2
vif = [ 'mac=00:16:3e:00:00:11, bridge=xenbr0' ]
disk = [ 'file:/var/lib/xen/images/fc4.img,xvda,w',
         'phy:/dev/sdb,xvdb,r' ]
root = "/dev/xvda1 ro"
extra = "console=hvc0"
on_poweroff = 'destroy'
on_reboot   = 'restart'
on_crash    = 'preserve'
vnc = 1
"""


class VirshTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # No guest runs here: a VMM that always fails is enough.
        cls.daemon = Daemon(vmm="/bin/false").start()
        cls.uri = cls.daemon.uri

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()

    def tearDown(self):
        self.assertTrue(self.daemon.alive(), self.daemon.read_log())

    def define(self, name, **kw):
        with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as f:
            f.write(demo_xml(name=name, **kw))
        try:
            return virsh(self.uri, "define", f.name)
        finally:
            os.unlink(f.name)

    def test_version_nodeinfo(self):
        out = virsh(self.uri, "version").stdout
        self.assertIn("Running hypervisor: Oriel", out)
        out = virsh(self.uri, "nodeinfo").stdout
        self.assertIn("CPU(s):", out)
        cpus = int([l for l in out.splitlines() if l.startswith("CPU(s):")][0].split()[-1])
        self.assertEqual(cpus, os.cpu_count())
        self.assertEqual(virsh(self.uri, "hostname").stdout.strip(), os.uname().nodename)

    def test_node_stats_and_sysinfo(self):
        """virsh nodecpustats, nodememstats and sysinfo show the host's own
        counters and SMBIOS."""
        def fields(out):
            return {l.split(":")[0].strip(): int(l.split(":")[1].split()[0])
                    for l in out.splitlines() if ":" in l}
        cpu = fields(virsh(self.uri, "nodecpustats").stdout)
        self.assertEqual(set(cpu), {"user", "system", "idle", "iowait"})
        self.assertGreater(cpu["user"] + cpu["system"] + cpu["idle"], 0)
        one = fields(virsh(self.uri, "nodecpustats", "--cpu", "0").stdout)
        self.assertLessEqual(one["idle"], cpu["idle"] + 10**10)
        r = virsh(self.uri, "nodecpustats", "--cpu", str(os.cpu_count() + 7), check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no such CPU", r.stderr)

        mem = fields(virsh(self.uri, "nodememstats").stdout)
        self.assertEqual(set(mem), {"total", "free", "buffers", "cached"})
        with open("/proc/meminfo") as f:
            total = int(f.readline().split()[1])
        self.assertEqual(mem["total"], total)
        self.assertLess(mem["free"], mem["total"])
        r = virsh(self.uri, "nodememstats", "--cell", "4095", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no such NUMA node", r.stderr)

        sysinfo = ET.fromstring(virsh(self.uri, "sysinfo").stdout)
        self.assertEqual(sysinfo.get("type"), "smbios")
        self.assertIsNotNone(sysinfo.find("system"))
        vendor = "/sys/class/dmi/id/sys_vendor"
        if os.path.exists(vendor):
            with open(vendor) as f:
                self.assertEqual(sysinfo.find("system/entry[@name='manufacturer']").text, f.read().strip())
        # The same through python3-libvirt.
        conn = libvirt.open(self.uri)
        try:
            self.assertEqual(conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS)["total"], total)
            self.assertIn("user", conn.getCPUStats(libvirt.VIR_NODE_CPU_STATS_ALL_CPUS))
        finally:
            conn.close()

    def test_capabilities(self):
        caps = ET.fromstring(virsh(self.uri, "capabilities").stdout)
        guest = caps.find("guest")
        self.assertEqual(guest.findtext("os_type"), "hvm")
        self.assertEqual(guest.find("arch").get("name"), "x86_64")
        self.assertEqual(guest.find("arch/domain").get("type"), "kvm")
        self.assertEqual(caps.findtext("host/cpu/arch"), "x86_64")
        dc = ET.fromstring(virsh(self.uri, "domcapabilities").stdout)
        self.assertEqual(dc.findtext("domain"), "kvm")
        self.assertEqual(dc.find("devices/graphics").get("supported"), "yes")

    def test_define_list_dumpxml_undefine(self):
        self.define("t-basic")
        names = virsh(self.uri, "list", "--all", "--name").stdout.split()
        self.assertIn("t-basic", names)
        self.assertNotIn("t-basic", virsh(self.uri, "list", "--name").stdout.split())
        xml = ET.fromstring(virsh(self.uri, "dumpxml", "t-basic").stdout)
        self.assertEqual(xml.get("type"), "kvm")
        self.assertIsNone(xml.get("id"))
        self.assertEqual(xml.findtext("name"), "t-basic")
        self.assertEqual(xml.findtext("title"), "A test domain")
        self.assertEqual(xml.findtext("memory"), str(256 * 1024))
        mac = xml.find("devices/interface/mac").get("address")
        self.assertRegex(mac, r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
        # the MAC assigned at define time is stable
        xml2 = ET.fromstring(virsh(self.uri, "dumpxml", "t-basic").stdout)
        self.assertEqual(xml2.find("devices/interface/mac").get("address"), mac)
        info = virsh(self.uri, "dominfo", "t-basic").stdout
        self.assertIn("shut off", info)
        self.assertRegex(info, r"Persistent:\s+yes")
        self.assertEqual(virsh(self.uri, "domstate", "t-basic").stdout.strip(), "shut off")
        uuid = virsh(self.uri, "domuuid", "t-basic").stdout.strip()
        self.assertEqual(virsh(self.uri, "domname", uuid).stdout.strip(), "t-basic")
        virsh(self.uri, "undefine", "t-basic")
        self.assertNotIn("t-basic", virsh(self.uri, "list", "--all", "--name").stdout.split())
        r = virsh(self.uri, "dominfo", "t-basic", check=False)
        self.assertNotEqual(r.returncode, 0)
        conn = libvirt.open(self.uri)
        with self.assertRaises(libvirt.libvirtError) as cm:
            conn.lookupByName("t-basic")
        self.assertEqual(cm.exception.get_error_code(), libvirt.VIR_ERR_NO_DOMAIN)
        self.assertIn("Domain not found", str(cm.exception))
        conn.close()

    def test_redefine_keeps_uuid_and_updates(self):
        self.define("t-redef")
        uuid = virsh(self.uri, "domuuid", "t-redef").stdout.strip()
        xml = virsh(self.uri, "dumpxml", "t-redef").stdout.replace(
            "<memory unit='KiB'>262144</memory>", "<memory unit='KiB'>524288</memory>")
        with tempfile.NamedTemporaryFile("w", suffix=".xml") as f:
            f.write(xml)
            f.flush()
            virsh(self.uri, "define", f.name)
        self.assertEqual(virsh(self.uri, "domuuid", "t-redef").stdout.strip(), uuid)
        self.assertIn("524288 KiB", virsh(self.uri, "dominfo", "t-redef").stdout)
        virsh(self.uri, "undefine", "t-redef")

    def test_unsupported_elements_are_named(self):
        bad = demo_xml(name="t-bad").replace("<devices>", "<devices><sound model='ich9'/>")
        with tempfile.NamedTemporaryFile("w", suffix=".xml") as f:
            f.write(bad)
            f.flush()
            r = virsh(self.uri, "define", f.name, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("<sound>", r.stderr)
        with tempfile.NamedTemporaryFile("w", suffix=".xml") as f:
            f.write("<domain type='kvm'><name>x</name>")
            f.flush()
            r = virsh(self.uri, "define", f.name, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("XML error", r.stderr)
        self.assertNotIn("t-bad", virsh(self.uri, "list", "--all", "--name").stdout.split())

    def test_e1000e_kept(self):
        xml = demo_xml(name="t-nic").replace("<model type='virtio'/>", "<model type='e1000e'/>")
        with tempfile.NamedTemporaryFile("w", suffix=".xml") as f:
            f.write(xml)
            f.flush()
            virsh(self.uri, "define", f.name)
        out = virsh(self.uri, "dumpxml", "t-nic").stdout
        self.assertIn("<model type='e1000e'/>", out)
        virsh(self.uri, "undefine", "t-nic")
        # A definition from the time e1000e ran as e1000 (with a note) is e1000e again.
        old = demo_xml(name="t-nic2").replace(
            "<model type='virtio'/>",
            "<!-- model 'e1000e' was requested; Oriel emulates 'e1000' in its place --><model type='e1000'/>")
        with tempfile.NamedTemporaryFile("w", suffix=".xml") as f:
            f.write(old)
            f.flush()
            virsh(self.uri, "define", f.name)
        self.assertIn("<model type='e1000e'/>", virsh(self.uri, "dumpxml", "t-nic2").stdout)
        virsh(self.uri, "undefine", "t-nic2")

    def test_autostart_and_list_filters(self):
        self.define("t-auto")
        self.define("t-noauto")
        virsh(self.uri, "autostart", "t-auto")
        self.assertEqual(virsh(self.uri, "list", "--all", "--autostart", "--name").stdout.split(), ["t-auto"])
        self.assertIn("t-noauto", virsh(self.uri, "list", "--all", "--no-autostart", "--name").stdout.split())
        self.assertNotIn("t-auto", virsh(self.uri, "list", "--all", "--no-autostart", "--name").stdout.split())
        self.assertEqual(virsh(self.uri, "list", "--transient", "--all", "--name").stdout.split(), [])
        virsh(self.uri, "autostart", "--disable", "t-auto")
        self.assertEqual(virsh(self.uri, "list", "--all", "--autostart", "--name").stdout.split(), [])
        virsh(self.uri, "undefine", "t-auto")
        virsh(self.uri, "undefine", "t-noauto")

    def test_domain_stats(self):
        self.define("t-stats", memory=192)
        out = virsh(self.uri, "domstats", "t-stats").stdout
        self.assertIn("state.state=5", out)               # shut off
        self.assertIn("balloon.maximum=196608", out)
        self.assertNotIn("cpu.time", out)                 # only while running
        # The bulk call with the daemon filtering: inactive yes, active no.
        self.assertIn("Domain: 't-stats'", virsh(self.uri, "domstats", "--list-inactive").stdout)
        self.assertNotIn("t-stats", virsh(self.uri, "domstats", "--list-active").stdout)
        conn = libvirt.open(self.uri)
        try:
            records = {d.name(): st for d, st in conn.getAllDomainStats(
                libvirt.VIR_DOMAIN_STATS_STATE | libvirt.VIR_DOMAIN_STATS_VCPU)}
            self.assertEqual(records["t-stats"]["state.state"], libvirt.VIR_DOMAIN_SHUTOFF)
            self.assertEqual(records["t-stats"]["vcpu.current"], 1)
            self.assertNotIn("balloon.current", records["t-stats"])
            with self.assertRaises(libvirt.libvirtError) as cm:
                conn.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_INTERFACE,
                                       libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS)
            self.assertEqual(cm.exception.get_error_code(), libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED)
        finally:
            conn.close()
        virsh(self.uri, "undefine", "t-stats")

    def test_start_failure_reports_vmm_message(self):
        self.define("t-fail")
        r = virsh(self.uri, "start", "t-fail", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("oriel-vmm exited with status 1", r.stderr)
        self.assertEqual(virsh(self.uri, "domstate", "t-fail").stdout.strip(), "shut off")
        virsh(self.uri, "undefine", "t-fail")

    def test_pool_and_volumes(self):
        out = virsh(self.uri, "pool-list", "--all").stdout
        self.assertRegex(out, r"default\s+active\s+yes")
        pool = ET.fromstring(virsh(self.uri, "pool-dumpxml", "default").stdout)
        self.assertEqual(pool.findtext("target/path"), self.daemon.image_dir)
        virsh(self.uri, "vol-create-as", "default", "disk1.img", "8G")
        path = os.path.join(self.daemon.image_dir, "disk1.img")
        self.assertEqual(os.path.getsize(path), 8 << 30)
        self.assertIn("disk1.img", virsh(self.uri, "vol-list", "default").stdout)
        self.assertEqual(virsh(self.uri, "vol-path", "--pool", "default", "disk1.img").stdout.strip(), path)
        self.assertIn("8.00 GiB", virsh(self.uri, "vol-info", "--pool", "default", "disk1.img").stdout)
        r = virsh(self.uri, "vol-create-as", "default", "disk1.img", "1G", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("exists", r.stderr)
        r = virsh(self.uri, "vol-create-as", "default", "v.vmdk", "1G", "--format", "vmdk", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("volume format 'vmdk'", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.daemon.image_dir, "v.vmdk")))
        virsh(self.uri, "pool-refresh", "default")
        self.assertIn("running", virsh(self.uri, "pool-info", "default").stdout)
        virsh(self.uri, "vol-delete", "--pool", "default", "disk1.img")
        self.assertFalse(os.path.exists(path))
        r = virsh(self.uri, "vol-info", "--pool", "default", "disk1.img", check=False)
        self.assertIn("Storage volume not found", r.stderr)

    def test_qcow2_volumes(self):
        """qcow2 volumes: thin, shown with their virtual size and format,
        resized, cloned (to qcow2 and to raw) and deleted; what qemu-img
        says about them agrees."""
        img = self.daemon.image_dir
        q = os.path.join(img, "thin.qcow2")
        virsh(self.uri, "vol-create-as", "default", "thin.qcow2", "4G", "--format", "qcow2")
        info = subprocess.run(["qemu-img", "info", "--output=json", q], capture_output=True,
                              text=True, check=True).stdout
        self.assertIn('"format": "qcow2"', info)
        self.assertIn('"virtual-size": %d' % (4 << 30), info)
        self.assertLess(os.path.getsize(q), 1 << 20)      # thin
        self.assertIn("4.00 GiB", virsh(self.uri, "vol-info", "--pool", "default", "thin.qcow2").stdout)
        vol = ET.fromstring(virsh(self.uri, "vol-dumpxml", "--pool", "default", "thin.qcow2").stdout)
        self.assertEqual(vol.find("target/format").get("type"), "qcow2")
        self.assertEqual(int(vol.findtext("capacity")), 4 << 30)

        virsh(self.uri, "vol-resize", "--pool", "default", "thin.qcow2", "6G")
        self.assertIn("6.00 GiB", virsh(self.uri, "vol-info", "--pool", "default", "thin.qcow2").stdout)
        r = virsh(self.uri, "vol-resize", "--pool", "default", "thin.qcow2", "1G", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("shrink", r.stderr)
        virsh(self.uri, "vol-resize", "--pool", "default", "thin.qcow2", "--delta", "1G")
        self.assertIn("7.00 GiB", virsh(self.uri, "vol-info", "--pool", "default", "thin.qcow2").stdout)

        # Data written into the image survives a clone, in either format.
        pattern = os.path.join(img, "pattern.raw")
        with open(pattern, "wb") as f:
            f.write(bytes(range(256)) * 4096)
        subprocess.run(["qemu-img", "convert", "-n", "-f", "raw", "-O", "qcow2", pattern, q], check=True)
        os.unlink(pattern)
        virsh(self.uri, "vol-clone", "--pool", "default", "thin.qcow2", "copy.qcow2")
        r = subprocess.run(["qemu-img", "compare", "-f", "qcow2", "-F", "qcow2", q,
                            os.path.join(img, "copy.qcow2")], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as f:
            f.write("<volume><name>copy.raw</name><target><format type='raw'/></target></volume>")
        try:
            virsh(self.uri, "vol-create-from", "default", f.name, "--inputpool", "default", "thin.qcow2")
        finally:
            os.unlink(f.name)
        raw = os.path.join(img, "copy.raw")
        self.assertEqual(os.path.getsize(raw), 7 << 30)
        with open(raw, "rb") as f:
            self.assertEqual(f.read(1 << 20), bytes(range(256)) * 4096)
        r = virsh(self.uri, "vol-clone", "--pool", "default", "thin.qcow2", "copy.raw", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("exists", r.stderr)
        for name in ("thin.qcow2", "copy.qcow2", "copy.raw"):
            virsh(self.uri, "vol-delete", "--pool", "default", name)
            self.assertFalse(os.path.exists(os.path.join(img, name)))

    def test_snapshots(self):
        """Internal snapshots of a shut-off domain with qcow2 disks: create,
        list (flat, tree, roots, leaves), current, parent, dumpxml; revert
        brings back the disk's contents and the definition; delete
        re-parents; raw disks and undefine with snapshots are refused."""
        img = self.daemon.image_dir
        disk = os.path.join(img, "snap-a.qcow2")
        virsh(self.uri, "vol-create-as", "default", "snap-a.qcow2", "64M", "--format", "qcow2")
        disks = ("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                 "<source file='%s'/><target dev='vda' bus='virtio'/></disk>" % disk)
        self.define("snapdom", disks=disks, memory=256)

        def qemu_io(cmd):
            r = subprocess.run(["qemu-io", "-f", "qcow2", "-c", cmd, disk], capture_output=True, text=True)
            return r.returncode == 0 and "Pattern verification failed" not in r.stdout

        self.assertTrue(qemu_io("write -P 0x11 0 1M"))
        virsh(self.uri, "snapshot-create-as", "snapdom", "first", "--description", "pattern 11")
        self.assertTrue(qemu_io("write -P 0x22 0 1M"))
        # The definition changes too: more memory.
        xml = virsh(self.uri, "dumpxml", "snapdom").stdout
        root = ET.fromstring(xml)
        for tag in ("memory", "currentMemory"):
            el = root.find(tag)
            if el is not None:
                el.text = str(512 * 1024)
                el.set("unit", "KiB")
        with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as f:
            f.write(ET.tostring(root, encoding="unicode"))
        try:
            virsh(self.uri, "define", f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual(ET.fromstring(virsh(self.uri, "dumpxml", "snapdom").stdout).findtext("memory"),
                         str(512 * 1024))
        virsh(self.uri, "snapshot-create-as", "snapdom", "second")
        out = virsh(self.uri, "snapshot-list", "snapdom").stdout
        self.assertRegex(out, r"first\s+.*shutoff")
        self.assertRegex(out, r"second\s+.*shutoff")
        self.assertEqual(virsh(self.uri, "snapshot-current", "--name", "snapdom").stdout.strip(), "second")
        self.assertEqual(virsh(self.uri, "snapshot-parent", "snapdom", "second").stdout.strip(), "first")
        self.assertEqual(virsh(self.uri, "snapshot-list", "snapdom", "--roots", "--name").stdout.split(),
                         ["first"])
        self.assertEqual(virsh(self.uri, "snapshot-list", "snapdom", "--leaves", "--name").stdout.split(),
                         ["second"])
        self.assertIn("second", virsh(self.uri, "snapshot-list", "snapdom", "--tree").stdout)
        info = virsh(self.uri, "snapshot-info", "snapdom", "first").stdout
        self.assertRegex(info, r"Current:\s+no")
        self.assertRegex(info, r"Children:\s+1")
        snap = ET.fromstring(virsh(self.uri, "snapshot-dumpxml", "snapdom", "first").stdout)
        self.assertEqual(snap.findtext("description"), "pattern 11")
        self.assertEqual(snap.find("disks/disk").get("snapshot"), "internal")
        self.assertEqual(snap.findtext("domain/memory"), str(256 * 1024))
        images = subprocess.run(["qemu-img", "snapshot", "-l", disk], capture_output=True, text=True).stdout
        self.assertIn("first", images)
        self.assertIn("second", images)
        self.assertIn("snapdom", virsh(self.uri, "list", "--all", "--with-snapshot", "--name").stdout)

        virsh(self.uri, "snapshot-revert", "snapdom", "first")
        self.assertTrue(qemu_io("read -P 0x11 0 1M"), "revert did not bring the disk back")
        dom = ET.fromstring(virsh(self.uri, "dumpxml", "snapdom").stdout)
        self.assertEqual(dom.findtext("memory"), str(256 * 1024))
        self.assertEqual(virsh(self.uri, "snapshot-current", "--name", "snapdom").stdout.strip(), "first")
        virsh(self.uri, "snapshot-revert", "snapdom", "second")
        self.assertTrue(qemu_io("read -P 0x22 0 1M"))

        virsh(self.uri, "snapshot-delete", "snapdom", "first")
        self.assertNotIn("first", subprocess.run(["qemu-img", "snapshot", "-l", disk],
                                                 capture_output=True, text=True).stdout)
        r = virsh(self.uri, "snapshot-parent", "snapdom", "second", check=False)
        self.assertIn("has no parent", r.stderr)
        r = virsh(self.uri, "snapshot-create-as", "snapdom", "second", check=False)
        self.assertIn("already exists", r.stderr)
        r = virsh(self.uri, "snapshot-info", "snapdom", "nonesuch", check=False)
        self.assertIn("no domain snapshot with matching name 'nonesuch'", r.stderr)

        r = virsh(self.uri, "undefine", "snapdom", check=False)
        self.assertIn("cannot delete inactive domain with 1 snapshots", r.stderr)
        virsh(self.uri, "undefine", "snapdom", "--snapshots-metadata")
        self.assertIn("second", subprocess.run(["qemu-img", "snapshot", "-l", disk],
                                                capture_output=True, text=True).stdout)

        # A raw disk cannot hold a snapshot.
        virsh(self.uri, "vol-create-as", "default", "snap-raw.img", "16M")
        raw = ("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
               "<source file='%s'/><target dev='vda' bus='virtio'/></disk>" % os.path.join(img, "snap-raw.img"))
        self.define("snapraw", disks=raw)
        r = virsh(self.uri, "snapshot-create-as", "snapraw", "x", check=False)
        self.assertIn("internal snapshot for disk vda unsupported for storage type raw", r.stderr)
        self.assertEqual(virsh(self.uri, "snapshot-list", "snapraw", "--name").stdout.strip(), "")
        virsh(self.uri, "undefine", "snapraw")
        for vol in ("snap-a.qcow2", "snap-raw.img"):
            virsh(self.uri, "vol-delete", "--pool", "default", vol)

    def test_everyday_domain_commands(self):
        """domblkinfo (raw, qcow2, a volume disk, --all), domblkerror,
        domjobinfo, desc/--title with --config and --live, vcpuinfo and
        vcpupin of a shut-off domain, dommemstat, setmem --config and its
        refusals, change-media --config: what a shut-off domain answers."""
        img = self.daemon.image_dir
        raw = os.path.join(img, "every-raw.img")
        with open(raw, "wb") as f:
            f.truncate(3 << 20)
            f.seek(1 << 20)
            f.write(b"x" * 8192)
        virsh(self.uri, "vol-create-as", "default", "every.qcow2", "5G", "--format", "qcow2")
        qcow = os.path.join(img, "every.qcow2")
        disks = ("<disk type='file' device='disk'><source file='%s'/><target dev='vda' bus='virtio'/></disk>"
                 "<disk type='volume' device='disk'><driver type='qcow2'/>"
                 "<source pool='default' volume='every.qcow2'/><target dev='vdb' bus='virtio'/></disk>"
                 "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>" % raw)
        self.define("every", disks=disks)

        # The volume disk is kept as given.
        x = ET.fromstring(virsh(self.uri, "dumpxml", "every").stdout)
        vdb = [d for d in x.findall("devices/disk") if d.find("target").get("dev") == "vdb"][0]
        self.assertEqual(vdb.get("type"), "volume")
        self.assertEqual(vdb.find("source").attrib, {"pool": "default", "volume": "every.qcow2"})

        def blkinfo(*args):
            out = virsh(self.uri, "domblkinfo", "every", *args).stdout
            return {l.split(":")[0].strip(): int(l.split(":")[1]) for l in out.splitlines() if ":" in l}
        st = os.stat(raw)
        self.assertEqual(blkinfo("vda"), {"Capacity": 3 << 20, "Allocation": st.st_blocks * 512,
                                          "Physical": 3 << 20})
        self.assertEqual(blkinfo(raw)["Capacity"], 3 << 20)
        q = blkinfo("vdb")
        self.assertEqual(q["Capacity"], 5 << 30)
        self.assertEqual(q["Physical"], os.path.getsize(qcow))
        self.assertLess(q["Physical"], 1 << 20)
        out = virsh(self.uri, "domblkinfo", "every", "--all", "--human").stdout
        self.assertRegex(out, r"vda\s+3\.000 MiB")
        self.assertRegex(out, r"vdb\s+5\.000 GiB")
        self.assertRegex(out, r"hdc\s+-")
        r = virsh(self.uri, "domblkinfo", "every", "vdz", check=False)
        self.assertIn("invalid path vdz not assigned to domain", r.stderr)
        r = virsh(self.uri, "domblkinfo", "every", "hdc", check=False)
        self.assertIn("does not currently have a source", r.stderr)

        # Jobs: none.  Disk errors: only of a running domain (as libvirt).
        self.assertRegex(virsh(self.uri, "domjobinfo", "every").stdout, r"Job type:\s+None")
        self.assertRegex(virsh(self.uri, "domjobinfo", "every", "--completed").stdout, r"Job type:\s+None")
        r = virsh(self.uri, "domblkerror", "every", check=False)
        self.assertIn("domain is not running", r.stderr)

        # Title and description, persisted in the definition.
        self.assertEqual(virsh(self.uri, "desc", "every", "--title").stdout.strip(), "A test domain")
        self.assertEqual(virsh(self.uri, "desc", "every").stdout.strip(), "")  # -q hides "No description"
        virsh(self.uri, "desc", "every", "--new-desc", "Line one\nline <two> & more")
        virsh(self.uri, "desc", "every", "--title", "--config", "--new-desc", "New title")
        self.assertEqual(virsh(self.uri, "desc", "every").stdout.strip(), "Line one\nline <two> & more")
        self.assertEqual(virsh(self.uri, "desc", "every", "--title").stdout.strip(), "New title")
        x = ET.fromstring(virsh(self.uri, "dumpxml", "every").stdout)
        self.assertEqual(x.findtext("title"), "New title")
        self.assertEqual(x.findtext("description"), "Line one\nline <two> & more")
        with open(os.path.join(self.daemon.root, "etc", "every.xml")) as f:
            self.assertIn("<title>New title</title>", f.read())
        self.assertIn("New title", virsh(self.uri, "list", "--all", "--title").stdout)
        virsh(self.uri, "desc", "every", "--new-desc", "")
        self.assertEqual(virsh(self.uri, "desc", "every").stdout.strip(), "")  # -q hides "No description"
        r = virsh(self.uri, "desc", "every", "--live", "--new-desc", "x", check=False)
        self.assertIn("domain is not running", r.stderr)
        dom = libvirt.open(self.uri).lookupByName("every")
        with self.assertRaises(libvirt.libvirtError) as cm:
            dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_TITLE, "two\nlines", None, None, 0)
        self.assertIn("newlines", str(cm.exception))
        with self.assertRaises(libvirt.libvirtError) as cm:
            dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, "http://example.org/", 0)
        self.assertEqual(cm.exception.get_error_code(), libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED)

        # vCPUs of a shut-off domain: the pinning of the definition.
        cpus = "0-%d" % (os.cpu_count() - 1) if os.cpu_count() > 1 else "0"
        out = virsh(self.uri, "vcpuinfo", "every").stdout
        self.assertRegex(out, r"VCPU:\s+0")
        self.assertRegex(out, r"CPU Affinity:\s+y{%d}" % os.cpu_count())
        self.assertRegex(virsh(self.uri, "vcpupin", "every").stdout, r"0\s+%s" % cpus)
        self.assertEqual(virsh(self.uri, "emulatorpin", "every").stdout.strip(), cpus)
        with self.assertRaises(libvirt.libvirtError) as cm:
            dom.vcpus()
        self.assertIn("inactive domain", str(cm.exception))

        # What the VMM answers needs a running domain.
        for args in (("domblkstat", "every", "vda"), ("domifstat", "every", "vnet0"),
                     ("send-key", "every", "KEY_A"), ("screenshot", "every", os.path.join(img, "x.png")),
                     ("blockresize", "every", "vda", "1G"), ("dommemstat", "every", "--period", "5", "--live")):
            r = virsh(self.uri, *args, check=False)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn("not running", r.stderr, args)
        # A new definition gets the balloon, as with libvirt; its statistics
        # period is kept in the definition.
        self.assertIn("<memballoon model='virtio'", virsh(self.uri, "dumpxml", "every").stdout)
        virsh(self.uri, "dommemstat", "every", "--period", "7", "--config")
        self.assertIn("<stats period='7'/>", virsh(self.uri, "dumpxml", "every").stdout)

        # Memory: statistics need a running domain; setmem reaches the
        # definition with --config.
        r = virsh(self.uri, "dommemstat", "every", check=False)
        self.assertIn("domain is not running", r.stderr)
        virsh(self.uri, "setmem", "every", "128M", "--config")
        x = ET.fromstring(virsh(self.uri, "dumpxml", "every").stdout)
        self.assertEqual(int(x.findtext("currentMemory")), 128 * 1024)
        self.assertEqual(int(x.findtext("memory")), 256 * 1024)
        self.assertIn("Used memory:    131072 KiB", virsh(self.uri, "dominfo", "every").stdout)
        r = virsh(self.uri, "setmem", "every", "512M", "--config", check=False)
        self.assertIn("cannot set memory higher than max memory", r.stderr)
        r = virsh(self.uri, "setmem", "every", "128M", "--live", check=False)
        self.assertIn("domain is not running", r.stderr)
        virsh(self.uri, "setmaxmem", "every", "192M", "--config")
        self.assertEqual(int(ET.fromstring(virsh(self.uri, "dumpxml", "every").stdout).findtext("memory")),
                         192 * 1024)

        # change-media of a shut-off domain changes its definition.
        iso = os.path.join(img, "every.iso")
        with open(iso, "wb") as f:
            f.truncate(1 << 20)
        virsh(self.uri, "change-media", "every", "hdc", iso, "--insert", "--config")
        x = ET.fromstring(virsh(self.uri, "dumpxml", "every").stdout)
        hdc = [d for d in x.findall("devices/disk") if d.find("target").get("dev") == "hdc"][0]
        self.assertEqual(hdc.find("source").get("file"), iso)
        self.assertEqual(blkinfo("hdc")["Capacity"], 1 << 20)
        virsh(self.uri, "change-media", "every", "hdc", "--eject", "--config")
        x = ET.fromstring(virsh(self.uri, "dumpxml", "every").stdout)
        hdc = [d for d in x.findall("devices/disk") if d.find("target").get("dev") == "hdc"][0]
        self.assertIsNone(hdc.find("source"))
        r = virsh(self.uri, "change-media", "every", "vda", iso, "--update", "--config", check=False)
        self.assertNotEqual(r.returncode, 0)
        r = virsh(self.uri, "change-media", "every", "hdc", iso, "--insert", "--live", check=False)
        self.assertIn("domain is not running", r.stderr)
        with self.assertRaises(libvirt.libvirtError) as cm:
            dom.updateDeviceFlags("<interface type='network'><source network='default'/></interface>", 0)
        self.assertEqual(cm.exception.get_error_code(), libvirt.VIR_ERR_CONFIG_UNSUPPORTED)

        virsh(self.uri, "undefine", "every")
        virsh(self.uri, "vol-delete", "--pool", "default", "every.qcow2")
        for p in (raw, iso):
            os.unlink(p)

    def test_network_default(self):
        self.assertRegex(virsh(self.uri, "net-list", "--all").stdout, r"default\s+active\s+yes\s+yes")
        net = ET.fromstring(virsh(self.uri, "net-dumpxml", "default").stdout)
        self.assertEqual(net.find("forward").get("mode"), "nat")

    def test_domxml_from_native_xen_xm(self):
        with tempfile.NamedTemporaryFile("w", suffix=".cfg") as f:
            f.write(FC4_CFG)
            f.flush()
            out = virsh(self.uri, "domxml-from-native", "xen-xm", f.name).stdout
        dom = ET.fromstring(out)
        self.assertEqual(dom.findtext("name"), "fc4")
        self.assertEqual(dom.findtext("uuid"), "4dea22b3-1d52-d8f3-2516-782e98ab3fa0")
        self.assertEqual(dom.findtext("memory"), str(128 * 1024))
        self.assertEqual(dom.findtext("vcpu"), "2")
        self.assertEqual(dom.findtext("os/kernel"), "/boot/vmlinuz-2.6.11-1.1366_FC4xenU")
        self.assertEqual(dom.findtext("os/initrd"), "/boot/initrd-2.6.11-1.1366_FC4xenU.img")
        self.assertEqual(dom.findtext("os/cmdline"), "root=/dev/xvda1 ro console=hvc0")
        disks = dom.findall("devices/disk")
        self.assertEqual([d.find("target").get("dev") for d in disks], ["vda", "vdb"])
        self.assertEqual(disks[1].get("type"), "block")
        self.assertIsNotNone(disks[1].find("readonly"))
        self.assertEqual(dom.find("devices/interface/mac").get("address"), "00:16:3e:00:00:11")
        self.assertIsNotNone(dom.find("devices/graphics[@type='vnc']"))
        self.assertIsNotNone(dom.find("devices/console"))
        # the output defines as is
        with tempfile.NamedTemporaryFile("w", suffix=".xml") as f:
            f.write(out)
            f.flush()
            virsh(self.uri, "define", f.name)
        virsh(self.uri, "undefine", "fc4")
        with tempfile.NamedTemporaryFile("w", suffix=".cfg") as f:
            f.write("name = 'x'\nmemory = [ 'oops\n")
            f.flush()
            r = virsh(self.uri, "domxml-from-native", "xen-xm", f.name, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("config line", r.stderr)

    def test_readonly_socket(self):
        self.define("t-ro")
        self.assertIn("t-ro", virsh(self.daemon.ro_uri, "list", "--all", "--name", readonly=True).stdout.split())
        # a client that believes it may write is refused by the daemon itself
        conn = libvirt.open(self.daemon.ro_uri)
        with self.assertRaises(libvirt.libvirtError) as cm:
            conn.lookupByName("t-ro").undefine()
        self.assertEqual(cm.exception.get_error_code(), libvirt.VIR_ERR_OPERATION_DENIED)
        with self.assertRaises(libvirt.libvirtError) as cm:
            conn.storagePoolLookupByName("default").createXML(
                "<volume><name>ro.img</name><capacity>1024</capacity></volume>", 0)
        self.assertEqual(cm.exception.get_error_code(), libvirt.VIR_ERR_OPERATION_DENIED)
        conn.close()
        self.assertIn("t-ro", virsh(self.uri, "list", "--all", "--name").stdout.split())
        virsh(self.uri, "undefine", "t-ro")

    def test_python_events_in_order(self):
        libvirt.virEventRegisterDefaultImpl()
        stop = threading.Event()

        def loop():
            while not stop.is_set():
                libvirt.virEventRunDefaultImpl()
        t = threading.Thread(target=loop, daemon=True)
        t.start()
        conn = libvirt.open(self.uri)
        events = []
        got = threading.Condition()

        def cb(c, dom, event, detail, opaque):
            with got:
                events.append((dom.name(), event, detail))
                got.notify_all()
        cid = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, cb, None)
        d = conn.defineXML(demo_xml(name="t-ev"))
        d = conn.defineXML(demo_xml(name="t-ev").replace("<name>t-ev</name>",
                                                         "<name>t-ev</name><uuid>%s</uuid>" % d.UUIDString()))
        d.undefine()
        expected = [("t-ev", libvirt.VIR_DOMAIN_EVENT_DEFINED, libvirt.VIR_DOMAIN_EVENT_DEFINED_ADDED),
                    ("t-ev", libvirt.VIR_DOMAIN_EVENT_DEFINED, libvirt.VIR_DOMAIN_EVENT_DEFINED_UPDATED),
                    ("t-ev", libvirt.VIR_DOMAIN_EVENT_UNDEFINED, libvirt.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED)]
        with got:
            got.wait_for(lambda: len(events) >= 3, timeout=10)
        self.assertEqual(events, expected)
        conn.domainEventDeregisterAny(cid)
        conn.close()
        stop.set()

    def test_persistence_across_restart(self):
        self.define("t-persist")
        virsh(self.uri, "autostart", "t-persist")
        uuid = virsh(self.uri, "domuuid", "t-persist").stdout.strip()
        self.assertTrue(os.path.exists(os.path.join(self.daemon.config_dir, "t-persist.xml")))
        self.daemon.stop()
        self.daemon.start()
        self.assertIn("t-persist", virsh(self.uri, "list", "--all", "--name").stdout.split())
        self.assertEqual(virsh(self.uri, "domuuid", "t-persist").stdout.strip(), uuid)
        self.assertRegex(virsh(self.uri, "dominfo", "t-persist").stdout, r"Autostart:\s+enable")
        virsh(self.uri, "undefine", "t-persist")

    def test_virt_install_print_xml_defines(self):
        disk = os.path.join(self.daemon.image_dir, "vi.img")
        with open(disk, "wb") as f:
            f.truncate(64 << 20)
        r = subprocess.run(["virt-install", "--connect", self.uri, "--name", "t-vi", "--memory", "512",
                            "--import", "--disk", "path=" + disk, "--os-variant", "generic",
                            "--noautoconsole", "--print-xml"],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        with tempfile.NamedTemporaryFile("w", suffix=".xml") as f:
            f.write(r.stdout)
            f.flush()
            virsh(self.uri, "define", f.name)
        dom = ET.fromstring(virsh(self.uri, "dumpxml", "t-vi").stdout)
        self.assertEqual(dom.find("devices/disk/source").get("file"), disk)
        self.assertIsNotNone(dom.find("devices/graphics[@type='vnc']"))
        virsh(self.uri, "undefine", "t-vi")
        os.unlink(disk)


class SocketActivationTest(unittest.TestCase):
    """systemd hands the daemon both listening sockets (LISTEN_FDS)."""

    def test_listen_fds(self):
        import shutil
        import signal
        if not shutil.which("systemd-socket-activate"):
            self.skipTest("systemd-socket-activate is not installed")
        from daemon_fixture import virtorield_path
        with tempfile.TemporaryDirectory() as tmp:
            rw, ro = os.path.join(tmp, "virtorield-sock"), os.path.join(tmp, "virtorield-sock-ro")
            proc = subprocess.Popen(
                ["systemd-socket-activate", "-l", rw, "-l", ro, virtorield_path(), "--verbose",
                 "--config-dir", os.path.join(tmp, "etc"), "--state-dir", os.path.join(tmp, "run"),
                 "--image-dir", os.path.join(tmp, "images"), "--vmm", "/bin/false"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                deadline = time.monotonic() + 10
                while not os.path.exists(ro) and time.monotonic() < deadline:
                    time.sleep(0.05)
                # the first connection starts the daemon on the inherited sockets
                out = virsh("oriel:///system?socket=" + rw, "pool-list", "--name").stdout.split()
                self.assertEqual(out, ["default"])
                out = virsh("oriel:///system?socket=" + ro, "list", "--all", "--name", readonly=True)
                self.assertEqual(out.returncode, 0)
                self.assertEqual(oct(os.stat(ro).st_mode & 0o777), "0o666")
                conn = libvirt.open("oriel:///system?socket=" + ro)
                with self.assertRaises(libvirt.libvirtError) as cm:
                    conn.defineXML(demo_xml(name="t-sa"))
                self.assertEqual(cm.exception.get_error_code(), libvirt.VIR_ERR_OPERATION_DENIED)
                conn.close()
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(10)


if __name__ == "__main__":
    unittest.main(verbosity=2)
