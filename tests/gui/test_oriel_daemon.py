#!/usr/bin/python3
"""oriel against the real Oriel daemon (virtorield) on this machine.

No guest runs here (this machine's /dev/kvm cannot run one), so the VM is
defined with "customize before install" and never started: the test covers
connecting to oriel:///system, the assistant's XML being accepted by the
daemon, the new disk created in the daemon's default pool, lifecycle events
(defined/undefined) updating the list, and deleting the VM with its disk.
Then the assistant's Windows 11 choice: the domain it defines has the
platform virt-install picks for --osinfo win11 on the same daemon (Q35
with SMM, OVMF with Secure Boot and its per-VM variables, TPM 2.0,
Hyper-V, e1000e, xHCI tablet, SATA, local-time clock).
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
            run_windows11(daemon, work)
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
    # The daemon's pool makes qcow2 volumes: the assistant asks for one.
    image = os.path.join(daemon.image_dir, 'gui-made.qcow2')
    ui.wait_for(lambda: ui.find(console, None, roleName='label', name='%s (vda, disk)' % image) is not None,
                'the new qcow2 disk from the daemon\'s pool in the details')
    assert os.path.exists(image), 'no image file ' + image
    info = subprocess.run(['qemu-img', 'info', '--output=json', image], capture_output=True, text=True,
                          check=True).stdout
    assert '"format": "qcow2"' in info and '"virtual-size": %d' % (1 << 30) in info, info
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


# What must agree between the assistant's Windows 11 domain and
# virt-install's: (label, XPath string expression).
WIN11_FACTS = [
    ('machine', 'string(/domain/os/type/@machine)'),
    ('firmware', 'string(/domain/os/@firmware)'),
    ('loader', 'string(/domain/os/loader)'),
    ('loader secure', 'string(/domain/os/loader/@secure)'),
    ('nvram template', 'string(/domain/os/nvram/@template)'),
    ('smm', 'string(/domain/features/smm/@state)'),
    ('hyperv relaxed', 'string(/domain/features/hyperv/relaxed/@state)'),
    ('hyperv vapic', 'string(/domain/features/hyperv/vapic/@state)'),
    ('hyperv spinlocks', 'string(/domain/features/hyperv/spinlocks/@state)'),
    ('clock', 'string(/domain/clock/@offset)'),
    ('hypervclock', 'count(/domain/clock/timer[@name="hypervclock"])'),
    ('tpm', 'string(/domain/devices/tpm/@model)'),
    ('tpm backend', 'string(/domain/devices/tpm/backend/@type)'),
    ('tpm version', 'string(/domain/devices/tpm/backend/@version)'),
    ('nic', 'string(/domain/devices/interface/model/@type)'),
    ('usb', 'string(/domain/devices/controller[@type="usb"]/@model)'),
    ('tablet', 'string(/domain/devices/input[@type="tablet"]/@bus)'),
    ('disk bus', 'string(/domain/devices/disk[@device="disk"]/target/@bus)'),
    ('cdrom bus', 'string(/domain/devices/disk[@device="cdrom"]/target/@bus)'),
]


def xml_facts(xml):
    """Evaluates WIN11_FACTS with lxml-free XPath (ElementTree has too little
    XPath for count/string): uses xmllint from libxml2-utils."""
    out = {}
    for label, expr in WIN11_FACTS:
        r = subprocess.run(['xmllint', '--xpath', expr, '-'], input=xml, capture_output=True, text=True)
        out[label] = r.stdout.strip()
    return out


def dumpxml(daemon, name):
    return subprocess.run(['virsh', '-q', '-c', daemon.uri, 'dumpxml', name],
                          capture_output=True, text=True, check=True).stdout


def run_windows11(daemon, work):
    # virt-install wants media from a storage pool it knows: the daemon's own.
    iso = os.path.join(daemon.image_dir, 'Win11_English_x64.iso')
    with open(iso, 'wb') as f:
        f.write(b'\0' * 65536)
    app = ui.wait_for(lambda: next((a for a in tree.root.applications()
                                    if a.name in ('oriel', 'Oriel')), None), 'the oriel application')
    manager = ui.child(app, roleName='frame', name='Oriel')
    ui.click(ui.child(manager, roleName='push button', name='New'))
    wizard = ui.child(app, roleName='frame', name='Source')
    next_button = ui.child(wizard, roleName='push button', name='Next')
    ui.click(ui.child(wizard, roleName='radio button', name='Local install media (ISO image)'))
    ui.child(wizard, roleName='text', name='ISO image').text = iso
    ui.next_page(wizard, next_button, 'Operating System')
    os_table = ui.child(wizard, name='Operating systems')
    ui.child(wizard, roleName='text', name='Search operating systems').text = 'windows 11'
    cell = ui.wait_for(lambda: next((c for c in os_table.findChildren(
        lambda n: n.roleName == 'table cell' and n.name == 'Microsoft Windows 11')), None),
        'Windows 11 in the OS list')
    # A flat list: its cells are the table's children; focusing one moves
    # the tree view's cursor and selection there.
    cell.grabFocus()
    ui.wait_for(lambda: cell.selected, 'Windows 11 selected')
    ui.wait_for(lambda: ui.find(wizard, None, roleName='label',
                                name='Defaults: sata disk bus, e1000e network card, UEFI firmware, '
                                     'USB tablet, Secure Boot, TPM 2.0.') is not None,
                'the Windows 11 platform offered')
    ui.log('ok: Windows 11 chosen; the assistant offers UEFI, Secure Boot, TPM 2.0, e1000e')
    for title in ('Memory and CPUs', 'Storage'):
        ui.next_page(wizard, next_button, title)
    ui.child(wizard, roleName='spin button', name='Disk size in GiB').text = '1'
    ui.next_page(wizard, next_button, 'Name and Summary')
    name_entry = ui.child(wizard, roleName='text', name='Name')
    ui.wait_for(lambda: name_entry.showing, 'the name page')
    name_entry.text = 'win11-gui'
    ui.click(ui.child(wizard, roleName='check box',
                      name='Customize configuration before install (define without starting)'))
    finish = ui.enabled_finish(wizard)
    ui.settle()
    ui.screenshot('daemon-wizard-win11-summary', wizard)
    ui.click(finish)
    def listed_or_error():
        if ui.cell_exists(manager, 'win11-gui'):
            return True
        error = ui.find(app, None, roleName='alert', name='Error')
        if error is not None:
            ui.click(ui.child(error, roleName='toggle button', name='Details'))
            ui.settle()
            texts = [n.name for n in error.findChildren(lambda n: n.roleName == 'label') if n.name]
            texts += [t.text for t in error.findChildren(lambda n: n.roleName == 'text') if t.text]
            raise AssertionError('the daemon refused the Windows 11 VM: %s' % ' / '.join(texts))
        return None
    ui.wait_for(listed_or_error, 'the Windows 11 VM listed')
    gui_xml = dumpxml(daemon, 'win11-gui')

    # virt-install picks the Windows 11 platform by itself only for qemu://
    # URIs; for others the options say it (daemon/README.md).
    r = subprocess.run(['virt-install', '--connect', daemon.uri, '--osinfo', 'win11', '--name', 'win11-cli',
                        '--memory', '4096', '--cdrom', iso, '--disk', 'size=1,bus=sata',
                        '--machine', 'q35', '--features',
                        'smm.state=on,hyperv.relaxed.state=on,hyperv.vapic.state=on,'
                        'hyperv.spinlocks.state=on,hyperv.spinlocks.retries=8191',
                        '--boot', 'uefi,firmware.feature0.name=secure-boot,firmware.feature0.enabled=yes,'
                        'firmware.feature1.name=enrolled-keys,firmware.feature1.enabled=yes',
                        '--network', 'user,model=e1000e', '--controller', 'usb,model=qemu-xhci',
                        '--input', 'tablet,bus=usb', '--clock', 'offset=localtime,hypervclock_present=yes',
                        '--graphics', 'vnc', '--noautoconsole', '--noreboot', '--print-xml', '1'],
                       capture_output=True, text=True)
    assert r.returncode == 0, 'virt-install --print-xml failed: ' + r.stderr
    xml_file = os.path.join(work, 'win11-cli.xml')
    with open(xml_file, 'w') as f:
        f.write(r.stdout)
    r = subprocess.run(['virsh', '-q', '-c', daemon.uri, 'define', xml_file], capture_output=True, text=True)
    assert r.returncode == 0, 'virsh define of virt-install\'s XML: %s\n%s' % (r.stderr, r.stdout)
    cli_xml = dumpxml(daemon, 'win11-cli')
    got, want = xml_facts(gui_xml), xml_facts(cli_xml)
    assert got['machine'] == 'q35' and got['loader secure'] == 'yes' and got['tpm'] == 'tpm-crb', gui_xml
    differ = {k: (got[k], want[k]) for k in got if got[k] != want[k]}
    assert not differ, 'the assistant and virt-install disagree (assistant, virt-install): %r' % differ
    ui.log('ok: the assistant\'s Windows 11 domain matches virt-install --osinfo win11: %s'
           % ', '.join('%s=%s' % (k, v) for k, v in got.items()))
    for name in ('win11-gui', 'win11-cli'):
        subprocess.run(['virsh', '-q', '-c', daemon.uri, 'undefine', '--nvram', '--remove-all-storage', name],
                       capture_output=True, text=True)


if __name__ == '__main__':
    try:
        sys.exit(main())
    except AssertionError as e:
        print('FAIL: %s' % e, flush=True)
        sys.exit(1)
