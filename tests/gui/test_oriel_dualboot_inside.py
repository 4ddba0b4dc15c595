#!/usr/bin/python3
"""Inside a test host: the new-VM assistant's "Use the Windows installed on
this computer" against virtorield, with two stand-in Windows disks
attached as loop devices (built outside, $ORIEL_TEST_DUALBOOT_CLEAN and
$ORIEL_TEST_DUALBOOT_HIBERNATED).

1. The source page lists both disks with what the registry says (edition
   and build), UEFI, the partitions and the NVMe controller Windows's
   boot driver needs.
2. The hibernated one: the Safety Checks page shows the hibernation check
   refusing real mode with its message and the powercfg advice, the
   activation warning, and real mode unavailable.
3. "Look Again" reads the disks again.  The clean one: every check passes (activation warns); trial mode;
   Finish defines the VM, whose XML in the daemon has <oriel:dualboot
   mode='trial'> with the ESP, MSR and Windows partitions, the loop
   device as an NVMe disk, UEFI on Q35 with SMM and the local-time clock.
   It starts (OVMF from the synthetic disk) and its console window shows
   the guest's screen (pixels against a gvnccapture of its VNC server);
   the loop device is unchanged after Force Off (trial mode).
4. The details view: the mode, "Discard Trial Changes" (the daemon keeps
   no discard-trial attribute) and "Switch to Real Mode" after its
   question (the XML then says mode='real')."""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'daemon'))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'dualboot', 'tests'))

import test_oriel_ui as ui  # noqa: E402
import test_oriel_guest_inside as guest  # noqa: E402
from daemon_fixture import Daemon  # noqa: E402
from test_dualboot_loop import LoopDisk  # noqa: E402
from dogtail import tree  # noqa: E402

ORIEL_NS = 'http://oriel.dev/xmlns/domain/1.0'
NAME = 'win-dualboot'
HIBERNATED_MESSAGE = 'Windows is hibernated (Fast Startup is on).'
HIBERNATED_ADVICE = 'Start Windows, run powercfg /h off, shut down, then try again.'
REAL_RADIO = 'Real mode: Windows writes to its partitions on the disk'
TRIAL_RADIO = 'Trial mode: Windows’s writes go to a separate file; nothing reaches the disk'
# Everything runs on an emulated CPU in the test host.
ui.TIMEOUT = 180


def attach(image, work):
    """The image copied into the test host's own memory, as a loop device
    with partitions (a loop device over the 9p share is not needed)."""
    local = os.path.join(work, os.path.basename(os.path.dirname(image)) + '.img')
    shutil.copyfile(image, local)
    return LoopDisk(local)


