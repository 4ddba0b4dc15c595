#!/usr/bin/python3
"""oriel-dualboot against a "physical disk" that is a loop device.

The disks (GPT: ESP, MSR, NTFS Windows, ext4; MBR: active NTFS, ext4) are
built in a temporary directory (dualboot_fixture), attached with
`losetup -P`, scanned, then put into each refused state in turn: the
Windows partition mounted on the host, hiberfil.sys with HIBR (written with
ntfscp), the BitLocker signature, a renamed partition against the recorded
fingerprint, and a second holder of the disk's lock.  Needs root.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dualboot_fixture as fx  # noqa: E402

TOOL = os.environ.get('ORIEL_DUALBOOT', 'oriel-dualboot')
SKIP = 77


def sbin(cmd):
    return shutil.which(cmd) or shutil.which(cmd, path='/usr/sbin:/sbin')


def unmount(mnt, device):
    """Unmounts, then waits until the FUSE driver has let go of device
    (umount returns before ntfs-3g closes it): exclusive opens fail until
    then."""
    subprocess.run(['umount', mnt], check=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            os.close(os.open(device, os.O_RDONLY | os.O_EXCL))
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class LoopDisk:
    """A disk image attached with partitions; detached in close()."""

    def __init__(self, image):
        self.device = subprocess.run([sbin('losetup'), '-P', '--find', '--show', image], check=True,
                                     stdout=subprocess.PIPE, text=True).stdout.strip()
        self.name = os.path.basename(self.device)
        # Some kernels (containers) skip losetup's partition scan; partx
        # adds the partitions from user space, synchronously.
        if not os.path.exists('/sys/block/%s/%sp1' % (self.name, self.name)):
            subprocess.run([sbin('partx'), '-a', self.device], check=True)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.part(1)):
            if time.monotonic() > deadline:
                raise RuntimeError('%s: no partition nodes appeared' % self.device)
            time.sleep(0.05)

    def part(self, n):
        return '%sp%d' % (self.device, n)

    def close(self):
        subprocess.run([sbin('partx'), '-d', self.device], stderr=subprocess.DEVNULL)
        subprocess.run([sbin('losetup'), '-d', self.device], check=True)


class DualbootLoopTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix='oriel-dualboot-')
        cls.locks = os.path.join(cls.work, 'locks')
        started = time.monotonic()
        cls.gpt_image = fx.build_disk(os.path.join(cls.work), table='gpt', stornvme=0, storahci=3)
        mbr_dir = os.path.join(cls.work, 'mbr')
        os.mkdir(mbr_dir)
        cls.mbr_image = fx.build_disk(mbr_dir, table='mbr', stornvme=3, storahci=0)
        print('fixtures built in %.1f s' % (time.monotonic() - started), file=sys.stderr)
        cls.disk = LoopDisk(cls.gpt_image)

    @classmethod
    def tearDownClass(cls):
        cls.disk.close()
        shutil.rmtree(cls.work, ignore_errors=True)

    def scan(self, device=None, *extra, expect=0):
        args = [TOOL, 'scan', '--json', '--device', device or self.disk.device, '--lock-dir', self.locks]
        proc = subprocess.run(args + list(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(proc.returncode, expect, proc.stdout + proc.stderr)
        disk = json.loads(proc.stdout)['disks'][0]
        return disk, {c['id']: c for c in disk['checks']}

    def assert_refused(self, checks, check_id, text):
        self.assertTrue(checks[check_id]['blocks'], checks[check_id])
        self.assertIn(text, checks[check_id]['message'])
        self.assertTrue(checks[check_id]['advice'])

    def assert_all_clear(self, checks):
        blocking = [c for c in checks.values() if c['blocks']]
        self.assertEqual(blocking, [])

    def test_1_scan_gpt(self):
        disk, checks = self.scan()
        self.assertEqual(disk['bus'], 'loop')
        self.assertEqual(disk['table'], 'gpt')
        self.assertEqual(disk['firmware'], 'uefi')
        self.assertTrue(disk['esp_has_bootmgr'])
        roles = {p['number']: (p['role'], p['fs']) for p in disk['partitions']}
        self.assertEqual(roles, {1: ('esp', 'vfat'), 2: ('msr', None), 3: ('windows', 'ntfs'), 4: ('other', 'ext4')})
        self.assertEqual(disk['partitions'][2]['device'], self.disk.part(3))
        win = disk['windows']
        self.assertEqual((win['product_name'], win['edition_id'], win['current_build'], win['display_version']),
                         ('Windows 10 Pro', 'Professional', '19045', '22H2'))
        self.assertEqual((win['control_set'], win['stornvme_start'], win['storahci_start']), (1, 0, 3))
        self.assertEqual(win['controller'], 'nvme')
        self.assertFalse(win['hibernated'])
        self.assertFalse(win['volume_dirty'])
        self.assert_all_clear(checks)
        self.assertEqual(checks['activation']['verdict'], 'warn')
        # The human-readable form says the same.
        text = subprocess.run([TOOL, 'scan', '-d', self.disk.device, '--lock-dir', self.locks],
                              check=True, stdout=subprocess.PIPE, text=True).stdout
        self.assertIn('Windows 10 Pro, edition Professional, build 19045', text)
        self.assertIn('controller nvme', text)

    def test_2_host_mounts(self):
        mnt = tempfile.mkdtemp(dir=self.work)
        # The Linux partition in use by the host is no reason to refuse...
        subprocess.run(['mount', '-o', 'ro', self.disk.part(4), mnt], check=True)
        try:
            _, checks = self.scan()
            self.assert_all_clear(checks)
        finally:
            unmount(mnt, self.disk.part(4))
        # ...the Windows partition is.
        subprocess.run(['mount', '-o', 'ro', self.disk.part(3), mnt], check=True)
        try:
            _, checks = self.scan(None, '--mode', 'trial', expect=1)
            self.assert_refused(checks, 'host-use', 'Partition 3 (Windows) is mounted on this computer at %s' % mnt)
        finally:
            unmount(mnt, self.disk.part(3))
        _, checks = self.scan()
        self.assert_all_clear(checks)

    def test_3_hibernated(self):
        hib = os.path.join(self.work, 'hiberfil.sys')
        # A zeroed header (an image already resumed from) is no hibernation...
        with open(hib, 'wb') as f:
            f.write(bytes(8192))
        fx.run('ntfscp', '-f', self.disk.part(3), hib, 'hiberfil.sys')
        disk, checks = self.scan()
        self.assertEqual(disk['windows']['hiberfil_magic'], '....')
        self.assert_all_clear(checks)
        # ...a HIBR header is.
        with open(hib, 'wb') as f:
            f.write(b'HIBR' + bytes(8188))
        fx.run('ntfscp', '-f', self.disk.part(3), hib, 'hiberfil.sys')
        try:
            disk, checks = self.scan(expect=1)
            self.assertEqual(disk['windows']['hiberfil_magic'], 'HIBR')
            self.assertTrue(disk['windows']['hibernated'])
            self.assert_refused(checks, 'hibernation', 'Windows is hibernated (Fast Startup is on).')
            self.assertIn('powercfg /h off', checks['hibernation']['advice'])
            # Trial mode never writes the disk: hibernation refuses real mode only.
            _, checks = self.scan(None, '--mode', 'trial')
            self.assertEqual(checks['hibernation']['verdict'], 'refuse-real')
        finally:
            # ntfs-3g's tools refuse to touch a hibernated volume: the
            # fixture's pristine NTFS image goes back instead.
            fx.place(self.disk.part(3), os.path.join(self.work, 'ntfs.img'), 0)
        _, checks = self.scan()
        self.assert_all_clear(checks)

    def test_4_bitlocker(self):
        with open(self.disk.part(3), 'r+b') as part:
            part.seek(3)
            saved = part.read(8)
            part.seek(3)
            part.write(b'-FVE-FS-')
        try:
            disk, checks = self.scan(expect=1)
            self.assertTrue(disk['windows']['bitlocker'])
            self.assertEqual(disk['partitions'][2]['fs'], 'BitLocker')
            self.assert_refused(checks, 'bitlocker', 'encrypted with BitLocker')
            self.assertIn('recovery key', checks['bitlocker']['message'])
            # Confirmed by the user, it starts (with warnings).
            _, checks = self.scan(None, '--confirm', 'bitlocker')
            self.assertEqual(checks['bitlocker']['verdict'], 'confirm')
        finally:
            with open(self.disk.part(3), 'r+b') as part:
                part.seek(3)
                part.write(saved)
        _, checks = self.scan()
        self.assert_all_clear(checks)

    def test_5_second_vm_on_disk(self):
        holder = subprocess.Popen([TOOL, 'lock', '--device', self.disk.device, '--lock-dir', self.locks],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            self.assertEqual(holder.stdout.readline(), 'locked\n')
            _, checks = self.scan(None, '--mode', 'trial', expect=1)
            self.assert_refused(checks, 'disk-lock',
                                'Another virtual machine is using this disk (process %d).' % holder.pid)
            second = subprocess.run([TOOL, 'lock', '--device', self.disk.device, '--lock-dir', self.locks],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
            self.assertEqual(second.returncode, 1)
            self.assertIn('Another virtual machine is using this disk', second.stderr)
        finally:
            holder.stdin.close()
            self.assertEqual(holder.wait(timeout=30), 0)
            holder.stdout.close()
        _, checks = self.scan()
        self.assert_all_clear(checks)

    def test_6_partition_table_changed(self):
        record = os.path.join(self.work, 'fingerprint')
        with open(record, 'w') as f:
            subprocess.run([TOOL, 'fingerprint', '--device', self.disk.device], check=True, stdout=f)
        _, checks = self.scan(None, '--fingerprint', record)
        self.assertEqual(checks['partition-table']['verdict'], 'pass')
        fx.run('sgdisk', '-c3:Renamed', self.disk.device)
        _, checks = self.scan(None, '--fingerprint', record, '--mode', 'trial', expect=1)
        self.assert_refused(checks, 'partition-table', 'The partition table changed since the virtual machine was created')
        self.assertIn('Partition 3: name changed from “Basic data partition” to “Renamed”',
                      checks['partition-table']['message'])

    def test_7_scan_mbr(self):
        mbr = LoopDisk(self.mbr_image)
        try:
            disk, checks = self.scan(mbr.device)
            self.assertEqual(disk['table'], 'dos')
            self.assertEqual(disk['firmware'], 'bios')
            self.assertEqual([(p['role'], p['fs'], p['bootable']) for p in disk['partitions']],
                             [('windows', 'ntfs', True), ('other', 'ext4', False)])
            self.assertEqual(disk['windows']['current_build'], '19045')
            self.assertEqual(disk['windows']['controller'], 'ahci')
            self.assert_all_clear(checks)
        finally:
            mbr.close()


if __name__ == '__main__':
    if os.geteuid() != 0:
        print('SKIP: needs root for loop devices and mounts')
        sys.exit(SKIP)
    missing = fx.missing_tools() + [p for p in ('/dev/loop-control', '/dev/fuse') if not os.path.exists(p)]
    if missing:
        print('SKIP: missing %s' % ', '.join(missing))
        sys.exit(SKIP)
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)
