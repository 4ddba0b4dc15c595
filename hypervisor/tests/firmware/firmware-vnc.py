#!/usr/bin/python3
"""The guest's screen and keyboard over oriel-vmm's VNC server while it
boots through SeaBIOS:

1. GRUB's text on the VGA text screen: a gvnccapture screenshot, taken
   while the VM is stopped right after GRUB printed its marker, is decoded
   cell by cell against the 8x16 font of the VGA BIOS (the font the VGA
   BIOS loads into plane 2), and the decoded screen holds the marker;
2. keys typed through an RFB client (key events, with Shift) reach a shell
   on tty1, which creates a file the test then finds over the serial
   console;
3. after the guest loads bochs-drm, a screenshot has the resolution the
   driver set and non-empty content (the framebuffer console's text);
4. Ctrl+Alt+Del sent by the RFB client reboots the guest.
"""

import json
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fwtest  # noqa: E402
from fwtest import Failure, check, log  # noqa: E402
from vmmtest import Control, Shell  # noqa: E402

VGA_ROM = "/usr/share/seabios/vgabios-stdvga.bin"
# bochs-drm and what it needs in Debian's generic 6.1 kernel, in load order
# (resolved with modinfo at build time).
BOCHS = "kernel/drivers/gpu/drm/tiny/bochs.ko"


def vga_font():
    """The 256 8x16 glyphs of the VGA BIOS, found by the well-known shape
    of glyph 1 (the smiling face) in the ROM."""
    rom = open(VGA_ROM, "rb").read()
    smiley = bytes([0, 0, 0x7e, 0x81, 0xa5, 0x81, 0x81, 0xbd, 0x99, 0x81, 0x81, 0x7e])
    i = rom.find(smiley)
    check(i >= 16, "no 8x16 font in %s" % VGA_ROM)
    base = i - 16
    return [rom[base + 16 * c: base + 16 * c + 16] for c in range(256)]


def decode_text_screen(png):
    """Read an 80x25 text screen back from a screenshot: each cell's pixels
    split into foreground/background and matched exactly against the
    font's glyphs.  Returns (lines, cells that matched a non-blank glyph)."""
    from PIL import Image
    img = Image.open(png).convert("RGB")
    w, h = img.size
    check(w % 80 == 0 and h % 25 == 0, "screenshot %dx%d is not an 80x25 text screen" % (w, h))
    cw, ch = w // 80, h // 25
    check(ch == 16 and cw in (8, 9), "character cell %dx%d, expected 8x16 or 9x16" % (cw, ch))
    px = img.load()
    font = vga_font()
    index = {}
    for c in range(32, 127):
        index.setdefault(bytes(font[c]), chr(c))
    inverse = {bytes(0xff ^ b for b in g): c for g, c in index.items()}
    lines, matched = [], 0
    for row in range(25):
        line = []
        for col in range(80):
            x0, y0 = col * cw, row * ch
            colors = {}
            for y in range(16):
                for x in range(8):
                    p = px[x0 + x, y0 + y]
                    colors[p] = colors.get(p, 0) + 1
            if len(colors) == 1:
                line.append(" ")
                continue
            if len(colors) != 2:
                line.append("?")
                continue
            # The glyph's set bits are one colour (usually the rarer one),
            # the rest the other: the inverse table covers the other case.
            fg = min(colors, key=lambda k: colors[k])
            bits = bytes(sum(0x80 >> x for x in range(8) if px[x0 + x, y0 + y] == fg)
                         for y in range(16))
            c = index.get(bits) or inverse.get(bits)
            cursor = False
            if c is None:
                # The text cursor: full-width lines at the bottom of the cell
                # over the glyph.
                under = bytes(0 if y >= 12 and bits[y] == 0xff else bits[y] for y in range(16))
                c = index.get(under)
                cursor = c is not None and under != bits
            if c is None:
                line.append("?")
                continue
            if cw == 9 and not cursor and \
                    any(px[x0 + 8, y0 + y] != px[x0 + 8, y0] for y in range(16)):
                line.append("?")   # column 9 repeats only for line-drawing glyphs
                continue
            line.append(c)
            matched += c != " "
        lines.append("".join(line).rstrip())
    return lines, matched


class RFBClient:
    """Just enough RFB 3.8 to send keys: security None, ClientInit."""

    def __init__(self, host, port):
        self.s = socket.create_connection((host, port), timeout=30)
        ver = self._recv(12)
        check(ver.startswith(b"RFB 003."), "RFB greeting %r" % ver)
        self.s.sendall(b"RFB 003.008\n")
        n = self._recv(1)[0]
        types = self._recv(n)
        check(1 in types, "security types %r offer no None" % types)
        self.s.sendall(b"\x01")
        check(struct.unpack(">I", self._recv(4))[0] == 0, "security handshake failed")
        self.s.sendall(b"\x01")                       # shared
        w, h = struct.unpack(">HH", self._recv(4))
        self._recv(16)
        name_len = struct.unpack(">I", self._recv(4))[0]
        self.name = self._recv(name_len).decode(errors="replace")
        log("RFB: %dx%d desktop %r" % (w, h, self.name))

    def _recv(self, n):
        out = b""
        while len(out) < n:
            chunk = self.s.recv(n - len(out))
            if not chunk:
                raise Failure("VNC server closed the connection")
            out += chunk
        return out

    def key(self, keysym, down):
        self.s.sendall(struct.pack(">BBxxI", 4, 1 if down else 0, keysym))

    def type(self, text):
        for ch in text:
            if ch == "\n":
                syms, shift = [0xff0d], False
            else:
                syms, shift = [ord(ch)], ch.isupper()
            if shift:
                self.key(0xffe1, True)
            for k in syms:
                self.key(k, True)
                self.key(k, False)
            if shift:
                self.key(0xffe1, False)

    def close(self):
        self.s.close()


