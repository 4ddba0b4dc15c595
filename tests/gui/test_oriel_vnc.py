#!/usr/bin/python3
"""The console window shows a guest's screen through VNC, checked by pixels.

A second Xvfb painted solid red is served by x11vnc; a domain on libvirt's
test driver (loaded from a node file) points its <graphics type='vnc'> at
that port. oriel opens the VM's console window, and the test reads the
pixels of the guest display widget from the main X server until they are
red. Runs inside tests/gui/run-under-xvfb.
"""
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

from dogtail.config import config
config.checkForA11y = False
config.logDebugToFile = False

from dogtail import tree  # noqa: E402
import gi  # noqa: E402
gi.require_version('Gdk', '3.0')
from gi.repository import Gdk  # noqa: E402

ORIEL = os.environ['ORIEL_BIN']
SCREENS = os.environ.get('ORIEL_SCREENS_DIR', '/tmp/oriel-gui-screens')
TIMEOUT = 30
LOCKED_PASSWORD = 'oriel-secret'


def log(msg):
    print(msg, flush=True)


def wait_for(cond, what, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            r = cond()
            if r:
                return r
        except Exception as e:
            last = e
        time.sleep(0.1)
    raise AssertionError('timed out waiting for %s (%s)' % (what, last))


def find(parent, **kw):
    return parent.findChild(lambda n: all(getattr(n, k) == v for k, v in kw.items()),
                            retry=False, requireResult=False)


PAINTER = """
import sys, time
import gi
gi.require_version('Gtk', '3.0')
from gi.repository import Gtk, GLib, Gdk
for _ in range(100):  # Xvfb accepts clients a moment after it starts
    ok, _argv = Gtk.init_check(sys.argv)
    if ok:
        break
    time.sleep(0.1)
w = Gtk.Window(type=Gtk.WindowType.POPUP)
w.move(0, 0)
w.set_default_size(640, 480)
w.connect('draw', lambda wid, cr: (cr.set_source_rgb(1, 0, 0), cr.paint()))
def key(wid, ev):
    from gi.repository import Gdk
    mods = []
    if ev.state & Gdk.ModifierType.CONTROL_MASK:
        mods.append('ctrl')
    if ev.state & Gdk.ModifierType.MOD1_MASK:
        mods.append('alt')
    print('key %s %s' % (Gdk.keyval_name(ev.keyval), '+'.join(mods) or '-'), flush=True)
w.add_events(Gdk.EventMask.KEY_PRESS_MASK)
w.connect('key-press-event', key)
def done():
    print('painted', flush=True)
w.connect('map-event', lambda *a: GLib.timeout_add(50, lambda: done() and False))
w.show()
w.get_window().focus(Gdk.CURRENT_TIME)
Gtk.main()
"""


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def start_guest_screen(work):
    """Xvfb + x11vnc standing in for a guest's VNC server."""
    number = next(n for n in range(120, 400)
                  if not os.path.exists('/tmp/.X11-unix/X%d' % n) and not os.path.exists('/tmp/.X%d-lock' % n))
    display = ':%d' % number
    xvfb = subprocess.Popen(['Xvfb', display, '-screen', '0', '640x480x24', '-nolisten', 'tcp'],
                            stderr=open(os.path.join(work, 'xvfb.log'), 'w'))
    env = dict(os.environ, DISPLAY=display)
    env.pop('XAUTHORITY', None)  # that cookie belongs to the main X server
    # The "guest screen": a red window covering the guest X server.
    painter = subprocess.Popen(['/usr/bin/python3', '-c', PAINTER], env=env, stdout=subprocess.PIPE,
                               stderr=open(os.path.join(work, 'painter.log'), 'w'), text=True)
    wait_for(lambda: painter.stdout.readline().strip() == 'painted', 'the guest screen painted red')
    # Keys the "guest" receives, collected in the background.
    keys = []
    threading.Thread(target=lambda: [keys.append(l.strip()) for l in painter.stdout], daemon=True).start()
    procs = [painter, xvfb]
    ports = []
    # The same screen twice: without authentication, and with VNC
    # authentication (password LOCKED_PASSWORD).
    for auth in (['-nopw'], ['-passwd', LOCKED_PASSWORD]):
        port = free_port()
        procs.insert(0, subprocess.Popen(
            ['x11vnc', '-display', display, '-rfbport', str(port), '-localhost',
             '-forever', '-shared', '-quiet', '-noxdamage'] + auth,
            env=env, stdout=open(os.path.join(work, 'x11vnc-%d.log' % port), 'w'), stderr=subprocess.STDOUT))

        def listening():
            with socket.socket() as s:
                return s.connect_ex(('127.0.0.1', port)) == 0
        wait_for(listening, 'x11vnc listening on port %d' % port)
        ports.append(port)
    return procs, ports, keys


def red_fraction(node):
    root = Gdk.get_default_root_window()
    (x, y), (w, h) = node.position, node.size
    x, y = max(x, 0), max(y, 0)
    w, h = min(w, root.get_width() - x), min(h, root.get_height() - y)
    if w <= 0 or h <= 0:
        return 0.0
    pb = Gdk.pixbuf_get_from_window(root, x, y, w, h)
    data, stride, n = pb.get_pixels(), pb.get_rowstride(), pb.get_n_channels()
    red = total = 0
    for row in range(0, h, 4):
        base = row * stride
        for col in range(0, w, 4):
            p = base + col * n
            total += 1
            if data[p] > 200 and data[p + 1] < 60 and data[p + 2] < 60:
                red += 1
    return red / total


def red_width(node):
    """Width in pixels of the red area across the middle row of node."""
    root = Gdk.get_default_root_window()
    (x, y), (w, h) = node.position, node.size
    pb = Gdk.pixbuf_get_from_window(root, max(x, 0), max(y, 0), w, h)
    data, stride, n = pb.get_pixels(), pb.get_rowstride(), pb.get_n_channels()
    base = (h // 2) * stride
    cols = [c for c in range(w) if data[base + c * n] > 200 and data[base + c * n + 1] < 60]
    return (cols[-1] - cols[0] + 1) if cols else 0


def click_row(cell):
    """Selects a VM's row with a pointer click (no window manager here, so
    moving the X input focus explicitly would leave it on that window)."""
    from dogtail import rawinput
    (x, y), (w, h) = cell.position, cell.size
    rawinput.click(x + w // 2, y + h // 2)
    wait_for(lambda: row_of(cell).selected, 'the row of %s selected' % cell.name)


def row_of(cell):
    """The name sits in a container cell, which is the table's child."""
    row = cell
    while row.parent is not None and row.parent.roleName != 'tree table':
        row = row.parent
    return row


def run_password_prompt(app, manager):
    """A display with VNC authentication: the console window asks for the
    password, says so when it is wrong, and shows the screen once it is
    right."""
    # The first console window may cover the list: select through AT-SPI
    # (no menus or typing follow, which the explicit focus would disturb).
    cell = wait_for(lambda: find(manager, roleName='table cell', name='vnc-locked-guest'), 'vnc-locked-guest listed')
    row_of(cell).grabFocus()
    wait_for(lambda: row_of(cell).selected, 'the row of vnc-locked-guest selected')
    find(manager, roleName='push button', name='Open').doActionNamed('click')
    console = wait_for(lambda: find(app, roleName='frame', name='vnc-locked-guest (Running)'),
                       'the locked guest\'s console window')
    entry = wait_for(lambda: (lambda e: e if e is not None and e.showing else None)(
        find(console, roleName='password text', name='Display password')), 'the display password prompt')
    connect = find(console, roleName='push button', name='Connect')
    assert connect is not None and not connect.sensitive, 'Connect enabled without a password'
    entry.text = 'wrong-' + LOCKED_PASSWORD
    wait_for(lambda: connect.sensitive, 'Connect enabled with a password')
    connect.doActionNamed('click')
    wait_for(lambda: (lambda l: l is not None and l.showing)(
        find(console, roleName='label', name='The password was not accepted. Try again.')),
        'the wrong password refused, in the prompt')
    log('ok: a wrong display password is refused in the window')
    entry.text = LOCKED_PASSWORD
    wait_for(lambda: connect.sensitive, 'Connect enabled again')
    connect.doActionNamed('click')
    display = wait_for(lambda: find(console, name='Guest display'), 'guest display widget')
    wait_for(lambda: display.showing and red_fraction(display) > 0.6,
             'the locked guest\'s screen after the right password')
    log('ok: the right password opens the display')


def main():
    work = tempfile.mkdtemp(prefix='oriel-vnc-')
    os.makedirs(SCREENS, exist_ok=True)
    procs, (port, locked_port), keys = start_guest_screen(work)
    node = os.path.join(work, 'node.xml')
    domain = ("<domain type='test'><name>%s</name><memory>524288</memory>"
              "<vcpu>1</vcpu><os><type>hvm</type></os><devices>"
              "<graphics type='vnc' port='%d' autoport='no' listen='127.0.0.1'/>"
              "</devices></domain>")
    with open(node, 'w') as f:
        f.write("<node>" + domain % ('vnc-guest', port) + domain % ('vnc-locked-guest', locked_port) + "</node>")
    app_log = open(os.path.join(SCREENS, 'oriel-vnc-output.log'), 'w')
    proc = subprocess.Popen([ORIEL, '--connect', 'test://' + node], stdout=app_log, stderr=subprocess.STDOUT)
    try:
        app = wait_for(lambda: next((a for a in tree.root.applications()
                                     if a.name in ('oriel', 'Oriel')), None), 'the oriel application')
        manager = wait_for(lambda: find(app, roleName='frame', name='Oriel'), 'manager window')
        click_row(wait_for(lambda: find(manager, roleName='table cell', name='vnc-guest'), 'vnc-guest listed'))
        open_button = wait_for(lambda: find(manager, roleName='push button', name='Open'), 'Open')
        wait_for(lambda: open_button.sensitive, 'Open enabled')
        open_button.doActionNamed('click')
        console = wait_for(lambda: find(app, roleName='frame', name='vnc-guest (Running)'), 'console window')
        display = wait_for(lambda: find(console, name='Guest display'), 'guest display widget')
        wait_for(lambda: display.showing, 'guest display shown')
        frac = wait_for(lambda: (lambda f: f if f > 0.6 else None)(red_fraction(display)),
                        'the guest screen (red) in the console window')
        log('ok: %.0f%% of the guest display area shows the guest\'s red screen' % (frac * 100))
        Gdk.Display.get_default().sync()
        root = Gdk.get_default_root_window()
        (x, y), (w, h) = console.position, console.size
        pb = Gdk.pixbuf_get_from_window(root, max(x, 0), max(y, 0), w, h)
        pb.savev(os.path.join(SCREENS, 'console-window-vnc.png'), 'png', [], [])
        log('screenshot: ' + os.path.join(SCREENS, 'console-window-vnc.png'))
        # The Send Key menu offers the combinations users expect.
        send_key = find(console, name='Send Key')
        assert send_key is not None, 'no Send Key button'

        # Send Key delivers the combination to the guest.
        send_key.doActionNamed('click')
        item = wait_for(lambda: next((n for n in app.findChildren(
            lambda n: n.name == 'Ctrl+Alt+Delete' and n.roleName != 'label') if n.showing), None),
            'Ctrl+Alt+Delete in the Send Key menu')
        item.doActionNamed(list(item.actions.keys())[0])
        wait_for(lambda: 'key Delete ctrl+alt' in keys, 'the guest receiving Ctrl+Alt+Delete')
        log('ok: Send Key delivered Ctrl+Alt+Delete to the guest')

        # Typing into the display reaches the guest; the window shows how to
        # release the keyboard while it is grabbed.
        from dogtail import rawinput
        (x, y), (w, h) = display.position, display.size
        rawinput.click(x + w // 2, y + h // 2)
        rawinput.pressKey('q')
        wait_for(lambda: 'key q -' in keys, 'the guest receiving a typed key')
        hint = wait_for(lambda: next((l for l in console.findChildren(
            lambda n: n.roleName == 'label' and n.name.startswith('Keyboard shortcuts go to the virtual machine')
            or n.name == 'Press Ctrl+Alt to release the keyboard and mouse.') if l.showing), None),
            'the hint on releasing the grabbed keyboard')
        log('ok: typed keys reach the guest; hint shown: ' + hint.name)
        if hint.name.startswith('Press Ctrl+Alt'):
            for k in ('Control_L', 'Alt_L'):
                rawinput.holdKey(k)
            for k in ('Alt_L', 'Control_L'):
                rawinput.releaseKey(k)
        tool_x, tool_y = console.position
        rawinput.absoluteMotion(tool_x + 10, tool_y + 10)
        wait_for(lambda: not hint.showing, 'the grab released and its hint hidden')
        log('ok: grab released; hint hidden')

        # Scaling: on by default the guest fills the window; off, it is shown
        # at its own 640 pixels.
        scaled = red_width(display)
        assert scaled > 700, 'guest not scaled to the %d-pixel display: %d' % (display.size[0], scaled)
        scale_toggle = find(console, roleName='toggle button', name='Scale Display')
        assert scale_toggle is not None and scale_toggle.checked, 'Scale Display not on by default'
        scale_toggle.doActionNamed('click')
        wait_for(lambda: red_width(display) == 640, 'the guest at 640 pixels with scaling off')
        scale_toggle.doActionNamed('click')
        wait_for(lambda: red_width(display) > 700, 'the guest scaled again')
        log('ok: Scale Display switches between %d and 640 pixels wide' % scaled)

        # Screenshot to PNG: the saved image is the guest's screen.
        shot = os.path.join(work, 'guest-shot.png')
        find(console, roleName='push button', name='Screenshot').doActionNamed('click')
        chooser = wait_for(lambda: find(app, roleName='file chooser', name='Save Screenshot'),
                           'the Save Screenshot dialog')
        name_entry = wait_for(lambda: next((t for t in chooser.findChildren(
            lambda n: n.roleName == 'text') if t.showing and 'png' in (t.text or '')), None),
            'the file name field with a suggested .png name')
        name_entry.text = shot
        wait_for(lambda: find(chooser, roleName='push button', name='Save'), 'Save button').doActionNamed('click')
        wait_for(lambda: os.path.exists(shot) and os.path.getsize(shot) > 0, 'the screenshot file')
        from gi.repository import GdkPixbuf
        img = wait_for(lambda: GdkPixbuf.Pixbuf.new_from_file(shot), 'a readable PNG')
        assert (img.get_width(), img.get_height()) == (640, 480), (img.get_width(), img.get_height())
        px = img.get_pixels()
        mid = (img.get_height() // 2) * img.get_rowstride() + (img.get_width() // 2) * img.get_n_channels()
        assert (px[mid], px[mid + 1], px[mid + 2]) == (255, 0, 0), tuple(px[mid:mid + 3])
        log('ok: screenshot saved as a 640x480 PNG of the guest screen')
        run_password_prompt(app, manager)
        assert proc.poll() is None, 'oriel exited'
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        for p in procs:
            p.terminate()
            p.wait(10)
    log('PASS')


if __name__ == '__main__':
    try:
        main()
    except AssertionError as e:
        log('FAIL: %s' % e)
        sys.exit(1)
