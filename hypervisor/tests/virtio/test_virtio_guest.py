#!/usr/bin/python3
"""virtio-blk with a real Linux guest, in the test host: three disks (data,
abuse victim, read-only with a serial number).  The guest writes and reads
raw sectors and discards on the data disk, finds the serial and the
read-only flag, fails to write the read-only disk; then the static program
tests/guest-programs/virtio-abuse takes over the victim disk and sends
broken rings and chains.  The VMM must stay up, the guest must still run
commands, the data written must be in the image on the host, and the
read-only image must be unchanged."""

import hashlib
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest"))
from vmmtest import (Shell, Stream, VMM, assets, check, connect_unix, kernel_args,  # noqa: E402
                     log, main, SOURCE_ROOT)

PROGRAM = os.path.join(SOURCE_ROOT, "tests", "guest-programs", "virtio-abuse.c")
EXTEND = os.path.join(SOURCE_ROOT, "tests", "assets", "initramfs-extend")


def build_initrd(tmp):
    root = os.path.join(tmp, "overlay")
    os.makedirs(os.path.join(root, "usr", "bin"))
    exe = os.path.join(root, "usr", "bin", "virtio-abuse")
    subprocess.run(["gcc", "-static", "-O2", "-Wall", "-o", exe, PROGRAM], check=True)
    out = os.path.join(tmp, "initrd.img")
    # The assets were built before the test host started; use them as they are.
    env = dict(os.environ, ORIEL_INITRAMFS_BASE=assets()["INITRAMFS_BUSYBOX"])
    subprocess.run([EXTEND, out, root], check=True, env=env)
    return out


def make_image(path, size, fill=b"\0"):
    with open(path, "wb") as f:
        f.write(fill * size)


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def inner(vmm_bin):
    tmp = tempfile.mkdtemp(prefix="oriel-virtio-")
    initrd = build_initrd(tmp)
    data = os.path.join(tmp, "data.img")
    victim = os.path.join(tmp, "victim.img")
    ro = os.path.join(tmp, "ro.img")
    make_image(data, 8 << 20)
    make_image(victim, 1 << 20)
    make_image(ro, 1 << 20, b"R")
    ro_sum = sha(ro)
    serial_path = os.path.join(tmp, "serial.sock")
    vmm = VMM(vmm_bin, ["--memory", "384M", "--cpus", "1", "--serial", "unix:" + serial_path,
                        "--disk", "path=%s,if=virtio,discard=on" % data,
                        "--disk", "path=%s,if=virtio" % victim,
                        "--disk", "path=%s,if=virtio,readonly=on,serial=ORIEL-RO-1" % ro]
              + kernel_args(initrd=initrd))
    try:
        con = Stream(connect_unix(serial_path), "serial console")
        con.expect("ORIEL-GUEST-INIT", 300)
        sh = Shell(con)
        for dev in ("vda", "vdb", "vdc"):
            n = 0
            while sh.run("test -b /dev/%s && echo yes" % dev) != "yes" and n < 100:
                time.sleep(0.1)
                n += 1
        check(sh.run("cat /sys/block/vda/size") == str((8 << 20) // 512), "vda size")
        check(sh.run("cat /sys/block/vdc/ro") == "1", "vdc not read-only in the guest")
        check(sh.run("cat /sys/block/vdc/serial") == "ORIEL-RO-1", "vdc serial")
        check(sh.run("cat /sys/block/vda/queue/discard_max_bytes") != "0", "no discard on vda")

        # Raw writes (direct, so they reach the device), flush, read back.
        sh.run("printf 'oriel-sector-one' > /tmp/p; dd if=/tmp/p of=/dev/vda bs=512 seek=1 "
               "conv=sync,fsync oflag=direct 2>/dev/null")
        back = sh.run("dd if=/dev/vda bs=512 skip=1 count=1 iflag=direct 2>/dev/null | head -c 16")
        check(back == "oriel-sector-one", "read back %r" % back)
        # The read-only disk refuses writes even when forced past the flag.
        out = sh.run("blockdev --setrw /dev/vdc 2>&1; dd if=/tmp/p of=/dev/vdc bs=512 "
                     "conv=fsync oflag=direct 2>&1; echo rc=$?")
        check("rc=0" not in out, "write to the read-only disk succeeded: %r" % out)

        # The hostile driver, on the victim disk (the second virtio-blk).
        addr = sh.run("for d in /sys/bus/pci/devices/*; do "
                      "[ $(cat $d/device) = 0x1042 ] && echo ${d##*/}; done | sed -n 2p")
        check(addr.startswith("0000:"), "victim PCI address %r" % addr)
        # Its full report stays in the guest; only the summary crosses the
        # serial console (a long burst of console output is slow here).
        rc = sh.run("/usr/bin/virtio-abuse %s >/tmp/abuse.log 2>&1; echo rc=$?" % addr,
                    timeout=900)
        summary = sh.run("grep -c ': ok$' /tmp/abuse.log; grep -v ': ok$' /tmp/abuse.log")
        log("virtio-abuse: %s; cases ok and other lines:\n%s" % (rc, summary))
        check(rc == "rc=0", "virtio-abuse exit status: %r" % rc)
        check("virtio-abuse: PASS" in summary and "FAIL" not in summary,
              "virtio-abuse did not pass")
        check(vmm.proc.poll() is None, "oriel-vmm exited")

        # Everything else still works.
        back = sh.run("dd if=/dev/vda bs=512 skip=1 count=1 iflag=direct 2>/dev/null | head -c 16")
        check(back == "oriel-sector-one", "vda after the abuse: %r" % back)
        check(sh.run("echo alive") == "alive", "guest shell")
        sh.s.send("sync; poweroff -f\n")
        check(vmm.wait(120) == 0, "oriel-vmm exit status")
    finally:
        vmm.kill()
        try:
            while vmm.stderr._read(0.1):
                pass
        except Exception:
            pass
        log("oriel-vmm stderr:\n" + vmm.stderr.tail())

    with open(data, "rb") as f:
        f.seek(512)
        check(f.read(16) == b"oriel-sector-one", "data not in the image on the host")
    check(sha(ro) == ro_sum, "read-only image changed")


if __name__ == "__main__":
    main(__file__, inner)
