#!/usr/bin/python3
"""--boot cdrom,menu: SeaBIOS offers its boot menu on the VGA text screen;
ESC typed through the VNC server (RFB key events -> i8042 -> SeaBIOS's
keyboard driver) opens it, and "1" then boots the CD-ROM.  The menu is
read back from the screen (screendump decoded against the VGA font).

The firmware's 5 s wait is short next to how slowly the test host decodes
screenshots, so the test follows the firmware's debug log (port 0x402,
printed by oriel-vmm with G_MESSAGES_DEBUG=all) to know when the prompt is
up, then presses ESC until the menu shows."""

import importlib.util
import os
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fwtest  # noqa: E402
from fwtest import check, log  # noqa: E402
from vmmtest import VMM, Control  # noqa: E402

_spec = importlib.util.spec_from_file_location("firmware_vnc", os.path.join(HERE, "firmware-vnc.py"))
fvnc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fvnc)


def wait_screen(ctl, tmp, text, timeout):
    """Poll the decoded text screen until it shows text."""
    deadline = time.monotonic() + timeout
    path = os.path.join(tmp, "menu.png")
    while True:
        ctl.command("screendump", filename=path)
        try:
            lines, _ = fvnc.decode_text_screen(path)
        except fvnc.Failure:
            lines = []      # not (yet) a text screen
        if any(text in line for line in lines):
            return lines
        check(time.monotonic() < deadline, "%r not on the screen within %s s; screen:\n%s"
              % (text, timeout, "\n".join(l for l in lines if l)))
        time.sleep(0.2)


def inner(vmm_bin, media):
    tmp = tempfile.mkdtemp(prefix="oriel-fw-menu-")
    os.environ["G_MESSAGES_DEBUG"] = "all"
    # The serial console on stdout too, where the firmware log goes.
    vmm = VMM(vmm_bin, ["--memory", "512M", "--bios", fwtest.BIOS, "--serial", "stdio",
                        "--cdrom", media["CDROM"], "--boot", "cdrom,menu",
                        "--vnc", "127.0.0.1:0"])
    con = vmm.stdout
    try:
        ctl = Control(vmm.control_path)
        rfb = fvnc.RFBClient("127.0.0.1", int(ctl.command("query-vnc")["service"]))
        vmm.stdout.expect("firmware: PS2 keyboard initialized", 180)
        vmm.stdout.expect("firmware: Press ESC for boot menu", 180)
        menu_seen = threading.Event()

        def press_escape():
            while not menu_seen.is_set():
                rfb.key(0xff1b, True)
                rfb.key(0xff1b, False)
                menu_seen.wait(0.3)

        presser = threading.Thread(target=press_escape, daemon=True)
        presser.start()
        try:
            vmm.stdout.expect("firmware: Select boot device", 30)
        finally:
            menu_seen.set()
            presser.join()
        # The entries follow the heading on the screen.
        lines = wait_screen(ctl, tmp, "1. DVD/CD", 60)
        log("boot menu:\n%s" % "\n".join(l for l in lines if l))
        check(any("Select boot device" in l for l in lines), "no menu heading on the screen")
        rfb.type("1")
        fwtest.expect_boot(vmm, con, "CDROM")
    finally:
        vmm.kill()


if __name__ == "__main__":
    fwtest.main(__file__, inner, ["CDROM"])
