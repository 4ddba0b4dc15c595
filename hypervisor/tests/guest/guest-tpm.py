#!/usr/bin/python3
"""TPM 2.0 with swtpm (Debian's package) in the test host and the Debian
cloud kernel, whose tpm_crb driver finds the TPM through the DSDT's
MSFT0101 device and the TPM2 table:
- /dev/tpm0 and /dev/tpmrm0 are a TPM 2.0; TPM2_GetRandom through
  /dev/tpm0 answers with 8 random bytes;
- a PCR extended in the guest keeps its value across a save, the VMM's
  exit, a restore into a new VMM and a new, empty swtpm;
- the VMM refuses to start when swtpm is not there, naming its socket."""

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmmtest import (Control, Shell, Stream, Swtpm, VMM, check, connect_unix,  # noqa: E402
                     kernel_args, log, main)

GET_RANDOM_8 = bytes([0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 8])
PCR16_READ = bytes([0x80, 0x01, 0, 0, 0, 20, 0, 0, 0x01, 0x7e, 0, 0, 0, 1, 0, 0x0b, 3, 0, 0, 1])
PCR16_EXTEND = bytes([0x80, 0x02, 0, 0, 0, 65, 0, 0, 0x01, 0x82, 0, 0, 0, 16,
                      0, 0, 0, 9, 0x40, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0x0b]) + b"\x5a" * 32


def tpm_command(sh, cmd):
    """Send a raw TPM command through /dev/tpm0; return the response bytes."""
    octal = "".join("\\%03o" % b for b in cmd)
    out = sh.run("printf '%s' > /tmp/cmd; exec 3<>/dev/tpm0; cat /tmp/cmd >&3; "
                 "dd bs=4096 count=1 <&3 2>/dev/null | od -An -v -tx1; exec 3>&-" % octal)
    return bytes(int(x, 16) for x in out.split())


def pcr16(sh):
    r = tpm_command(sh, PCR16_READ)
    check(r[6:10] == b"\0\0\0\0", "PCR_Read failed: %s" % r.hex())
    return r[30:62]


def start(vmm_bin, tmp, name, swtpm, extra=()):
    serial = os.path.join(tmp, "serial-%s.sock" % name)
    vmm = VMM(vmm_bin, ["--memory", "256M", "--cpus", "1", "--serial", "unix:" + serial,
                        "--tpm", "swtpm=" + swtpm.ctrl] + kernel_args() + list(extra), name=name)
    try:
        con = Stream(connect_unix(serial), "serial console")
    except Exception:
        log("oriel-vmm stderr: " + vmm.stderr_text())
        vmm.kill()
        raise
    return vmm, con


def inner(vmm_bin):
    tmp = tempfile.mkdtemp(prefix="oriel-tpm-")
    first = second = None
    vmm = None
    try:
        first = Swtpm(tmp, "first")
        vmm, con = start(vmm_bin, tmp, "first", first)
        con.expect("ORIEL-GUEST-INIT", 600)
        sh = Shell(con)
        devs = sh.run("ls /dev/tpm0 /dev/tpmrm0")
        check(devs.split() == ["/dev/tpm0", "/dev/tpmrm0"], "TPM devices %r" % devs)
        major = sh.run("cat /sys/class/tpm/tpm0/tpm_version_major")
        check(major == "2", "TPM version %r" % major)
        log("guest: %s" % sh.run("dmesg | grep -i tpm | head -3 || true"))

        r = tpm_command(sh, GET_RANDOM_8)
        check(r[:10] == bytes([0x80, 0x01, 0, 0, 0, 20, 0, 0, 0, 0]) and r[10:12] == b"\0\x08",
              "GetRandom answer %s" % r.hex())
        zero = bytes(32)
        check(pcr16(sh) == zero, "PCR 16 not zero at start")
        r = tpm_command(sh, PCR16_EXTEND)
        check(r[6:10] == b"\0\0\0\0", "PCR_Extend failed: %s" % r.hex())
        before = pcr16(sh)
        check(before != zero, "PCR 16 unchanged by the extend")

        ctl = Control(vmm.control_path)
        ctl.command("stop")
        state = os.path.join(tmp, "vm.sav")
        ctl.command("save", filename=state)
        ctl.command("quit")
        check(vmm.wait(60) == 0, "VMM exit status after quit")
        first.stop()

        # A new VMM and a new swtpm with an empty state directory.
        second = Swtpm(tmp, "second")
        vmm, con = start(vmm_bin, tmp, "second", second, ["--restore", state])
        sh = Shell(con)
        after = pcr16(sh)
        log("PCR 16 %s before saving, %s after restoring" % (before.hex(), after.hex()))
        check(after == before, "PCR 16 changed across save and restore")
        vmm.kill()
        second.stop()

        # No swtpm behind the socket: a clear refusal, exit status 1 or 2.
        gone = os.path.join(tmp, "gone.sock")
        v = VMM(vmm_bin, ["--memory", "256M", "--tpm", "swtpm=" + gone] + kernel_args(),
                name="no-swtpm")
        rc = v.wait(60)
        err = v.stderr_text()
        check(rc != 0 and gone in err, "without swtpm: exit %s, stderr %r" % (rc, err))
        log("refused as expected: %s" % err.strip())
    finally:
        if vmm:
            vmm.kill()
        for s in (first, second):
            if s:
                s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(__file__, inner)
