#!/usr/bin/python3
"""oriel's "Use the Windows installed on this computer": builds two stand-in
Windows disks here (dualboot/tests/dualboot_fixture.py: GPT with ESP, MSR,
NTFS holding the registry hives, ext4; one of them with a hibernated
hiberfil.sys) and runs test_oriel_dualboot_inside.py inside a UEFI test
host (the patched QEMU, tests/testhost/README.md),
where they become loop devices next to virtorield.  Skips (77) when the
daemon or the VMM is not built, without root (the NTFS volume is filled
through ntfs-3g's FUSE driver) or without the fixture's tools."""
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'testhost'))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'dualboot', 'tests'))
SKIP = 77


def main():
    vmm, daemon = os.environ.get('ORIEL_VMM', ''), os.environ.get('VIRTORIELD', '')
    if not (os.access(vmm, os.X_OK) and os.access(daemon, os.X_OK)):
        print('SKIP: needs virtorield and oriel-vmm built')
        return SKIP
    if os.geteuid() != 0:
        print('SKIP: building the stand-in Windows disk needs root (ntfs-3g FUSE)')
        return SKIP
    import dualboot_fixture as fx
    missing = fx.missing_tools()
    if missing:
        print('SKIP: missing tools for the stand-in Windows disk: %s' % ', '.join(missing))
        return SKIP
    import testhost
    testhost.ensure_assets()
    screens = os.environ['ORIEL_SCREENS_DIR']
    os.makedirs(screens, exist_ok=True)
    work = tempfile.mkdtemp(prefix='oriel-gui-dualboot-', dir='/var/tmp')
    try:
        started = time.monotonic()
        images = {}
        for name, kw in (('clean', {}), ('hibernated', {'hiberfil': b'HIBR'})):
            d = os.path.join(work, name)
            os.makedirs(d)
            images[name] = fx.build_disk(d, table='gpt', stornvme=0, storahci=3, **kw)
        print('stand-in Windows disks built in %.1f s' % (time.monotonic() - started), flush=True)
        argv = [os.path.join(HERE, 'run-under-xvfb'), '/usr/bin/python3',
                os.path.join(HERE, 'test_oriel_dualboot_inside.py')]
        env = {k: v for k, v in os.environ.items()
               if k.startswith(('ORIEL_', 'GSETTINGS_', 'GTK_', 'VIRTORIELD', 'ASAN_', 'NO_AT_BRIDGE'))}
        env['PYTHONDONTWRITEBYTECODE'] = '1'
        env['ORIEL_TEST_DUALBOOT_CLEAN'] = images['clean']
        env['ORIEL_TEST_DUALBOOT_HIBERNATED'] = images['hibernated']
        started = time.monotonic()
        # OVMF runs in the VM: the test host QEMU that survives it.
        with testhost.TestHost(uefi=True, shares=[screens, work]) as th:
            r = th.run(argv, env=env, timeout=900)
        sys.stdout.write(r.output)
        print('test host: %.0f s' % (time.monotonic() - started), flush=True)
        return r.returncode
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
