#!/usr/bin/python3
"""oriel with a real guest: runs test_oriel_guest_inside.py inside a test host
(tests/testhost), where /dev/kvm runs guests, against virtorield and
oriel-vmm, with a GRUB ISO built here (grub-mkrescue) for the new-VM
assistant. Skips (77) when the daemon or the VMM is not built."""
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'testhost'))
SKIP = 77


def main():
    vmm, daemon = os.environ.get('ORIEL_VMM', ''), os.environ.get('VIRTORIELD', '')
    if not (os.access(vmm, os.X_OK) and os.access(daemon, os.X_OK)):
        print('SKIP: needs virtorield and oriel-vmm built')
        return SKIP
    import testhost
    testhost.ensure_assets()
    screens = os.environ['ORIEL_SCREENS_DIR']
    os.makedirs(screens, exist_ok=True)
    media = tempfile.mkdtemp(prefix='oriel-gui-media-', dir='/var/tmp')
    try:
        return run(testhost, screens, media)
    finally:
        shutil.rmtree(media, ignore_errors=True)


def run(testhost, screens, media):
    sys.path.insert(0, os.path.join(HERE, '..', '..', 'hypervisor', 'tests', 'firmware'))
    import fwtest
    iso = fwtest.build_media(media, ['WIZARD'])['WIZARD']
    argv = [os.path.join(HERE, 'run-under-xvfb'), '/usr/bin/python3',
            os.path.join(HERE, 'test_oriel_guest_inside.py')]
    env = {k: v for k, v in os.environ.items()
           if k.startswith(('ORIEL_', 'GSETTINGS_', 'GTK_', 'VIRTORIELD'))}
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    env['ORIEL_TEST_GRUB_ISO'] = iso
    with testhost.TestHost(shares=[screens, media]) as th:
        r = th.run(argv, env=env, timeout=900)
    sys.stdout.write(r.output)
    return r.returncode


if __name__ == '__main__':
    sys.exit(main())
