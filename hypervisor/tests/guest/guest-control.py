#!/usr/bin/python3
"""The control socket against a running guest: query-status, stop/cont
with STOP/RESUME (the guest really stops), query-block, system_reset and a
guest reboot (RESET, the kernel boots again), a guest panic through
pvpanic (GUEST_PANICKED, paused), quit (SHUTDOWN host-quit, exit 0); then
with --no-reboot a guest reboot ends the VMM (SHUTDOWN guest-reset)."""

import os
import select
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmmtest import (Control, Failure, Shell, Stream, VMM, check, connect_unix,  # noqa: E402
                     kernel_args, log, main)


def boot(vmm_bin, extra):
    tmp = tempfile.mkdtemp(prefix="oriel-ctl-")
    serial_path = os.path.join(tmp, "serial.sock")
    vmm = VMM(vmm_bin, ["--memory", "256M", "--cpus", "2", "--serial", "unix:" + serial_path]
              + extra + kernel_args())
    ctl = Control(vmm.control_path)
    con = Stream(connect_unix(serial_path), "serial console")
    con.expect("ORIEL-GUEST-INIT", 600)
    log("guest init after %.2f s" % (time.monotonic() - vmm.started))
    return vmm, ctl, con, tmp


def silent_for(stream, seconds, pattern):
    """True if pattern does not show up within seconds."""
    try:
        stream.expect(pattern, seconds)
        return False
    except Failure:
        return True


def scenario_lifecycle(vmm_bin):
    disk = tempfile.NamedTemporaryFile(prefix="oriel-disk-", delete=False)
    disk.truncate(8 * 1024 * 1024)
    disk.close()
    vmm, ctl, con, _ = boot(vmm_bin, ["--disk", "path=%s,readonly=on" % disk.name])
    try:
        sh = Shell(con)
        check(sh.run("echo up") == "up", "shell does not answer")

        st = ctl.command("query-status")
        check(st == {"status": "running", "running": True}, "query-status %r" % st)
        blk = ctl.command("query-block")
        check(blk == [{"device": "vda", "bus": "virtio", "file": disk.name, "format": "raw",
                       "read-only": True}], "query-block %r" % blk)
        bad = ctl.execute("no-such-command")
        check(bad["error"]["class"] == "CommandNotFound", "unknown command reply %r" % bad)

        # stop: the event, the status, and a guest that no longer runs.
        ctl.command("stop")
        ev = ctl.wait_event("STOP", 30)
        check(ev["data"] == {}, "STOP %r" % ev)
        st = ctl.command("query-status")
        check(st == {"status": "paused", "running": False}, "query-status %r" % st)
        con.send("echo PAUSED$((20+22))\n")
        check(silent_for(con, 2.0, r"PAUSED42"), "the guest ran while paused")
        ctl.command("cont")
        ctl.wait_event("RESUME", 30)
        con.expect(r"PAUSED42", 60)
        check(ctl.command("query-status")["status"] == "running", "not running after cont")

        # Host reset: RESET (guest false), the kernel boots again.
        ctl.command("system_reset")
        ev = ctl.wait_event("RESET", 30)
        check(ev["data"] == {"guest": False}, "RESET %r" % ev)
        con.expect("ORIEL-GUEST-INIT", 600)
        log("booted again after system_reset")
        sh = Shell(con)
        check(sh.run("grep -c ^processor /proc/cpuinfo") == "2", "2 vCPUs after reset")

        # Guest reboot: RESET (guest true), boots again.
        con.send("reboot -f\n")
        ev = ctl.wait_event("RESET", 120)
        check(ev["data"] == {"guest": True}, "RESET %r" % ev)
        con.expect("ORIEL-GUEST-INIT", 600)
        log("booted again after the guest rebooted")
        sh = Shell(con)
        check(sh.run("echo again") == "again", "shell after reboot")

        # A guest panic reaches pvpanic (its driver loaded at boot):
        # GUEST_PANICKED, VM paused.
        bound = sh.run("ls /sys/bus/platform/drivers/pvpanic-mmio/ | grep -c QEMU0001 || true")
        check(bound == "1", "pvpanic driver did not bind to the ACPI device (%r)" % bound)
        con.send("echo c > /proc/sysrq-trigger\n")
        ev = ctl.wait_event("GUEST_PANICKED", 120)
        check(ev["data"] == {"action": "pause"}, "GUEST_PANICKED %r" % ev)
        ctl.wait_event("STOP", 30)
        check(ctl.command("query-status")["status"] == "paused", "not paused after panic")

        ctl.command("quit")
        ev = ctl.wait_event("SHUTDOWN", 30)
        check(ev["data"] == {"guest": False, "reason": "host-quit"}, "SHUTDOWN %r" % ev)
        rc = vmm.wait(30)
        check(rc == 0, "exit status %d after quit" % rc)
    finally:
        vmm.kill()
        os.unlink(disk.name)


def scenario_no_reboot(vmm_bin):
    vmm, ctl, con, _ = boot(vmm_bin, ["--no-reboot"])
    try:
        Shell(con).run("true")
        con.send("reboot -f\n")
        ev = ctl.wait_event("SHUTDOWN", 120)
        check(ev["data"] == {"guest": True, "reason": "guest-reset"}, "SHUTDOWN %r" % ev)
        rc = vmm.wait(30)
        check(rc == 0, "exit status %d after a guest reboot with --no-reboot" % rc)
    finally:
        vmm.kill()


def inner(vmm_bin):
    scenario_lifecycle(vmm_bin)
    scenario_no_reboot(vmm_bin)


if __name__ == "__main__":
    main(__file__, inner)
