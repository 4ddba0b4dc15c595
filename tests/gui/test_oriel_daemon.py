#!/usr/bin/python3
"""oriel against the real Oriel daemon (virtorield) on this machine.

No guest runs here (this machine's /dev/kvm cannot run one), so the VM is
defined with "customize before install" and never started: the test covers
connecting to oriel:///system, the assistant's XML being accepted by the
daemon, the new disk created in the daemon's default pool, lifecycle events
(defined/undefined) updating the list, and deleting the VM with its disk.
Runs inside tests/gui/run-under-xvfb; skips (77) if the daemon is not built.
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'daemon'))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import test_oriel_ui as ui  # noqa: E402  (helpers: child, click, find, wait_for, screenshot)
from daemon_fixture import Daemon  # noqa: E402
from dogtail import tree  # noqa: E402


def main():
    if not os.path.exists(os.environ.get('VIRTORIELD', '')):
        print('SKIP: virtorield not built')
        return 77
    work = tempfile.mkdtemp(prefix='oriel-daemon-gui-')
    kernel = os.path.join(work, 'vmlinuz')
    with open(kernel, 'wb') as f:
        f.write(b'\0' * 4096)
    os.makedirs(ui.SCREENS, exist_ok=True)
    with Daemon() as daemon:
        log = open(os.path.join(ui.SCREENS, 'oriel-daemon-output.log'), 'w')
        proc = subprocess.Popen([ui.ORIEL, '--connect', daemon.uri], stdout=log, stderr=subprocess.STDOUT)
        try:
            run(daemon, kernel)
        finally:
            proc.terminate()
            proc.wait(10)
    print('PASS', flush=True)
    return 0


def run(daemon, kernel):
    app = ui.wait_for(lambda: next((a for a in tree.root.applications()
                                    if a.name in ('oriel', 'Oriel')), None), 'the oriel application')
    manager = ui.child(app, roleName='frame', name='Oriel')
    ui.wait_for(lambda: ui.cell_exists(manager, daemon.uri), 'the daemon connection listed')
    ui.wait_for(lambda: ui.cell_exists(manager, 'Connected'), 'connected to the daemon')
    ui.log('ok: connected to ' + daemon.uri)

    ui.click(ui.child(manager, roleName='push button', name='New'))
    wizard = ui.child(app, roleName='frame', name='Source')
    next_button = ui.child(wizard, roleName='push button', name='Next')
    ui.click(ui.child(wizard, roleName='radio button', name='Direct kernel boot (Linux kernel and initrd)'))
    ui.child(wizard, roleName='text', name='Kernel').text = kernel
    ui.wait_for(lambda: next_button.sensitive, 'Next enabled')
    for title in ('Operating System', 'Memory and CPUs', 'Storage'):
        ui.next_page(wizard, next_button, title)
    ui.wait_for(lambda: any(l.showing and '“default”' in l.name for l in wizard.findChildren(
        lambda n: n.roleName == 'label' and n.name.startswith('The disk image is created in the storage pool'))),
        'the daemon\'s default pool offered for the new disk')
    disk_size = ui.child(wizard, roleName='spin button', name='Disk size in GiB')
    disk_size.text = '1'
    ui.next_page(wizard, next_button, 'Name and Summary')
    name_entry = ui.child(wizard, roleName='text', name='Name')
    ui.wait_for(lambda: name_entry.showing, 'the name page')
    name_entry.text = 'gui-made'
    ui.click(ui.child(wizard, roleName='check box',
                      name='Customize configuration before install (define without starting)'))
    finish = ui.enabled_finish(wizard)
    ui.settle()
    ui.screenshot('daemon-wizard-summary', wizard)
    ui.click(finish)

    console = ui.child(app, roleName='frame', name='gui-made (Shut off)')
    image = os.path.join(daemon.image_dir, 'gui-made.img')
    ui.wait_for(lambda: ui.find(console, None, roleName='label', name='%s (vda, disk)' % image) is not None,
                'the new raw disk from the daemon\'s pool in the details')
    assert os.path.exists(image), 'no image file ' + image
    ui.wait_for(lambda: ui.cell_exists(manager, 'gui-made'), 'the defined VM listed (lifecycle event)')
    ui.wait_for(lambda: ui.cell_exists(manager, 'Shut off'), 'its state')
    out = subprocess.run(['virsh', '-q', '-c', daemon.uri, 'dumpxml', 'gui-made'],
                         capture_output=True, text=True, check=True).stdout
    assert '<kernel>%s</kernel>' % kernel in out, out
    ui.log('ok: the daemon accepted the assistant\'s domain and disk; the list follows its events')
    ui.settle()
    ui.screenshot('daemon-console-details', console)

    ui.select_cell(ui.child(manager, roleName='table cell', name='gui-made'))
    ui.click(ui.child(manager, roleName='push button', name='Delete'))
    question = ui.child(app, roleName='alert', name='Question')
    ui.child(question, roleName='check box', name='Delete disk image ' + image)
    ui.click(ui.child(question, roleName='push button', name='Delete'))
    ui.wait_for(lambda: not ui.cell_exists(manager, 'gui-made'), 'the VM gone after delete (undefined event)')
    ui.wait_for(lambda: not os.path.exists(image), 'the disk image deleted by the daemon')
    ui.wait_for(lambda: ui.find(app, None, roleName='frame', name='gui-made (Shut off)') is None,
                'its console window closed')
    ui.log('ok: deleted the VM and its disk through the daemon')


if __name__ == '__main__':
    try:
        sys.exit(main())
    except AssertionError as e:
        print('FAIL: %s' % e, flush=True)
        sys.exit(1)
