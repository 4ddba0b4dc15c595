"""Builds the stand-in "physical disk" of the dual-boot tests: Windows
registry hives (hivex), an NTFS volume (mkntfs, filled through the ntfs-3g
FUSE driver on the image file, never the host's partitions), a FAT ESP
(mtools) and ext4, put together in a GPT or MBR disk image (sgdisk, sfdisk).
"""
import os
import shutil
import struct
import subprocess
import tempfile

MIB = 1024 * 1024
TOOLS = ['sgdisk', 'sfdisk', 'mkntfs', 'ntfs-3g', 'ntfscp', 'mkfs.vfat', 'mkfs.ext4',
         'mmd', 'mcopy', 'hivexregedit', 'losetup']


def missing_tools():
    return [t for t in TOOLS if shutil.which(t) is None
            and not os.path.exists('/usr/sbin/' + t) and not os.path.exists('/sbin/' + t)]


def run(*cmd, **kw):
    env = dict(os.environ, PATH=os.environ.get('PATH', '') + ':/usr/sbin:/sbin',
               MTOOLS_SKIP_CHECK='1', MTOOLSRC='/dev/null')
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True, **kw)
    if proc.returncode != 0:
        raise RuntimeError('%s failed (%d): %s%s' % (' '.join(cmd), proc.returncode, proc.stdout, proc.stderr))
    return proc


def empty_hive(path):
    """Writes a registry hive holding only a root key.

    hivex edits hives but cannot create one, so this lays out the smallest
    valid file: the 4 KiB base block, then one 4 KiB bin with the root key
    cell, its security cell and one free cell."""
    bin_start = 0x1000
    name = b'ROOT'
    nk = bytearray(0x4c + len(name))
    struct.pack_into('<2sHQIIIIIIIIIIIIIIIHH', nk, 0, b'nk', 0x2c, 0, 0, 0, 0, 0,
                     0xffffffff, 0xffffffff, 0, 0xffffffff, 0x78, 0xffffffff,
                     0, 0, 0, 0, 0, len(name), 0)
    nk[0x4c:] = name
    # A self-relative security descriptor with no owner, group or ACLs.
    sd = struct.pack('<BBHIIII', 1, 0, 0x8000, 0, 0, 0, 0)
    sk = struct.pack('<2sHIIII', b'sk', 0, 0x78, 0x78, 1, len(sd)) + sd

    def cell(data):
        size = (4 + len(data) + 7) & ~7
        return struct.pack('<i', -size) + bytes(data) + bytes(size - 4 - len(data))

    cells = cell(nk) + cell(sk)
    assert 0x20 + len(cell(nk)) == 0x78
    free = 4096 - 0x20 - len(cells)
    hbin = struct.pack('<4sII', b'hbin', 0, 4096) + bytes(0x20 - 12) + cells + struct.pack('<i', free)
    hbin += bytes(4096 - len(hbin))
    base = bytearray(bin_start)
    struct.pack_into('<4sIIQIIIIIII', base, 0, b'regf', 1, 1, 0, 1, 3, 0, 1, 0x20, 4096, 1)
    checksum = 0
    for (word,) in struct.iter_unpack('<I', bytes(base[:508])):
        checksum ^= word
    struct.pack_into('<I', base, 508, checksum)
    with open(path, 'wb') as f:
        f.write(bytes(base) + hbin)


def build_hive(path, reg_text):
    """A hive holding what reg_text (.reg syntax, keys relative to the
    hive's root as in `[\\Select]`) says."""
    empty_hive(path)
    # hivexregedit creates a key only under an existing parent: every
    # ancestor gets an (empty) section of its own first.
    ancestors = []
    for line in reg_text.splitlines():
        if line.startswith('[\\') and line.endswith(']'):
            parts = line[2:-1].split('\\')
            for i in range(1, len(parts)):
                key = '\\'.join(parts[:i])
                if key not in ancestors:
                    ancestors.append(key)
    head = ''.join('[\\%s]\n\n' % key for key in ancestors)
    with tempfile.NamedTemporaryFile('w', suffix='.reg', delete=False) as reg:
        reg.write('Windows Registry Editor Version 5.00\n\n' + head + reg_text)
    try:
        run('hivexregedit', '--merge', path, reg.name)
    finally:
        os.unlink(reg.name)


def system_reg(stornvme=0, storahci=3, current=1, ahci_override=None):
    cs = 'ControlSet%03d' % current
    text = ('[\\Select]\n"Current"=dword:%08x\n"Default"=dword:%08x\n\n' % (current, current)
            + '[\\%s\\Services\\stornvme]\n"Start"=dword:%08x\n"Type"=dword:00000001\n\n' % (cs, stornvme)
            + '[\\%s\\Services\\storahci]\n"Start"=dword:%08x\n"Type"=dword:00000001\n\n' % (cs, storahci))
    if ahci_override is not None:
        text += '[\\%s\\Services\\storahci\\StartOverride]\n"0"=dword:%08x\n\n' % (cs, ahci_override)
    # A second, stale control set with other values: must be ignored.
    if current != 2:
        text += '[\\ControlSet002\\Services\\stornvme]\n"Start"=dword:00000004\n\n'
    return text


