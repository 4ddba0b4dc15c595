#!/usr/bin/python3
"""A burst of serial console output reaches the backend byte for byte
while the reader stalls: stdout a non-blocking pipe, as a parent may hand
it over (ORIEL_BURST_BACKENDS=stdio,unix,pty,file runs the same against
other backends).  The VMM buffers what the reader cannot take yet and the
UART reports the transmitter busy (back-pressure) instead of dropping
bytes."""

import fcntl
import os
import socket
import subprocess
import sys
import tempfile
import termios
import time
import tty

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmmtest import (VMM, Failure, Stream, _cpio_newc, assets, check, connect_unix,  # noqa: E402
                     kernel_args, log, main)

LINES = 20000
EXPECTED = b"BURST-BEGIN\n" + b"".join(b"%d\n" % i for i in range(1, LINES + 1)) + b"BURST-END\n"
# Long enough for the guest to write far more than any pipe, pty or socket
# buffer holds while the reader does not read.
STALL_SECONDS = 20


def burst_initrd(tmpdir):
    script = ("#!/bin/sh\necho BURST-BEGIN; seq 1 %d; echo BURST-END\n" % LINES).encode()
    entries = [("usr", 0o40755, b""), ("usr/bin", 0o40755, b""),
               ("usr/bin/burst", 0o100755, script)]
    path = os.path.join(tmpdir, "initrd-burst.img")
    with open(assets()["INITRAMFS_BUSYBOX"], "rb") as f:
        base = f.read()
    with open(path, "wb") as f:
        f.write(base + b"\0" * (-len(base) % 4) + _cpio_newc(entries))
    return path


def guest_args(tmpdir):
    return ["--memory", "256M"] + kernel_args("oriel.run=/usr/bin/burst",
                                              initrd=burst_initrd(tmpdir))


def slow_read(stream):
    """Read up to BURST-BEGIN, stall, then read slowly to the exit marker;
    return the burst as the guest's program wrote it."""
    stream.expect("BURST-BEGIN", 600)
    stream.buf = b"BURST-BEGIN" + stream.buf
    time.sleep(STALL_SECONDS)
    # Until the guest's exit marker, or the VMM closing the stream when it
    # exits (the marker itself may be what got lost).
    while b"ORIEL-GUEST-EXIT=" not in stream.buf:
        before = len(stream.buf)
        try:
            stream._read(300)
        except Failure:
            break
        check(len(stream.buf) > before, "%s: no output for 300 s" % stream.name)
        time.sleep(0.002)
    return extract(stream.buf, stream.name)


def extract(data, name):
    data = data.replace(b"\r", b"")
    start = data.find(b"BURST-BEGIN")
    end = data.find(b"BURST-END\n")
    check(start >= 0 and end > start, "%s: burst markers missing" % name)
    return data[start:end + len(b"BURST-END\n")]


def compare(got, name):
    if got == EXPECTED:
        return
    i = next((i for i, (a, b) in enumerate(zip(got, EXPECTED)) if a != b),
             min(len(got), len(EXPECTED)))
    raise_msg = ("%s: output differs from byte %d (%d bytes, expected %d): got %r, expected %r"
                 % (name, i, len(got), len(EXPECTED), got[max(0, i - 40):i + 40],
                    EXPECTED[max(0, i - 40):i + 40]))
    check(False, raise_msg)


def finish(vmm):
    check(vmm.wait(120) == 0, "exit status after the guest powered off")


def scenario_stdio(vmm_bin, tmpdir):
    # stdout is a pipe whose writing end is non-blocking: a full pipe makes
    # write() fail with EAGAIN, which must not lose output.
    r, w = os.pipe()
    fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
    control = os.path.join(tmpdir, "control.sock")
    argv = [vmm_bin, "--name", "burst", "--control", control] + guest_args(tmpdir) + \
        ["--serial", "stdio"]
    log("starting " + " ".join(argv))
    with open(os.path.join(tmpdir, "stderr.log"), "wb") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=w, stderr=err)
    os.close(w)
    try:
        compare(slow_read(Stream(r, "stdio (non-blocking pipe)")), "stdio")
        try:
            rc = proc.wait(120)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 0, "exit status %r after the guest powered off" % rc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(r)


def scenario_pty(vmm_bin, tmpdir):
    vmm = VMM(vmm_bin, guest_args(tmpdir) + ["--serial", "pty"])
    try:
        m = vmm.expect_stderr(r"char device redirected to (/dev/pts/\d+) \(label serial0\)", 60)
        fd = os.open(m.group(1), os.O_RDWR | os.O_NOCTTY)
        tty.setraw(fd, termios.TCSANOW)
        compare(slow_read(Stream(fd, "pty")), "pty")
        finish(vmm)
        os.close(fd)
    finally:
        vmm.kill()


def scenario_unix(vmm_bin, tmpdir):
    path = os.path.join(tmpdir, "serial.sock")
    vmm = VMM(vmm_bin, guest_args(tmpdir) + ["--serial", "unix:" + path])
    try:
        sock = connect_unix(path, 60)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        compare(slow_read(Stream(sock, "unix socket")), "unix")
        finish(vmm)
        sock.close()
    finally:
        vmm.kill()


def scenario_file(vmm_bin, tmpdir):
    path = os.path.join(tmpdir, "console.log")
    vmm = VMM(vmm_bin, guest_args(tmpdir) + ["--serial", "file:" + path])
    try:
        check(vmm.wait(900) == 0, "exit status after the guest powered off")
        with open(path, "rb") as f:
            compare(extract(f.read(), "file"), "file")
    finally:
        vmm.kill()


def inner(vmm_bin):
    tmpdir = tempfile.mkdtemp(prefix="oriel-burst-")
    only = os.environ.get("ORIEL_BURST_BACKENDS", "stdio").split(",")
    for name in only:
        t = time.monotonic()
        globals()["scenario_" + name](vmm_bin, tmpdir)
        log("%s backend: %d bytes intact (%.1f s)" % (name, len(EXPECTED), time.monotonic() - t))


if __name__ == "__main__":
    main(__file__, inner)