def dumpxml(daemon, name):
    out = subprocess.run(['virsh', '-c', daemon.uri, 'dumpxml', '--inactive', name], check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    return out, ET.fromstring(out)


def labels(node):
    return [n.name for n in node.findChildren(lambda n: n.roleName == 'label') if n.name]


def question(app, title, button):
    """The message dialog showing title, with its button."""
    def shown():
        for d in app.findChildren(lambda n: n.roleName in ('alert', 'dialog') and n.showing):
            if title in labels(d) and ui.find(d, None, roleName='push button', name=button):
                return d
        return None
    return ui.wait_for(shown, 'the question "%s"' % title)


def main():
    os.makedirs(ui.SCREENS, exist_ok=True)
    # The test host's kernel has loop as a module.
    subprocess.run(['modprobe', 'loop'], capture_output=True)
    work = tempfile.mkdtemp(prefix='oriel-dualboot-gui-')
    disks = []
    try:
        clean = attach(os.environ['ORIEL_TEST_DUALBOOT_CLEAN'], work)
        disks.append(clean)
        hibernated = attach(os.environ['ORIEL_TEST_DUALBOOT_HIBERNATED'], work)
        disks.append(hibernated)
        dualboot_dir = os.path.join(work, 'dualboot')
        with Daemon(vmm=os.environ['ORIEL_VMM'], extra_args=['--dualboot-dir', dualboot_dir]) as daemon:
            daemon.dualboot_dir = dualboot_dir
            log = open(os.path.join(ui.SCREENS, 'oriel-dualboot-output.log'), 'w')
            proc = subprocess.Popen([ui.ORIEL, '--connect', daemon.uri], stdout=log, stderr=subprocess.STDOUT)
            try:
                run(daemon, clean.device, hibernated.device)
            except AssertionError:
                ui.screenshot('dualboot-failure')
                with open(daemon.log_path, errors='replace') as f:
                    print(''.join([line for line in f if 'proc 344 ' not in line][-30:]), flush=True)
                raise
            finally:
                proc.terminate()
                proc.wait(10)
                log.close()
            with open(log.name) as f:
                output = f.read()
            for marker in ('ERROR: AddressSanitizer', 'runtime error:', 'CRITICAL **', 'Gtk-ERROR'):
                assert marker not in output, 'oriel reported "%s":\n%s' % (marker, output)
    finally:
        for d in disks:
            d.close()
        shutil.rmtree(work, ignore_errors=True)
    print('PASS', flush=True)


def disk_row(listbox, device):
    """The list row whose disk line starts with device ("/dev/loop0 (67 MB), ...")."""
    def row():
        for item in listbox.findChildren(lambda n: n.roleName == 'list item'):
            if any(t.startswith(device + ' (') for t in labels(item)):
                return item
        return None
    return ui.wait_for(row, 'the row of %s' % device)


def choose(listbox, device):
    item = disk_row(listbox, device)
    item.select()
    ui.wait_for(lambda: item.selected, '%s selected' % device)
    return item


def run(daemon, clean_dev, hibernated_dev):
    app = ui.wait_for(lambda: next((a for a in tree.root.applications()
                                    if a.name in ('oriel', 'Oriel')), None), 'the oriel application')
    manager = ui.child(app, roleName='frame', name='Oriel')
    ui.click(ui.child(manager, roleName='push button', name='New'))
    wizard = ui.child(app, roleName='frame', name='Source')
    next_button = ui.child(wizard, roleName='push button', name='Next')
    back_button = ui.child(wizard, roleName='push button', name='Back')
    ui.click(ui.child(wizard, roleName='radio button', name='Use the Windows installed on this computer'))
    listbox = ui.child(wizard, name='Windows installations')
    # (Other disks of the test host may be unreadable: a note follows.)
    ui.wait_for(lambda: any(t.startswith('Windows was found on these disks. Choose one to continue.')
                            for t in labels(wizard)), 'the scan to find both disks')

    # 1. What the registry and the partition table say, for each disk.
    for dev in (clean_dev, hibernated_dev):
        texts = labels(disk_row(listbox, dev))
        for want in ('Windows 10 Pro, build 19045 (22H2)', 'Starts with UEFI'):
            assert want in texts, '%r not shown for %s: %r' % (want, dev, texts)
        joined = '\n'.join(texts)
        for want in ('Partition 1: EFI system partition', 'Partition 2: Microsoft reserved partition',
                     'Partition 3: Windows', 'Partition 4: Not shared with the virtual machine',
                     'Virtual disk controller: NVMe controller. Windows starts its NVMe driver (stornvme) at boot',
                     'loop device'):
            assert want in joined, '%r not shown for %s: %r' % (want, dev, texts)
    ui.settle()
    ui.screenshot('dualboot-wizard-source', wizard)
    ui.log('ok: both disks listed with Windows 10 Pro build 19045, UEFI, partitions and the NVMe controller')

    # 2. The hibernated installation: real mode refused, with the advice.
    choose(listbox, hibernated_dev)
    ui.next_page(wizard, next_button, 'Safety Checks')
    checks = ui.child(wizard, name='Safety checks')
    ui.child(checks, roleName='label', name=HIBERNATED_MESSAGE)
    ui.child(checks, roleName='label', name=HIBERNATED_ADVICE)
    refused = [n for n in checks.findChildren(lambda n: n.roleName == 'icon' and n.name == 'Refused in real mode')]
    assert len(refused) == 1, 'expected one check refusing real mode, got %d' % len(refused)
    assert any(t.startswith('Windows may say it is not activated') for t in labels(checks)), \
        'no activation warning: %r' % labels(checks)
    real = ui.child(wizard, roleName='radio button', name=REAL_RADIO)
    trial = ui.child(wizard, roleName='radio button', name=TRIAL_RADIO)
    ui.wait_for(lambda: not real.sensitive, 'real mode unavailable for the hibernated Windows')
    assert trial.checked, 'trial mode is not the mode chosen'
    ui.settle()
    ui.screenshot('dualboot-wizard-checks-hibernated', wizard)
    ui.log('ok: the hibernated Windows: "%s" / "%s", real mode refused' % (HIBERNATED_MESSAGE, HIBERNATED_ADVICE))

    # 3. The clean installation, in trial mode.
    ui.click(back_button)
    ui.wait_for(lambda: wizard.name == 'Source', 'back on the Source page')
    # After fixing something the user reads the disks again.
    rescan = ui.child(wizard, roleName='push button', name='Look Again')
    assert disk_row(listbox, hibernated_dev).selected
    ui.click(rescan)
    # The list is made anew: two rows again, the earlier choice gone.
    ui.wait_for(lambda: rescan.sensitive and any(
        t.startswith('Windows was found on these disks. Choose one to continue.') for t in labels(wizard))
        and len(listbox.findChildren(lambda n: n.roleName == 'list item')) == 2
        and not any(r.selected for r in listbox.findChildren(lambda n: n.roleName == 'list item')),
        'the second scan to list both disks again')
    choose(listbox, clean_dev)
    ui.next_page(wizard, next_button, 'Safety Checks')
    ui.wait_for(lambda: ui.find(checks, None, roleName='label', name=HIBERNATED_MESSAGE) is None
                and ui.find(checks, None, roleName='label', name='Windows was shut down cleanly.') is not None,
                'the clean disk\'s checks')
    verdicts = [n.name for n in checks.findChildren(lambda n: n.roleName == 'icon')]
    assert verdicts and set(verdicts) <= {'Passed', 'Warning'}, 'unexpected verdicts: %r' % verdicts
    assert verdicts.count('Warning') == 1, verdicts   # activation
    ui.wait_for(lambda: real.sensitive, 'real mode available for the clean Windows')
    assert trial.checked, 'trial mode is not the default'
    ui.settle()
    ui.screenshot('dualboot-wizard-checks', wizard)
    ui.log('ok: the clean Windows passes every check (%d, activation warns); trial is the default' % len(verdicts))

    ui.next_page(wizard, next_button, 'Operating System')
    ui.wait_for(lambda: ui.find(wizard, None, roleName='label',
                                name='Found on the disk: Windows 10 Pro, build 19045 (22H2). '
                                     'Choose another version below if this is wrong.') is not None,
                'the installation named on the OS page')
    ui.wait_for(lambda: any(t.startswith('Defaults: nvme disk bus, e1000e network card, UEFI firmware, USB tablet')
                            for t in labels(wizard)), 'the dual-boot platform offered')
    ui.next_page(wizard, next_button, 'Memory and CPUs')
    memory = ui.child(wizard, roleName='spin button', name='Memory in MiB')
    ui.wait_for(lambda: memory.showing, 'the resources page')
    memory.value = 256
    ui.next_page(wizard, next_button, 'Storage')
    ui.child(wizard, roleName='label', name='The disk Windows is installed on is used; no new disk is created.')
    ui.next_page(wizard, next_button, 'Name and Summary')
    name_entry = ui.child(wizard, roleName='text', name='Name')
    ui.wait_for(lambda: name_entry.showing, 'the name entry')
    name_entry.text = NAME
    finish = ui.enabled_finish(wizard)
    ui.settle()
    ui.screenshot('dualboot-wizard-summary', wizard)
    before = device_md5(clean_dev)
    ui.click(finish)

    def listed_or_error():
        if ui.cell_exists(manager, NAME):
            return True
        error = ui.find(app, None, roleName='alert', name='Error')
        if error is not None:
            ui.click(ui.child(error, roleName='toggle button', name='Details'))
            ui.settle()
            texts = labels(error) + [t.text for t in error.findChildren(lambda n: n.roleName == 'text') if t.text]
            raise AssertionError('the daemon refused the dual-boot VM: %s' % ' / '.join(texts))
        return None
    ui.wait_for(listed_or_error, 'the dual-boot VM listed')
    xml, dom = dumpxml(daemon, NAME)
    disk = dom.find('./devices/disk')
    assert disk is not None and disk.get('type') == 'block' and disk.get('device') == 'disk', xml
    assert disk.find('source').get('dev') == clean_dev, xml
    assert disk.find('target').get('bus') == 'nvme', xml
    db = disk.find('{%s}dualboot' % ORIEL_NS)
    assert db is not None and db.get('mode') == 'trial', xml
    parts = [(p.get('number'), p.get('role')) for p in db.findall('{%s}partition' % ORIEL_NS)]
    assert parts == [('1', 'esp'), ('2', 'msr'), ('3', 'windows')], parts
    assert dom.find('./os').get('firmware') == 'efi', xml
    assert dom.find('./os/type').get('machine', '').startswith(('q35', 'pc-q35')), xml
    assert dom.find('./features/smm') is not None, xml
    # The test host booted without Secure Boot: neither does the VM.
    sb = dom.find("./os/firmware/feature[@name='secure-boot']")
    assert sb is not None and sb.get('enabled') == 'no', xml
    assert dom.find('./clock').get('offset') == 'localtime', xml
    ui.log('ok: the assistant defined "%s": <oriel:dualboot mode=trial> with partitions %r, %s on nvme, UEFI'
           % (NAME, parts, clean_dev))

    console = running_console(daemon, app)
    work = tempfile.mkdtemp(prefix='oriel-dualboot-console-')
    port = guest.vnc_port(daemon, NAME)
    guest.wait_screen_shown(ui.child(console, name='Guest display'), port, work, 'dualboot')
    ui.settle()
    ui.screenshot('dualboot-console', console)
    ui.click(ui.child(console, roleName='push button', name='Force Off'))
    ui.child(app, roleName='frame', name='%s (Shut off)' % NAME)
    assert device_md5(clean_dev) == before, 'the disk changed under a trial-mode VM'
    ui.log('ok: the VM started from the assistant shows its screen in the console window; '
           'the disk is unchanged after it ran in trial mode')

    details(daemon, app)


def device_md5(device):
    h = hashlib.md5()
    with open(device, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def running_console(daemon, app):
    try:
        return ui.child(app, roleName='frame', name='%s (Running)' % NAME)
    except AssertionError:
        alerts = [a.name + ': ' + ' | '.join(labels(a)) for a in app.findChildren(lambda n: n.roleName == 'alert')]
        raise AssertionError('no running console window for the dual-boot VM; dialogs: %r' % alerts)


def details(daemon, app):
    """The console window's details: the mode and the two actions, each
    after its question."""
    console = ui.child(app, roleName='frame', name='%s (Shut off)' % NAME)
    ui.click(ui.child(console, roleName='radio button', name='Details'))
    ui.child(console, roleName='label', name='Trial mode: Windows’s writes go to a separate file; '
                                             'nothing reaches the disk.')
    discard = ui.child(console, roleName='push button', name='Discard Trial Changes')
    to_real = ui.child(console, roleName='push button', name='Switch to Real Mode')
    ui.wait_for(lambda: discard.sensitive and to_real.sensitive, 'the dual-boot actions enabled while shut off')
    ui.settle()
    ui.screenshot('dualboot-details-trial', console)

    trial = os.path.join(daemon.dualboot_dir, NAME, 'trial.qcow2')
    assert os.path.exists(trial), 'define made no trial overlay (%s)' % trial
    # Stands for what Windows wrote in trial mode (qcow2 ignores bytes
    # past its clusters); the discard must make a new overlay without it.
    marker = b'oriel-trial-writes' * 64
    with open(trial, 'ab') as f:
        f.write(marker)

    def marked():
        with open(trial, 'rb') as f:
            return f.read().endswith(marker)
    ui.click(discard)
    dialog = question(app, 'Discard the trial changes of “%s”?' % NAME, 'Discard')
    ui.click(ui.child(dialog, roleName='push button', name='Discard'))
    # The daemon deletes the overlay and makes a new, empty one.
    ui.wait_for(lambda: os.path.exists(trial) and not marked(), 'a new trial overlay')
    ui.wait_for(lambda: discard.sensitive, 'the discard done')
    xml, dom = dumpxml(daemon, NAME)
    db = dom.find('./devices/disk/{%s}dualboot' % ORIEL_NS)
    assert db is not None and db.get('mode') == 'trial' and db.get('discard-trial') is None, xml
    ui.log('ok: "Discard Trial Changes" redefined the VM: a new trial overlay; still trial, no discard-trial kept')

    ui.click(to_real)
    dialog = question(app, 'Switch “%s” to real mode?' % NAME, 'Switch to Real Mode')
    assert any('is not copied to the disk' in t for t in labels(dialog)), labels(dialog)
    ui.settle()
    ui.screenshot('dualboot-details-switch-question')
    ui.click(ui.child(dialog, roleName='push button', name='Switch to Real Mode'))
    ui.child(console, roleName='label', name='Real mode: Windows writes to its partitions on this computer’s disk.')
    xml, dom = dumpxml(daemon, NAME)
    db = dom.find('./devices/disk/{%s}dualboot' % ORIEL_NS)
    assert db is not None and db.get('mode') == 'real', xml
    ui.wait_for(lambda: not to_real.showing, 'no "Switch to Real Mode" in real mode')
    ui.settle()
    ui.screenshot('dualboot-details-real', console)
    ui.log('ok: "Switch to Real Mode" asked, then redefined the VM with mode=real')


if __name__ == '__main__':
    try:
        main()
    except AssertionError as e:
        print('FAIL: %s' % e, flush=True)
        sys.exit(1)