SOFTWARE_REG = ('[\\Microsoft\\Windows NT\\CurrentVersion]\n'
                '"ProductName"="Windows 10 Pro"\n'
                '"EditionID"="Professional"\n'
                '"CurrentBuild"="19045"\n'
                '"CurrentBuildNumber"="19045"\n'
                '"DisplayVersion"="22H2"\n\n')


def build_ntfs(path, size, files):
    """An NTFS volume holding files ({'Windows/System32/config/SYSTEM': local path}).

    ntfs-3g's tools cannot create directories, so the volume image (a file,
    not a host partition) is mounted through the ntfs-3g FUSE driver."""
    with open(path, 'wb') as f:
        f.truncate(size)
    run('mkntfs', '-F', '-f', '-q', '-L', 'Windows', path)
    mnt = tempfile.mkdtemp(prefix='oriel-ntfs-')
    run('ntfs-3g', path, mnt)
    try:
        for inside, local in files.items():
            os.makedirs(os.path.join(mnt, os.path.dirname(inside)), exist_ok=True)
            shutil.copyfile(local, os.path.join(mnt, inside))
    finally:
        run('umount', mnt)
        os.rmdir(mnt)


def build_esp(path, size, bootmgr=True):
    with open(path, 'wb') as f:
        f.truncate(size)
    run('mkfs.vfat', '-n', 'ESP', path)
    if bootmgr:
        stand_in = path + '.efi'
        with open(stand_in, 'wb') as f:
            f.write(b'MZ stand-in for Windows Boot Manager\n')
        run('mmd', '-i', path, '::/EFI', '::/EFI/Microsoft', '::/EFI/Microsoft/Boot')
        run('mcopy', '-i', path, stand_in, '::/EFI/Microsoft/Boot/bootmgfw.efi')
        os.unlink(stand_in)


def build_ext4(path, size):
    with open(path, 'wb') as f:
        f.truncate(size)
    run('mkfs.ext4', '-q', '-F', '-L', 'linux-root', path)


def place(image, part_image, offset):
    with open(part_image, 'rb') as src, open(image, 'r+b') as dst:
        dst.seek(offset)
        shutil.copyfileobj(src, dst, MIB)


# Partition layout, in MiB: (start, size).
ESP = (1, 8)
MSR = (9, 4)
WIN = (13, 24)
LINUX = (37, 26)
DISK_MIB = 64


def build_disk(workdir, table='gpt', stornvme=0, storahci=3, hiberfil=None):
    """The disk image; returns its path.  hiberfil: first bytes of a
    C:\\hiberfil.sys, or None for none."""
    system = os.path.join(workdir, 'SYSTEM')
    software = os.path.join(workdir, 'SOFTWARE')
    build_hive(system, system_reg(stornvme, storahci))
    build_hive(software, SOFTWARE_REG)
    files = {'Windows/System32/config/SYSTEM': system, 'Windows/System32/config/SOFTWARE': software}
    if hiberfil is not None:
        hib = os.path.join(workdir, 'hiberfil.sys')
        with open(hib, 'wb') as f:
            f.write(hiberfil + bytes(4096 - len(hiberfil)))
        files['hiberfil.sys'] = hib
    ntfs = os.path.join(workdir, 'ntfs.img')
    build_ntfs(ntfs, WIN[1] * MIB, files)
    linux = os.path.join(workdir, 'ext4.img')
    build_ext4(linux, LINUX[1] * MIB)
    image = os.path.join(workdir, 'disk-%s.img' % table)
    with open(image, 'wb') as f:
        f.truncate(DISK_MIB * MIB)
    if table == 'gpt':
        esp = os.path.join(workdir, 'esp.img')
        build_esp(esp, ESP[1] * MIB)
        run('sgdisk', '-U', 'R',
            '-n1:%dM:+%dM' % ESP, '-t1:EF00', '-c1:EFI system partition',
            '-n2:%dM:+%dM' % MSR, '-t2:0C01', '-c2:Microsoft reserved partition',
            '-n3:%dM:+%dM' % WIN, '-t3:0700', '-c3:Basic data partition',
            '-n4:%dM:+%dM' % LINUX, '-t4:8300', '-c4:Linux root', image)
        place(image, esp, ESP[0] * MIB)
    else:
        # BIOS Windows: the active NTFS partition holds bootmgr; no ESP, no MSR.
        run('sfdisk', '--quiet', image, input='label: dos\n'
            'start=%dMiB, size=%dMiB, type=7, bootable\n' % WIN
            + 'start=%dMiB, size=%dMiB, type=83\n' % LINUX)
    place(image, ntfs, WIN[0] * MIB)
    place(image, linux, LINUX[0] * MIB)
    return image
