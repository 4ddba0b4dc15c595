#!/usr/bin/python3
"""Debian's kernels start as the kernel proper that oriel-vmm unpacked on
the host: the generic kernel (xz) and the cloud kernel (lz4) boot without
their decompressor, the unpacked image is kept in the cache and found there
next time, a platform reset loads it again, and `--kernel-unpack guest`
still boots the classic way.  Which way a kernel came up is read from its
boot parameters: the decompressor marks them with KASLR_FLAG when it has
chosen where the kernel goes."""

import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmmtest import Control, VMM, _cpio_newc, assets, check, log, main  # noqa: E402

CMDLINE = "console=ttyS0 quiet oriel.run=/loadflags"
KASLR_FLAG = 0x02
# loadflags is byte 0x211 of the boot parameters the kernel exports.
LOADFLAGS_SCRIPT = (b"#!/bin/sh\n"
                    b"echo ORIEL-LOADFLAGS=$(od -An -tu1 -j 529 -N 1 /sys/kernel/boot_params/data)\n")


def initrd_with_script(tmp):
    path = os.path.join(tmp, "initrd.img")
    with open(assets()["INITRAMFS_BUSYBOX"], "rb") as f:
        base = f.read()
    with open(path, "wb") as f:
        f.write(base + b"\0" * (-len(base) % 4))
        f.write(_cpio_newc([("loadflags", 0o100755, LOADFLAGS_SCRIPT)]))
    return path


def decompressor_ran(out):
    """From the guest's report: did the bzImage's decompressor run?"""
    flags = [int(x) for x in re.findall(r"ORIEL-LOADFLAGS=\s*(\d+)", out)]
    check(flags, "no ORIEL-LOADFLAGS line:\n%s" % out)
    return bool(flags[-1] & KASLR_FLAG)


def boot(vmm_bin, kernel, initrd, extra, reset=False):
    """Boot `kernel` to the end of oriel.run; return (serial output, VMM log).
    GLib writes debug messages to stdout, where the serial console goes too:
    the log is those lines."""
    vmm = VMM(vmm_bin, ["--memory", "256M", "--cpus", "1", "--serial", "stdio",
                        "--kernel", kernel, "--initrd", initrd,
                        "--cmdline", CMDLINE] + extra)
    try:
        vmm.stdout.expect("ORIEL-GUEST-INIT", 300)
        if reset:
            ctl = Control(vmm.control_path)
            ctl.command("system_reset")
            ctl.wait_event("RESET", 60)
            # The second boot runs from a kernel loaded again over the
            # memory the first one used (its data and bss cleared).
            vmm.stdout.expect("ORIEL-GUEST-INIT", 300)
        vmm.stdout.expect("ORIEL-GUEST-EXIT=0", 120)
        rc = vmm.wait(60)
        check(rc == 0, "oriel-vmm exit status %d" % rc)
        out = vmm.stdout.seen.decode(errors="replace")
        debug = "\n".join(line for line in out.splitlines() if "DEBUG" in line)
        return out, debug + vmm.stderr_text()
    finally:
        vmm.kill()


def entries(cache):
    return sorted(os.listdir(cache)) if os.path.isdir(cache) else []


def inner(vmm_bin):
    os.environ["G_MESSAGES_DEBUG"] = "all"
    generic, cloud = assets()["VMLINUZ_GENERIC"], assets()["VMLINUZ_CLOUD"]
    tmp = tempfile.mkdtemp(prefix="oriel-kcache-")
    cache = os.path.join(tmp, "kernels")
    initrd = initrd_with_script(tmp)
    try:
        out, err = boot(vmm_bin, generic, initrd, ["--kernel-cache", cache])
        check("unpacked %s (xz" % generic in err, "no xz unpacking reported:\n%s" % err)
        check(not decompressor_ran(out), "the guest ran its decompressor:\n%s" % out)
        check(len(entries(cache)) == 1, "cache holds %r" % entries(cache))
        check(oct(os.stat(cache).st_mode & 0o777) == "0o700", "cache directory mode")
        log("generic kernel (xz) booted unpacked; cached as %s" % entries(cache))

        out, err = boot(vmm_bin, generic, initrd, ["--kernel-cache", cache], reset=True)
        check(err.count("found in %s" % cache) == 2,
              "the cache was not used for both boots:\n%s" % err)
        check(out.count("ORIEL-GUEST-INIT") == 2, "two boots expected:\n%s" % out)
        check(not decompressor_ran(out), "the guest ran its decompressor:\n%s" % out)
        log("second start and a reset came from the cache")

        out, err = boot(vmm_bin, cloud, initrd, ["--kernel-cache", cache])
        check("unpacked %s (lz4" % cloud in err, "no lz4 unpacking reported:\n%s" % err)
        check(not decompressor_ran(out), "the guest ran its decompressor:\n%s" % out)
        check(len(entries(cache)) == 2, "cache holds %r" % entries(cache))

        out, err = boot(vmm_bin, cloud, initrd, ["--kernel-cache", "none"])
        check("unpacked %s (lz4" % cloud in err, "no unpacking reported:\n%s" % err)
        check(len(entries(cache)) == 2, "--kernel-cache none stored something")

        out, err = boot(vmm_bin, cloud, initrd, ["--kernel-unpack", "guest"])
        check(decompressor_ran(out), "--kernel-unpack guest: the decompressor did not run:\n%s"
              % out)
        check("unpacked" not in err, "--kernel-unpack guest unpacked on the host:\n%s" % err)
        log("--kernel-unpack guest booted through the decompressor")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(__file__, inner)
