#!/usr/bin/python3
"""Inside a test host: oriel runs a real guest through virtorield.

1. A direct-kernel-boot guest (Debian cloud kernel + busybox initramfs
   from the test assets), defined with virsh, then through the GUI: Run,
   the state following the daemon's events, the console window's serial
   console (VTE on a virDomainOpenConsole stream) showing the guest's
   shell prompt, a command typed into it and its answer; Save (a managed
   save: the VMM writes the guest's state) and Run, after which the same
   shell answers with a variable set before the save; and Force Off.
2. The new-VM assistant with a GRUB ISO (built outside, $ORIEL_TEST_GRUB_ISO):
   the VM is created in the daemon, boots through SeaBIOS, and its console
   window shows the guest's screen: the display widget's pixels match a
   gvnccapture screenshot of the VM's VNC server, in the window and in
   fullscreen (left again through the revealed toolbar).
3. A slow connection: a second oriel reaches the daemon through a proxy
   that holds every packet from the daemon for 2 s (delay_proxy.py).
   During a Run and a Save, while the reply is still held in the proxy,
   the button goes insensitive, the list shows the operation in progress
   ("Starting…", "Saving…") and a second click is handled (another VM
   selected and Delete pressed, whose question reads the VM's disks: that
   request reaches the proxy first; the question is cancelled); then
   the result arrives (running, then shut off with the state saved)."""
import os
import subprocess
import time
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'daemon'))
sys.path.insert(0, os.path.join(HERE, '..', 'testhost'))

import test_oriel_ui as ui  # noqa: E402
from daemon_fixture import Daemon, demo_xml  # noqa: E402
import delay_proxy  # noqa: E402
import testhost  # noqa: E402
from dogtail import tree, rawinput  # noqa: E402
from dogtail.config import config  # noqa: E402
from gi.repository import Gdk  # noqa: E402
from PIL import Image  # noqa: E402

BOOT_TIMEOUT = 300
# libvirt's remote procedure numbers (remote_protocol.x).
PROC_DOMAIN_CREATE = 9
PROC_DOMAIN_MANAGED_SAVE = 182
PROC_DOMAIN_GET_XML_DESC = 14
PROC_GET_ALL_DOMAIN_STATS = 344
PROXY_DELAY = 2.0
# Everything runs on an emulated CPU in the test host: give each UI step
# far more time than on the machine itself.
ui.TIMEOUT = 180


