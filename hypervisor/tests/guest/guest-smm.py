#!/usr/bin/python3
"""System Management Mode on the i440FX (--machine pc,smm=on) with a tiny
firmware (smm_firmware.S) that reports on the debug port:
- an SMI raised through the APM port (0xB2, gated by the PIIX3's SMICNTL
  and SMIEN) runs at the power-on SMBASE and relocates SMBASE into the
  legacy SMRAM at 0xA0000;
- the next SMI runs the handler the firmware put into SMRAM while it was
  open (D_OPEN), and that handler sees the byte written there before the
  window closed, not what code outside SMM wrote to the same address
  afterwards (so the normal view no longer reaches SMRAM);
- D_LCK locks SMRAM (D_OPEN cannot be set again);
- what the handler prints on the debug port is marked as written in SMM
  (the VMM's per-exit record of kvm_run->flags), nothing else is;
- a VM saved while its vCPU waits inside an SMI handler and restored into
  a new VMM leaves SMM through RSM and goes on (vCPU events with the SMM
  state, SMBASE, and SMRAM as RAM all come back);
- such a state file is refused by a VM without smm=on;
- SeaBIOS runs with smm=on (it sets up SMM only with a PIIX4 PM
  function, which this machine has not yet) up to its boot device search;
- without smm=on the same firmware finds no SMI taken."""

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmmtest import VMM, Control, Failure, check, log, main  # noqa: E402


def firmware_path(vmm_bin):
    # Built by meson next to the guest tests' build directory.
    path = os.path.join(os.path.dirname(vmm_bin), "tests", "guest", "smm-firmware.bin")
    check(os.path.exists(path), "the test firmware %s is not built" % path)
    return path


def with_stderr(vmm, e):
    return Failure("%s\noriel-vmm stderr:\n%s" % (e, vmm.stderr_text()[-2000:]))


def drain(stream):
    """Read whatever the VMM has written so far."""
    while stream._read(0):
        pass


def inner(vmm_bin):
    # The firmware's debug log goes to stdout as "firmware: ..." lines.
    os.environ["G_MESSAGES_DEBUG"] = "all"
    fw = firmware_path(vmm_bin)
    tmp = tempfile.mkdtemp(prefix="oriel-smm-")
    args = ["--memory", "64M", "--bios", fw, "--serial", "stdio", "--machine", "pc,smm=on"]
    fail = r"|smm-test: FAIL.*"

    vmm = VMM(vmm_bin, args, name="smm")
    try:
        ctl = Control(vmm.control_path)
        out = vmm.stdout
        for step in ("start", "smbase relocated", "smi handled in smram", "smram locked"):
            m = out.expect(r"firmware: (smm-test: %s%s)" % (step, fail), 60)
            check(b"FAIL" not in m.group(1), m.group(1).decode())
        log("SMBASE relocated, SMI handled in SMRAM, SMRAM isolated and locked")
        # Written from the SMI handler: the VMM knows the vCPU is in SMM
        # (kvm_run->flags) and the firmware log says so; lines from outside
        # SMM do not.
        out.expect(r"firmware \(SMM\): smm-test: waiting in smm", 60)
        check(b"firmware (SMM): smm-test: smram locked" not in out.seen and
              b"firmware: smm-test: smram locked" in out.seen,
              "a line from outside SMM marked as SMM")

        # Save while the handler waits in SMM (about three seconds).
        ctl.command("stop")
        state = os.path.join(tmp, "smm.sav")
        ctl.command("save", filename=state, timeout=120)
        drain(out)
        check(b"leaving smm" not in out.seen,
              "the SMI handler finished before the save; the test proves nothing")
        ctl.command("quit")
        check(vmm.wait(60) == 0, "the VMM did not exit 0 after quit")
        log("saved with the vCPU in SMM")
    except Failure as e:
        raise with_stderr(vmm, e)
    finally:
        vmm.kill()

    # A VM without SMM cannot take it.
    plain_args = [a for a in args if a not in ("--machine", "pc,smm=on")]
    refused = VMM(vmm_bin, plain_args + ["--restore", state], name="smm-refused")
    try:
        check(refused.wait(60) == 2, "restoring an SMM VM without smm=on did not exit 2")
        check("'smm'" in refused.stderr_text(), "no word of smm: " + refused.stderr_text()[-300:])
        log("refused without smm=on: " + refused.stderr_text().strip().splitlines()[-1])
    finally:
        refused.kill()

    restored = VMM(vmm_bin, args + ["--restore", state], name="smm-restored")
    try:
        for step in ("leaving smm", "done"):
            m = restored.stdout.expect(r"firmware(?: \(SMM\))?: (smm-test: %s%s)" % (step, fail),
                                       120)
            check(b"FAIL" not in m.group(1), "after restore: " + m.group(1).decode())
        check(b"firmware (SMM): smm-test: leaving smm" in restored.stdout.seen,
              "the restored vCPU was not in SMM when it left the handler")
        log("restored: left SMM through RSM and finished")
    except Failure as e:
        raise with_stderr(restored, e)
    finally:
        restored.kill()

    # SeaBIOS runs with the SMM address space in place (shadowing its
    # ROM through PAM in both views) up to looking for a boot device.
    seabios = VMM(vmm_bin, ["--memory", "64M", "--bios", "/usr/share/seabios/bios.bin",
                            "--serial", "stdio", "--machine", "pc,smm=on"], name="seabios-smm")
    try:
        seabios.stdout.expect(r"firmware: SeaBIOS \(version", 60)
        seabios.stdout.expect(r"No bootable device", 180)
        log("SeaBIOS with smm=on reaches its boot device search")
    except Failure as e:
        raise with_stderr(seabios, e)
    finally:
        seabios.kill()

    # Without SMM the APM port raises nothing.
    plain = VMM(vmm_bin, ["--memory", "64M", "--bios", fw, "--serial", "stdio"], name="no-smm")
    try:
        m = plain.stdout.expect(r"firmware: (smm-test: FAIL.*|smm-test: smbase relocated)", 60)
        check(b"FAIL no smi at the default smbase" in m.group(1), m.group(1).decode())
        log("without smm=on no SMI is taken")
    except Failure as e:
        raise with_stderr(plain, e)
    finally:
        plain.kill()


if __name__ == "__main__":
    main(__file__, inner)
