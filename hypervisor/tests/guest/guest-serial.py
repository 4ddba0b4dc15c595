#!/usr/bin/python3
"""Serial console backends with a real guest: a pty (its path printed on
stderr and reported by query-chardev, a shell usable through it), an
append-only log file, and stdio."""

import os
import sys
import termios
import tempfile
import tty

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmmtest import Control, Shell, Stream, VMM, check, kernel_args, log, main  # noqa: E402


def scenario_pty(vmm_bin):
    vmm = VMM(vmm_bin, ["--memory", "256M", "--serial", "pty"] + kernel_args())
    try:
        m = vmm.expect_stderr(r"char device redirected to (/dev/pts/\d+) \(label serial0\)", 60)
        pty = m.group(1)
        ctl = Control(vmm.control_path)
        chardevs = ctl.command("query-chardev")
        check(chardevs == [{"label": "serial0", "backend": "pty", "filename": pty}],
              "query-chardev %r" % chardevs)
        fd = os.open(pty, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(fd, termios.TCSANOW)
        con = Stream(fd, "pty " + pty)
        # Output from before we opened the pty is kept for us.
        con.expect("ORIEL-GUEST-INIT", 600)
        out = Shell(con).run("echo via-pty; uname -r")
        check(out.startswith("via-pty\n") and "cloud-amd64" in out, "pty shell said %r" % out)
        ctl.command("quit")
        check(vmm.wait(30) == 0, "exit status after quit")
        os.close(fd)
    finally:
        vmm.kill()


def scenario_file(vmm_bin):
    logfile = os.path.join(tempfile.mkdtemp(prefix="oriel-serial-"), "console.log")
    with open(logfile, "w") as f:
        f.write("previous run\n")
    vmm = VMM(vmm_bin, ["--memory", "256M", "--serial", "file:" + logfile]
              + kernel_args("oriel.run=/bin/true"))
    try:
        rc = vmm.wait(300)
        check(rc == 0, "exit status %d after the guest powered off" % rc)
        with open(logfile, errors="replace") as f:
            text = f.read()
        check(text.startswith("previous run\n"), "the log file was not appended to")
        check("ORIEL-GUEST-INIT" in text and "ORIEL-GUEST-EXIT=0" in text,
              "log file lacks the guest's output: %r" % text[-2000:])
    finally:
        vmm.kill()


def scenario_stdio(vmm_bin):
    vmm = VMM(vmm_bin, ["--memory", "256M", "--serial", "stdio"]
              + kernel_args("oriel.run=/bin/true"))
    try:
        vmm.stdout.expect("ORIEL-GUEST-INIT", 600)
        vmm.stdout.expect(r"ORIEL-GUEST-EXIT=0", 120)
        check(vmm.wait(60) == 0, "exit status after the guest powered off")
    finally:
        vmm.kill()


def inner(vmm_bin):
    scenario_pty(vmm_bin)
    log("pty backend ok")
    scenario_file(vmm_bin)
    log("file backend ok")
    scenario_stdio(vmm_bin)
    log("stdio backend ok")


if __name__ == "__main__":
    main(__file__, inner)
