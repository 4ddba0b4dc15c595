#!/usr/bin/python3
"""oriel with a real guest: runs test_oriel_guest_inside.py inside a test host
(tests/testhost), where /dev/kvm runs guests, against virtorield and
oriel-vmm. Skips (77) when the daemon or the VMM is not built."""
import os
import sys

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
    argv = [os.path.join(HERE, 'run-under-xvfb'), '/usr/bin/python3',
            os.path.join(HERE, 'test_oriel_guest_inside.py')]
    env = {k: v for k, v in os.environ.items()
           if k.startswith(('ORIEL_', 'GSETTINGS_', 'GTK_', 'VIRTORIELD'))}
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    with testhost.TestHost(shares=[screens]) as th:
        r = th.run(argv, env=env, timeout=900)
    sys.stdout.write(r.output)
    return r.returncode


if __name__ == '__main__':
    sys.exit(main())
