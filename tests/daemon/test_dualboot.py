#!/usr/bin/python3
"""virtorield's dual-boot domains against a "physical disk" that is a loop
device (dualboot/tests/dualboot_fixture.py: GPT with ESP, MSR, NTFS
Windows, ext4), driven by the stock virsh.

define fills in the fingerprint and writes the map file (checked against
sgdisk's view of the disk) and the overlays (qemu-img check); the XML
round-trips; define refuses partitions the disk lacks or whose role
differs; start refuses, each with its message: the Windows partition
mounted, hiberfil.sys with HIBR (real mode), BitLocker, a changed
partition table, a second VM on the same disk.  The VMM is a stand-in
(fake_vmm.py) that serves the control socket without a guest, so a
"running" VM holds the disk lock through the descriptor it inherits: the
lock lasts across a daemon restart and goes with destroy and a crash.
trial to real and discard-trial drop the trial overlay; undefine removes
the files.  Needs root (loop devices, mounts)."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', '..', 'dualboot', 'tests'))
import dualboot_fixture as fx  # noqa: E402
from daemon_fixture import Daemon, build_root, virsh, wait_until  # noqa: E402
from test_dualboot_loop import LoopDisk, unmount  # noqa: E402

SKIP = 77
MIB = 1024 * 1024
NS = 'http://oriel.dev/xmlns/domain/1.0'


def tool():
    return os.environ.get('ORIEL_DUALBOOT') or os.path.join(build_root(), 'dualboot', 'oriel-dualboot')


def domain_xml(name, device, mode='trial', extra_attrs='', partitions=((1, 'esp'), (2, 'msr'), (3, 'windows')),
               bus='nvme'):
    parts = ''.join("        <oriel:partition number='%d' role='%s'/>\n" % p for p in partitions)
    return """<domain type='kvm' xmlns:oriel='%s'>
  <name>%s</name>
  <memory unit='MiB'>256</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <clock offset='localtime'/>
  <devices>
    <disk type='block' device='disk'>
      <driver name='qemu' type='raw'/>
      <source dev='%s'/>
      <target dev='nvme0n1' bus='%s'/>
      <oriel:dualboot mode='%s'%s>
%s      </oriel:dualboot>
    </disk>
  </devices>