def guest_xml(name='console-guest'):
    assets = testhost.read_manifest()
    xml = demo_xml(name=name, memory=128, kernel=assets['VMLINUZ_CLOUD'],
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
            iso = os.environ.get('ORIEL_TEST_GRUB_ISO')
            if iso:
                run_iso_console(daemon, iso)
            else:
                ui.log('note: ORIEL_TEST_GRUB_ISO not set; the ISO console check did not run')
        finally:
            proc.terminate()
            proc.wait(10)
        run_delayed(daemon)
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
    # No window manager here: the terminal takes the focus through AT-SPI
    # (GTK then gives its window the X input focus itself), and the pointer
    # rests over it as well.  The guest's shell computes the answer, so it
    # cannot be the echo of what was typed.
    term_click(term)
    term.grabFocus()
    ui.wait_for(lambda: term.focused, 'the serial console focused')
    rawinput.typeText('echo typed-$((6*7))')
    rawinput.pressKey('Return')
    try:
        ui.wait_for(lambda: 'typed-42' in terminal_text(term),
                    'the answer to a command typed into the serial console', timeout=120)
    except AssertionError:
        ui.screenshot('guest-serial-console-typing', console)
        raise AssertionError('no answer to the typed command; the terminal ends with %r'
                             % terminal_text(term)[-300:])
    ui.log('ok: a command typed into the serial console ran in the guest')
    ui.settle()
    ui.screenshot('guest-serial-console', console)

    console, term = save_and_restore(daemon, app, manager, run_button, term)

    ui.click(ui.child(console, roleName='push button', name='Force Off'))
    ui.child(app, roleName='frame', name='console-guest (Shut off)')
    ui.wait_for(lambda: ui.cell_exists(manager, 'Shut off'), 'Shut off in the list')
    ui.log('ok: forced off; state followed')


def domstate(daemon):
    return subprocess.run(['virsh', '-q', '-c', daemon.uri, 'domstate', '--reason', 'console-guest'],
                          capture_output=True, text=True, check=True).stdout.strip()


def save_and_restore(daemon, app, manager, run_button, term):
    """Save from the manager's toolbar (a managed save in the daemon, the
    VMM writing the guest's whole state), then Run: the same guest goes on,
    proven by a shell variable set before the save."""
    rawinput.typeText('KEPT=kept$((6*7))')
    rawinput.pressKey('Return')
    save = ui.child(manager, roleName='push button', name='Save')
    ui.wait_for(lambda: save.sensitive, 'Save enabled for the running guest')
    ui.click(save)
    ui.wait_for(lambda: ui.cell_exists(manager, 'Shut off'), 'Shut off after Save', timeout=BOOT_TIMEOUT)
    state = domstate(daemon)
    assert state == 'shut off (saved)', state
    ui.log('ok: Save stopped the guest with its state on disk')
    ui.wait_for(lambda: run_button.sensitive, 'Run enabled after Save')
    ui.click(run_button)
    ui.wait_for(lambda: ui.cell_exists(manager, 'Running'), 'Running after Run', timeout=BOOT_TIMEOUT)
    state = domstate(daemon)
    assert state == 'running (restored)', state
    console = ui.child(app, roleName='frame', name='console-guest (Running)')
    term = ui.child(console, name='Serial console', roleName='terminal')
    term_click(term)
    term.grabFocus()
    ui.wait_for(lambda: term.focused, 'the serial console focused again')
    # A restored shell prints no new prompt: type until it answers.
    deadline = time.monotonic() + 120
    while 'kept42' not in terminal_text(term):
        assert time.monotonic() < deadline, \
            'the restored guest did not answer; the terminal ends with %r' % terminal_text(term)[-300:]
        rawinput.typeText('echo $KEPT')
        rawinput.pressKey('Return')
        try:
            ui.wait_for(lambda: 'kept42' in terminal_text(term), 'the restored shell\'s answer', timeout=10)
        except AssertionError:
            pass
    ui.log('ok: Run continued the saved guest (its shell variable is still set)')
    ui.screenshot('guest-serial-console-restored', console)
    return console, term


def term_click(node):
    (x, y), (w, h) = node.position, node.size
    rawinput.click(x + w // 2, y + h // 2)


def vnc_port(daemon, name):
    out = subprocess.run(['virsh', '-c', daemon.uri, 'dumpxml', name], check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    g = ET.fromstring(out).find("./devices/graphics[@type='vnc']")
    assert g is not None and int(g.get('port', '-1')) > 0, 'no VNC port in the live XML'
    return int(g.get('port'))


def widget_image(node):
    """The widget's pixels on the X screen, as a PIL image."""
    root = Gdk.get_default_root_window()
    (x, y), (w, h) = node.position, node.size
    Gdk.flush()
    pb = Gdk.pixbuf_get_from_window(root, x, y, w, h)
    mode = 'RGBA' if pb.get_has_alpha() else 'RGB'
    return Image.frombytes(mode, (w, h), pb.get_pixels(), 'raw', mode, pb.get_rowstride()).convert('L')


def vnc_image(port, work):
    path = os.path.join(work, 'capture.png')
    subprocess.run(['gvnccapture', '127.0.0.1:%d' % (port - 5900), path], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    return Image.open(path).convert('L')


GRID = (32, 20)


def grid_means(img, box):
    """Mean brightness of each cell of a GRID over box (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    cells = []
    for j in range(GRID[1]):
        for i in range(GRID[0]):
            cx0 = int(x0 + (x1 - x0) * (i + 0.2) / GRID[0])
            cx1 = int(x0 + (x1 - x0) * (i + 0.8) / GRID[0])
            cy0 = int(y0 + (y1 - y0) * (j + 0.2) / GRID[1])
            cy1 = int(y0 + (y1 - y0) * (j + 0.8) / GRID[1])
            region = img.crop((cx0, cy0, max(cx1, cx0 + 1), max(cy1, cy0 + 1)))
            px = list(region.getdata())
            cells.append(sum(px) / len(px))
    return cells


def screen_matches(display, port, work):
    """Whether the display widget shows the guest's screen: both cut into
    the same grid (the widget scales the screen to fit, keeping its aspect
    ratio, centred), cell brightness within a tolerance, and the screen not
    blank.  Returns (matches, detail)."""
    guest = vnc_image(port, work)
    shown = widget_image(display)
    gw, gh = guest.size
    w, h = shown.size
    scale = min(w / gw, h / gh)
    dw, dh = gw * scale, gh * scale
    ox, oy = (w - dw) / 2, (h - dh) / 2
    g = grid_means(guest, (0, 0, gw, gh))
    s = grid_means(shown, (ox, oy, ox + dw, oy + dh))
    worst = max(abs(a - b) for a, b in zip(g, s))
    lit = sum(1 for v in g if v > 16)
    detail = 'guest %dx%d in a %dx%d widget: %d lit cells, worst cell difference %.0f' % (gw, gh, w, h, lit, worst)
    return lit >= 3 and worst < 48, detail, guest


def wait_screen_shown(display, port, work, what):
    last = ['']

    def check():
        ok, last[0], guest = screen_matches(display, port, work)
        if ok:
            guest.save(os.path.join(ui.SCREENS, 'guest-vnc-capture-%s.png' % what))
        return ok
    try:
        ui.wait_for(check, 'the guest\'s screen in the console window (%s)' % what, timeout=BOOT_TIMEOUT)
    except AssertionError:
        raise AssertionError('the console window does not show the guest\'s screen (%s): %s' % (what, last[0]))
    ui.log('ok: the console window shows the guest\'s screen (%s; %s)' % (what, last[0]))


def run_iso_console(daemon, iso):
    app = ui.wait_for(lambda: next((a for a in tree.root.applications()
                                    if a.name in ('oriel', 'Oriel')), None), 'the oriel application')
    manager = ui.child(app, roleName='frame', name='Oriel')
    ui.click(ui.child(manager, roleName='push button', name='New'))
    wizard = ui.child(app, roleName='frame', name='Source')
    next_button = ui.child(wizard, roleName='push button', name='Next')
    ui.click(ui.child(wizard, roleName='radio button', name='Local install media (ISO image)'))
    ui.child(wizard, roleName='text', name='ISO image').text = iso
    ui.next_page(wizard, next_button, 'Operating System')
    ui.child(wizard, roleName='label',
             name='The operating system on the installer was not recognised. Choose it from the list.')
    ui.child(wizard, roleName='text', name='Search operating systems').text = 'generic linux'
    os_table = ui.child(wizard, name='Operating systems')
    cell = ui.wait_for(lambda: next(iter(os_table.findChildren(
        lambda n: n.roleName == 'table cell' and n.name.startswith('Generic Linux'))), None),
        'Generic Linux in the OS list')
    # Focusing a row of the list selects it.
    cell.grabFocus()
    ui.wait_for(lambda: cell.selected or cell.parent.selected, 'Generic Linux selected')
    ui.next_page(wizard, next_button, 'Memory and CPUs')
    memory = ui.child(wizard, roleName='spin button', name='Memory in MiB')
    ui.wait_for(lambda: memory.showing, 'the resources page')
    memory.value = 256     # through AtkValue, which sets the spin button's value
    ui.next_page(wizard, next_button, 'Storage')
    # A small disk: the daemon's pool here lives in the test host's RAM.
    size = ui.child(wizard, roleName='spin button', name='Disk size in GiB')
    ui.wait_for(lambda: size.showing, 'the storage page')
    size.value = 1
    ui.settle()
    ui.screenshot('guest-iso-wizard-storage', wizard)
    ui.next_page(wizard, next_button, 'Name and Summary')
    name_entry = ui.child(wizard, roleName='text', name='Name')
    ui.wait_for(lambda: name_entry.showing, 'the name entry')
    name_entry.text = 'grub-iso'
    finish = ui.enabled_finish(wizard)
    ui.settle()
    ui.screenshot('guest-iso-wizard-summary', wizard)
    ui.click(finish)
    try:
        console = ui.child(app, roleName='frame', name='grub-iso (Running)')
    except AssertionError:
        ui.screenshot('guest-iso-after-finish')
        alerts = [a.name + ': ' + ' | '.join(l.name for l in a.findChildren(lambda n: n.roleName == 'label'))
                  for a in app.findChildren(lambda n: n.roleName == 'alert')]
        with open(daemon.log_path, errors='replace') as f:
            print(''.join([line for line in f if 'proc 344 ' not in line][-40:]), flush=True)
        raise AssertionError('no running console window for the new VM; dialogs: %r' % alerts)
    ui.wait_for(lambda: ui.cell_exists(manager, 'grub-iso'), 'the ISO VM in the list')
    ui.log('ok: the assistant created and started "grub-iso" in the daemon')
    xml = subprocess.run(['virsh', '-c', daemon.uri, 'dumpxml', 'grub-iso'], check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    assert iso in xml, 'the ISO is not the new VM\'s CD-ROM'

    work = tempfile.mkdtemp(prefix='oriel-iso-console-')
    port = vnc_port(daemon, 'grub-iso')
    display = ui.child(console, name='Guest display')
    wait_screen_shown(display, port, work, 'window')
    ui.settle()
    ui.screenshot('guest-iso-console', console)

    # Fullscreen: the window covers the screen, the toolbar goes, the
    # screen is still shown (larger); the pointer at the top reveals
    # "Leave Fullscreen".  Fullscreen is the window manager's job, so one
    # runs from here on.
    wm = start_window_manager()
    try:
        run_fullscreen(console, display, port, work)
    finally:
        wm.terminate()
        wm.wait(10)
    ui.click(ui.child(console, roleName='push button', name='Force Off'))
    ui.child(app, roleName='frame', name='grub-iso (Shut off)')


def start_window_manager():
    wm = subprocess.Popen(['openbox', '--sm-disable'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def running():
        assert wm.poll() is None, 'the window manager exited'
        out = subprocess.run(['xprop', '-root', '_NET_SUPPORTING_WM_CHECK'], stdout=subprocess.PIPE,
                             universal_newlines=True).stdout
        return 'window id' in out
    ui.wait_for(running, 'the window manager to take over the screen')
    return wm


def run_fullscreen(console, display, port, work):
    root = Gdk.get_default_root_window()
    small = display.size
    fullscreen = ui.child(console, roleName='push button', name='Fullscreen')
    ui.click(fullscreen)
    ui.wait_for(lambda: tuple(console.size) == (root.get_width(), root.get_height()),
                'the console window covering the screen')
    ui.wait_for(lambda: display.size[0] > small[0] and display.size[1] > small[1], 'a larger guest display')
    wait_screen_shown(display, port, work, 'fullscreen')
    ui.settle()
    ui.screenshot('guest-iso-console-fullscreen', console)
    rawinput.absoluteMotion(root.get_width() // 2, 1)
    leave = ui.wait_for(lambda: next((b for b in console.findChildren(
        lambda n: n.roleName == 'push button' and n.name == 'Leave Fullscreen') if b.showing), None),
        'the revealed Leave Fullscreen button')
    ui.click(leave)
    ui.wait_for(lambda: tuple(console.size) != (root.get_width(), root.get_height()), 'fullscreen left')
    ui.wait_for(lambda: fullscreen.showing, 'the toolbar back after fullscreen')
    ui.log('ok: fullscreen and back through the revealed toolbar')


def oriel_app():
    return ui.wait_for(lambda: next((a for a in tree.root.applications()
                                     if a.name in ('oriel', 'Oriel')), None), 'the oriel application')


def define(daemon, name):
    path = os.path.join(daemon.root, name + '.xml')
    with open(path, 'w') as f:
        f.write(guest_xml(name))
    subprocess.run(['virsh', '-q', '-c', daemon.uri, 'define', path], check=True)


def run_delayed(daemon):
    # One more shut-off VM for each action's second click.
    define(daemon, 'other-a')
    define(daemon, 'other-b')
    # The first instance must be gone from the bus before the second starts.
    ui.wait_for(lambda: not any(a.name in ('oriel', 'Oriel') for a in tree.root.applications()),
                'the previous oriel gone from AT-SPI')
    proxy_log = os.path.join(ui.SCREENS, 'delay-proxy.log')
    proxy = delay_proxy.DelayProxy(os.path.join(daemon.root, 'delay.sock'), daemon.rw_sock,
                                   proxy_log, PROXY_DELAY).start()
    log = open(os.path.join(ui.SCREENS, 'oriel-delayed-output.log'), 'w')
    proc = subprocess.Popen([ui.ORIEL, '--connect', proxy.uri], stdout=log, stderr=subprocess.STDOUT)
    try:
        app = oriel_app()
        manager = ui.child(app, roleName='frame', name='Oriel')
        table = ui.child(manager, roleName='tree table')
        guest = ui.child(table, roleName='table cell', name='console-guest')
        run_button = ui.child(manager, roleName='push button', name='Run')
        save = ui.child(manager, roleName='push button', name='Save')
        ui.select_cell(guest)
        ui.wait_for(lambda: run_button.sensitive, 'Run enabled (slow connection)')

        slow_action(app, table, proxy_log, run_button, PROC_DOMAIN_CREATE, 'Starting…', guest, 'other-a')
        ui.wait_for(lambda: ui.cell_exists(table, 'Running'), 'Running after Run (slow connection)',
                    timeout=BOOT_TIMEOUT)
        state = domstate(daemon)
        assert state.startswith('running'), state
        ui.log('ok: the VM runs after Run through the slow connection')

        ui.select_cell(guest)
        ui.wait_for(lambda: save.sensitive, 'Save enabled (slow connection)')
        slow_action(app, table, proxy_log, save, PROC_DOMAIN_MANAGED_SAVE, 'Saving…', guest, 'other-b')
        # console-guest was the only running VM.
        ui.wait_for(lambda: not ui.cell_exists(table, 'Running'), 'no longer Running after Save (slow connection)',
                    timeout=BOOT_TIMEOUT)
        state = domstate(daemon)
        assert state == 'shut off (saved)', state
        ui.log('ok: the state is saved after Save through the slow connection')
    finally:
        proc.terminate()
        proc.wait(10)
        proxy.stop()
        log.close()
    with open(log.name) as f:
        output = f.read()
    for marker in ('ERROR: AddressSanitizer', 'runtime error:', 'CRITICAL **', 'Gtk-ERROR'):
        assert marker not in output, 'oriel reported "%s" on the slow connection:\n%s' % (marker, output)


def released(proxy_log, proc):
    return sum(1 for _held, rel in delay_proxy.replies(proxy_log, proc) if rel is not None)


def state_text_node(table, name_cell):
    """The text cell of the State column in name_cell's row: the table's
    children are each row's column cells in order, the State column's a
    container of the spinner and the text."""
    row = ui.row_of(name_cell)
    state = table[row.indexInParent + 1]
    texts = [c for c in state if c.roleName == 'table cell' and c.name]
    return texts[-1] if texts else state


def slow_action(app, table, proxy_log, button, proc, progress, busy_cell, other_name):
    """Clicks button (an action on busy_cell's VM) and, while the proxy
    holds that action's reply, checks that the list shows the progress
    label with the button insensitive, and that the window handles a
    second click: the other VM is picked by typing its name into the
    list (the tree view's search) and Delete pressed, whose question (then
    cancelled) first reads the VM's disks.  That second click is judged by
    the proxy's log, so the slowness of AT-SPI in the test host does not
    decide the outcome: the XML request must reach the proxy before the
    held reply leaves it.  Then the reply arrives, held for the proxy's
    delay, and the progress label goes."""
    what = 'start' if proc == PROC_DOMAIN_CREATE else 'save'
    state_cell = state_text_node(table, busy_cell)
    # Nothing else in flight (the list's XML reads, say): a request for the
    # other VM's XML after the click then comes from the click.
    ui.wait_for(lambda: not delay_proxy.pending_calls(proxy_log, ignore=(PROC_GET_ALL_DOMAIN_STATS,)),
                'the connection idle before the %s' % what)
    before = released(proxy_log, proc)
    ui.select_cell(busy_cell)       # also gives the list the keyboard focus
    clicked = time.time()
    ui.click(button)
    ui.wait_for(lambda: not button.sensitive, 'the button insensitive while "%s"' % progress)
    insensitive_while_held = released(proxy_log, proc) == before
    # The second click, from the keyboard (X events, no AT-SPI round trips),
    # before the label is read: the window has the action's time in the
    # daemon plus 2 s for both.  The other VM's name typed into the list's
    # search selects it; Escape closes the search; Delete asks whether to
    # delete it, after reading its disks (a request to the daemon).
    typing_delay, config.typingDelay = config.typingDelay, 0.01
    try:
        rawinput.typeText(other_name)
        rawinput.pressKey('Escape')
        rawinput.pressKey('Delete')
    finally:
        config.typingDelay = typing_delay
    ui.wait_for(lambda: state_cell.name == progress or released(proxy_log, proc) > before,
                'the progress indication "%s"' % progress)
    progress_while_held = state_cell.name == progress and released(proxy_log, proc) == before
    question = ui.wait_for(lambda: next((d for d in app.findChildren(
        lambda n: n.roleName in ('alert', 'dialog') and n.showing)
        if ui.find(d, None, roleName='push button', name='Delete')), None),
        'the question to delete %s' % other_name)
    ui.wait_for(lambda: released(proxy_log, proc) > before, 'the %s reply to leave the proxy' % what,
                timeout=BOOT_TIMEOUT)
    held, rel = delay_proxy.replies(proxy_log, proc)[-1]
    assert rel - held >= PROXY_DELAY * 0.9, (held, rel)
    asked = [t for t in delay_proxy.requests(proxy_log, PROC_DOMAIN_GET_XML_DESC, other_name) if t > clicked]
    assert asked and asked[0] < rel, \
        'the second click was not handled while the %s reply was held (its request at %r, reply released at %.2f)' \
        % (what, asked[:1], rel)
    assert progress_while_held, 'the progress indication "%s" was first seen after the reply left the proxy' % progress
    assert insensitive_while_held, 'the button went insensitive only after the reply left the proxy'
    ui.log('ok: while the %s reply was held (%.1f s), the list showed "%s" with the button insensitive, '
           'and a second click picked another VM and asked to delete it (its request %.1f s before the reply)'
           % (what, rel - held, progress, rel - asked[0]))
    ui.click(ui.child(question, roleName='push button', name='Cancel'))
    ui.wait_for(lambda: state_cell.name != progress, 'the progress indication to go', timeout=BOOT_TIMEOUT)

if __name__ == '__main__':
    try:
        main()
    except AssertionError as e:
        print('FAIL: %s' % e, flush=True)
        sys.exit(1)
