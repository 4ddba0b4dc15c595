#!/usr/bin/python3
"""Inside a test host: oriel runs a real guest through virtorield.

Defines a direct-kernel-boot guest (Debian cloud kernel + busybox
initramfs from the test assets), then through the GUI: Run, the state
following the daemon's events, the console window's serial console (VTE
on a virDomainOpenConsole stream) showing the guest's boot and shell
prompt, and Force Off. (Typing into the serial console is not checked
here yet: keys sent with XTest in the test host did not show up.)"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'daemon'))
sys.path.insert(0, os.path.join(HERE, '..', 'testhost'))

import test_oriel_ui as ui  # noqa: E402
from daemon_fixture import Daemon, demo_xml  # noqa: E402
import testhost  # noqa: E402
from dogtail import tree  # noqa: E402

BOOT_TIMEOUT = 300
# Everything runs on an emulated CPU in the test host: give each UI step
# far more time than on the machine itself.
ui.TIMEOUT = 180


def guest_xml():
    assets = testhost.read_manifest()
    xml = demo_xml(name='console-guest', memory=128, kernel=assets['VMLINUZ_CLOUD'],
                   initrd=assets['INITRAMFS_BUSYBOX'], cmdline='console=ttyS0 panic=-1')
    return xml.replace("<interface type='network'><source network='default'/><model type='virtio'/></interface>",
                       '')


def terminal_text(term):
    try:
        return term.text or ''
    except Exception:
        return ''


def main():
    os.makedirs(ui.SCREENS, exist_ok=True)
    with Daemon(vmm=os.environ['ORIEL_VMM']) as daemon:
        path = os.path.join(daemon.root, 'guest.xml')
        with open(path, 'w') as f:
            f.write(guest_xml())
        subprocess.run(['virsh', '-q', '-c', daemon.uri, 'define', path], check=True)
        log = open(os.path.join(ui.SCREENS, 'oriel-guest-output.log'), 'w')
        proc = subprocess.Popen([ui.ORIEL, '--connect', daemon.uri], stdout=log, stderr=subprocess.STDOUT)
        try:
            run(daemon)
        finally:
            proc.terminate()
            proc.wait(10)
    print('PASS', flush=True)


def run(daemon):
    app = ui.wait_for(lambda: next((a for a in tree.root.applications()
                                    if a.name in ('oriel', 'Oriel')), None), 'the oriel application')
    manager = ui.child(app, roleName='frame', name='Oriel')
    cell = ui.child(manager, roleName='table cell', name='console-guest')
    ui.select_cell(cell)
    run_button = ui.child(manager, roleName='push button', name='Run')
    ui.wait_for(lambda: run_button.sensitive, 'Run enabled')
    ui.click(run_button)
    ui.wait_for(lambda: ui.cell_exists(manager, 'Running'), 'Running after Run', timeout=120)
    ui.log('ok: started the guest from the toolbar')

    ui.click(ui.child(manager, roleName='push button', name='Open'))
    console = ui.child(app, roleName='frame', name='console-guest (Running)')
    ui.click(ui.child(console, roleName='radio button', name='Serial Console'))
    term = ui.child(console, name='Serial console', roleName='terminal')
    # The busybox init prints a shell prompt on ttyS0.
    ui.wait_for(lambda: '/ # ' in terminal_text(term), 'the guest shell prompt in the serial console',
                timeout=BOOT_TIMEOUT)
    ui.log('ok: the guest\'s shell prompt is in the serial console')
    ui.settle()
    ui.screenshot('guest-serial-console', console)

    ui.click(ui.child(console, roleName='push button', name='Force Off'))
    ui.child(app, roleName='frame', name='console-guest (Shut off)')
    ui.wait_for(lambda: ui.cell_exists(manager, 'Shut off'), 'Shut off in the list')
    ui.log('ok: forced off; state followed')


if __name__ == '__main__':
    try:
        main()
    except AssertionError as e:
        print('FAIL: %s' % e, flush=True)
        sys.exit(1)