def capture(port, path):
    r = subprocess.run(["gvnccapture", "127.0.0.1:%d" % (port - 5900), path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    check(r.returncode == 0 and os.path.exists(path),
          "gvnccapture failed: %s" % r.stdout.decode(errors="replace"))


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    check(head[:8] == b"\x89PNG\r\n\x1a\n", "%s is not a PNG" % path)
    return struct.unpack(">II", head[16:24])


def inner(vmm_bin, media):
    tmp = tempfile.mkdtemp(prefix="oriel-fw-vnc-")
    vmm, con = fwtest.start(vmm_bin, ["--cdrom", media["VNC"], "--vnc", "127.0.0.1:0"])
    try:
        ctl = Control(vmm.control_path)
        info = ctl.command("query-vnc")
        log("query-vnc: %s" % json.dumps(info))
        check(info.get("enabled") is True and info.get("family") == "ipv4"
              and info.get("host") == "127.0.0.1", "query-vnc %r" % info)
        port = int(info["service"])
        check(port >= 5900, "VNC port %d" % port)

        # 1. GRUB's marker on the text screen.
        con.expect(r"ORIEL-GRUB-VNC\r?\n", 300)
        ctl.command("stop")
        shot = os.path.join(tmp, "text.png")
        capture(port, shot)
        lines, matched = decode_text_screen(shot)
        log("text screen (%d glyphs matched):\n%s" % (matched, "\n".join(l for l in lines if l)))
        check(any("ORIEL-GRUB-VNC" in l for l in lines),
              "GRUB's marker is not on the decoded text screen")
        check("?" not in "".join(lines), "cells that match no glyph of the VGA font")
        dump = os.path.join(tmp, "screendump.png")
        ctl.command("screendump", filename=dump)
        check(decode_text_screen(dump)[0] == lines, "screendump differs from the VNC picture")
        ctl.command("cont")

        # 2. Keys over VNC reach a shell on tty1.
        con.expect("ORIEL-GUEST-INIT", 300)
        sh = Shell(con)
        sh.run("setsid sh -c 'exec sh -i </dev/tty1 >/dev/tty1 2>&1' & sleep 1")
        rfb = RFBClient("127.0.0.1", port)
        rfb.type("touch /tmp/vncKeys\n")
        deadline = time.monotonic() + 60
        while sh.run("ls /tmp/vncKeys 2>/dev/null || echo missing") != "/tmp/vncKeys":
            check(time.monotonic() < deadline,
                  "the file typed over VNC did not appear; tty1 files: %r"
                  % sh.run("ls /tmp"))
        log("keys typed over VNC created /tmp/vncKeys on tty1")
        rfb.close()

        # 3. bochs-drm takes over the display.
        sh.run("for m in $(cat /bochs-order); do insmod /lib/modules/$(uname -r)/$m; done 2>&1",
               timeout=120)
        deadline = time.monotonic() + 60
        mode = ""
        while not re.match(r"^\d+x\d+$", mode):
            check(time.monotonic() < deadline, "no DRM mode from bochs-drm: %r"
                  % sh.run("dmesg | tail -20"))
            mode = sh.run("cat /sys/class/drm/card0-*/modes 2>/dev/null | head -1")
        fb = sh.run("cat /sys/class/graphics/fb0/virtual_size 2>/dev/null || echo none")
        log("bochs-drm mode %s, fb0 %s" % (mode, fb))
        want = tuple(int(x) for x in (fb.split(",") if "," in fb else mode.split("x")))
        gfx = os.path.join(tmp, "bochs.png")
        deadline = time.monotonic() + 60
        while True:
            capture(port, gfx)
            size = png_size(gfx)
            if size == want:
                break
            check(time.monotonic() < deadline,
                  "screenshot %dx%d, bochs-drm set %dx%d" % (size + want))
        from PIL import Image
        colors = Image.open(gfx).convert("RGB").getcolors(1 << 20)
        check(colors is not None and len(colors) >= 2,
              "the bochs-drm screen is empty (one colour)")
        log("bochs-drm screenshot %dx%d with %d colours" % (size[0], size[1], len(colors)))

        # 4. Ctrl+Alt+Del from the VNC client reaches the guest's keyboard
        # driver, which (told to act at once) reboots: RESET, GRUB again.
        sh.run("echo 1 > /proc/sys/kernel/ctrl-alt-del")
        rfb = RFBClient("127.0.0.1", port)
        for k in (0xffe3, 0xffe9, 0xffff):      # Control_L, Alt_L, Delete
            rfb.key(k, True)
        for k in (0xffff, 0xffe9, 0xffe3):
            rfb.key(k, False)
        ev = ctl.wait_event("RESET", 120)
        check(ev["data"] == {"guest": True}, "RESET %r" % ev)
        con.expect(r"ORIEL-GRUB-VNC\r?\n", 300)
        log("Ctrl+Alt+Del over VNC rebooted the guest")
        rfb.close()
    finally:
        vmm.kill()


if __name__ == "__main__":
    fwtest.main(__file__, inner, ["VNC"], flavour="generic", extra_modules=[BOCHS])