</domain>
""" % (NS, name, device, bus, mode, extra_attrs, parts)


class DualbootDaemonTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix='oriel-dualboot-daemon-')
        started = time.monotonic()
        cls.image = fx.build_disk(cls.work, table='gpt', stornvme=0, storahci=3)
        print('fixture built in %.1f s' % (time.monotonic() - started), file=sys.stderr)
        cls.disk = LoopDisk(cls.image)
        cls.out = os.path.join(cls.work, 'vmm-out')
        os.mkdir(cls.out)
        os.environ['FAKE_VMM_OUT'] = cls.out
        cls.dbdir = os.path.join(cls.work, 'd', 'dualboot')
        cls.daemon = Daemon(vmm=os.path.join(HERE, 'fake_vmm.py'), root=os.path.join(cls.work, 'd'),
                            extra_args=['--dualboot-dir', cls.dbdir]).start()
        cls.uri = cls.daemon.uri

    @classmethod
    def tearDownClass(cls):
        for name in ('win', 'win2'):
            virsh(cls.uri, 'destroy', name, check=False)
        cls.daemon.cleanup()
        try:
            os.kill(vmm_pid_of(cls.work), signal.SIGKILL)
        except AssertionError:
            pass
        cls.disk.close()
        shutil.rmtree(cls.work, ignore_errors=True)

    # helpers

    def define(self, xml, check=True):
        path = os.path.join(self.work, 'domain.xml')
        with open(path, 'w') as f:
            f.write(xml)
        return virsh(self.uri, 'define', path, check=check)

    def files(self, name='win'):
        return os.path.join(self.dbdir, name)

    def read_map(self, name='win'):
        keys, ranges = {}, []
        with open(os.path.join(self.files(name), 'map')) as f:
            for line in f:
                line = line.split('#')[0].strip()
                if not line:
                    continue
                k, v = (s.strip() for s in line.split('=', 1))
                if k in ('table', 'pass', 'esp'):
                    off, length = v.split()
                    ranges.append((k, int(off), int(length)))
                else:
                    keys[k] = v
        return keys, ranges

    def start_refused(self, name, *texts):
        r = virsh(self.uri, 'start', name, check=False)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        for t in texts:
            self.assertIn(t, r.stderr)
        self.assertEqual(virsh(self.uri, 'domstate', name).stdout.strip(), 'shut off')
        return r.stderr

    def lock_free(self):
        r = subprocess.run([tool(), 'lock', '--device', self.disk.device, '--lock-dir', self.daemon.state_dir],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True)
        return r.returncode == 0

    # tests, in order

    def test_1_define_fills_fingerprint_and_round_trips(self):
        self.define(domain_xml('win', self.disk.device))
        record = subprocess.run([tool(), 'fingerprint', '--device', self.disk.device], check=True,
                                capture_output=True, text=True).stdout
        sha = record.splitlines()[0].split('\t')[1]
        xml = virsh(self.uri, 'dumpxml', 'win').stdout
        self.assertIn("xmlns:oriel='%s'" % NS, xml)
        self.assertIn("<oriel:dualboot mode='trial' fingerprint='%s'>" % sha, xml)
        self.assertIn("<oriel:partition number='3' role='windows'/>", xml)
        self.assertIn("<target dev='nvme0n1' bus='nvme'/>", xml)
        self.define(xml)
        self.assertEqual(virsh(self.uri, 'dumpxml', 'win').stdout, xml)
        with open(os.path.join(self.files(), 'partition-table')) as f:
            self.assertEqual(f.read(), record)

    def test_2_map_file_and_overlays(self):
        keys, ranges = self.read_map()
        d = self.files()
        self.assertEqual(keys, {'device': self.disk.device, 'mode': 'trial',
                                'esp-overlay': os.path.join(d, 'esp.qcow2'),
                                'trial-overlay': os.path.join(d, 'trial.qcow2')})
        # The partitions and table areas as sgdisk sees them.
        info = fx.run('sgdisk', '-p', self.disk.device).stdout
        sector = int(re.search(r'Sector size \(logical(?:/physical)?\): (\d+)', info).group(1))
        last_usable = int(re.search(r'last usable sector is (\d+)', info).group(1))
        total = int(re.search(r'Disk \S+: (\d+) sectors', info).group(1))
        parts = {int(m.group(1)): (int(m.group(2)), int(m.group(3)))
                 for m in re.finditer(r'^\s+(\d+)\s+(\d+)\s+(\d+)', info, re.M)}
        span = lambda n: (parts[n][0] * sector, (parts[n][1] - parts[n][0] + 1) * sector)  # noqa: E731
        self.assertEqual(ranges, [
            ('table', 0, parts[1][0] * sector),
            ('esp',) + span(1),
            ('pass',) + span(2),
            ('pass',) + span(3),
            ('table', (last_usable + 1) * sector, (total - last_usable - 1) * sector),
        ])
        for overlay in ('esp.qcow2', 'trial.qcow2'):
            path = os.path.join(d, overlay)
            subprocess.run(['qemu-img', 'check', path], check=True, capture_output=True)
            info = json.loads(subprocess.run(['qemu-img', 'info', '--output=json', path], check=True,
                                             capture_output=True, text=True).stdout)
            self.assertEqual(info['format'], 'qcow2')
            self.assertEqual(info['virtual-size'], fx.DISK_MIB * MIB)
            self.assertNotIn('backing-filename', info)

    def test_3_define_refusals(self):
        r = self.define(domain_xml('bad', self.disk.device, partitions=((3, 'windows'), (9, 'recovery'))),
                        check=False)
        self.assertIn('partition 9 in <oriel:dualboot> does not exist on %s' % self.disk.device, r.stderr)
        r = self.define(domain_xml('bad', self.disk.device, partitions=((4, 'windows'),)), check=False)
        self.assertIn("partition 4 of %s is 'other'" % self.disk.device, r.stderr)
        r = self.define(domain_xml('bad', self.disk.device, mode='borrowed'), check=False)
        self.assertIn("invalid mode 'borrowed' in <oriel:dualboot>", r.stderr)
        self.assertNotIn('bad', virsh(self.uri, 'list', '--all', '--name').stdout)
        self.assertFalse(os.path.exists(self.files('bad')))

    def test_4_start_holds_the_lock(self):
        virsh(self.uri, 'start', 'win')
        with open(os.path.join(self.out, 'win.vmm.conf')) as f:
            conf = f.read()
        self.assertIn('disk = path=%s,if=nvme,format=synthetic\n' % os.path.join(self.files(), 'map'), conf)
        self.assertNotIn(self.disk.device, conf)
        with open(os.path.join(self.out, 'win.fd3')) as f:
            lock_file = f.read()
        self.assertTrue(lock_file.startswith(os.path.join(self.daemon.state_dir, 'dualboot-')), lock_file)
        self.assertFalse(self.lock_free())
        # Define does not look at locks; start does.
        self.define(domain_xml('win2', self.disk.device, bus='sata'))
        with open(os.path.join(self.daemon.state_dir, os.path.basename(lock_file))) as f:
            pid = int(f.read())
        vmm_pid = vmm_pid_of(self.work)
        self.assertEqual(pid, vmm_pid)
        self.start_refused('win2', 'disk-lock: Another virtual machine is using this disk (process %d).' % vmm_pid,
                           'Shut down the other virtual machine first.')
        # Running: undefine, a mode switch and discard-trial wait.
        r = virsh(self.uri, 'undefine', 'win', check=False)
        self.assertIn('cannot undefine a running dual-boot domain', r.stderr)
        xml = virsh(self.uri, 'dumpxml', '--inactive', 'win').stdout
        r = self.define(xml.replace("mode='trial'", "mode='trial' discard-trial='yes'"), check=False)
        self.assertIn('shut it down before changing', r.stderr)
        # The VMM keeps the lock while the daemon is away.
        self.daemon.stop()
        self.assertFalse(self.lock_free())
        self.daemon.start()
        self.assertEqual(virsh(self.uri, 'domstate', 'win').stdout.strip(), 'running')
        self.start_refused('win2', 'Another virtual machine is using this disk')
        virsh(self.uri, 'destroy', 'win')
        self.assertTrue(self.lock_free())
        # A crash lets go of it too.
        virsh(self.uri, 'start', 'win')
        self.assertFalse(self.lock_free())
        os.kill(vmm_pid_of(self.work), signal.SIGKILL)
        wait_until(lambda: virsh(self.uri, 'domstate', 'win').stdout.strip() == 'shut off', 30, 'crash noticed')
        self.assertTrue(self.lock_free())
        virsh(self.uri, 'undefine', 'win2')

    def test_5_refused_while_mounted(self):
        mnt = tempfile.mkdtemp(prefix='oriel-mnt-')
        subprocess.run(['mount', '-o', 'ro', self.disk.part(3), mnt], check=True)
        try:
            self.start_refused('win', 'host-use: Partition 3 (Windows) is mounted on this computer at %s' % mnt,
                               'Unmount %s' % mnt)
        finally:
            unmount(mnt, self.disk.part(3))
            os.rmdir(mnt)

    def test_6_refused_when_hibernated_in_real_mode(self):
        d = self.files()
        self.assertTrue(os.path.exists(os.path.join(d, 'trial.qcow2')))
        xml = virsh(self.uri, 'dumpxml', '--inactive', 'win').stdout
        self.define(xml.replace("mode='trial'", "mode='real'"))
        # trial to real keeps nothing of the trial.
        self.assertFalse(os.path.exists(os.path.join(d, 'trial.qcow2')))
        keys, _ = self.read_map()
        self.assertEqual(keys['mode'], 'real')
        self.assertNotIn('trial-overlay', keys)
        hib = os.path.join(self.work, 'hiberfil.sys')
        with open(hib, 'wb') as f:
            f.write(b'HIBR' + bytes(8188))
        fx.run('ntfscp', '-f', self.disk.part(3), hib, 'hiberfil.sys')
        try:
            self.start_refused('win', 'in real mode', 'hibernation: Windows is hibernated (Fast Startup is on).',
                               'powercfg /h off')
        finally:
            fx.place(self.disk.part(3), os.path.join(self.work, 'ntfs.img'), 0)
        self.define(xml)
        self.assertTrue(os.path.exists(os.path.join(d, 'trial.qcow2')))

    def test_7_refused_with_bitlocker(self):
        with open(self.disk.part(3), 'r+b') as part:
            part.seek(3)
            saved = part.read(8)
            part.seek(3)
            part.write(b'-FVE-FS-')
        try:
            self.start_refused('win', 'bitlocker: Windows is encrypted with BitLocker', 'recovery key')
        finally:
            with open(self.disk.part(3), 'r+b') as part:
                part.seek(3)
                part.write(saved)

    def test_8_discard_trial(self):
        trial = os.path.join(self.files(), 'trial.qcow2')
        subprocess.run(['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x5a 0 64k', trial], check=True,
                       capture_output=True)
        self.assertTrue(self.overlay_has_data(trial))
        xml = virsh(self.uri, 'dumpxml', '--inactive', 'win').stdout
        self.define(xml.replace("mode='trial'", "mode='trial' discard-trial='yes'"))
        self.assertNotIn('discard-trial', virsh(self.uri, 'dumpxml', 'win').stdout)
        # A fresh, empty overlay in its place.
        self.assertFalse(self.overlay_has_data(trial))

    def overlay_has_data(self, path):
        extents = json.loads(subprocess.run(['qemu-img', 'map', '--output=json', path], check=True,
                                            capture_output=True, text=True).stdout)
        return any(e['data'] for e in extents)

    def test_9_changed_table_then_undefine(self):
        fx.run('sgdisk', '-c3:Renamed', self.disk.device)
        try:
            self.start_refused('win', 'partition-table: The partition table changed since the virtual machine was '
                               'created', 'Partition 3: name changed from “Basic data partition” to “Renamed”')
        finally:
            fx.run('sgdisk', '-c3:Basic data partition', self.disk.device)
        virsh(self.uri, 'undefine', 'win')
        self.assertFalse(os.path.exists(self.files()))


def vmm_pid_of(work):
    """The stand-in VMM started for this test's daemon."""
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                argv = f.read().split(b'\0')
        except OSError:
            continue
        if len(argv) > 3 and argv[1].endswith(b'fake_vmm.py') and argv[2] == b'--config' \
                and argv[3].startswith(work.encode()):
            return int(pid)
    raise AssertionError('no running VMM under %s' % work)


if __name__ == '__main__':
    if os.geteuid() != 0:
        print('SKIP: needs root for loop devices and mounts')
        sys.exit(SKIP)
    missing = fx.missing_tools() + [t for t in ('virsh', 'qemu-img', 'qemu-io') if shutil.which(t) is None]
    missing += [p for p in ('/dev/loop-control', '/dev/fuse') if not os.path.exists(p)]
    if missing:
        print('SKIP: missing %s' % ', '.join(missing))
        sys.exit(SKIP)
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)
