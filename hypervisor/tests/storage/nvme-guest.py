#!/usr/bin/python3
"""NVMe with real firmware and a real driver, in one test host and one
guest boot: SeaBIOS (bios-256k.bin, the build with its NVMe driver) boots
a GRUB disk on an NVMe controller, GRUB reads Debian's generic kernel and
the initramfs through SeaBIOS's NVMe driver; in the guest, Linux's nvme
driver (nvme-core and nvme, loaded from the initramfs) binds to all three
controllers, with MSI-X.  On the data disk (discard=on) the guest reads
the image's random pattern whole, writes a pattern with direct I/O and a
flush, and deallocates a range with blkdiscard; the read-only disk is
read-only to the block layer.  The VM is saved and restored into a new
process, where the driver goes on reading and writing.  After power-off
the host finds the written patterns and the zeroed range in the image."""

import hashlib
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "firmware"))
import fwtest  # noqa: E402
from fwtest import check, log  # noqa: E402
from vmmtest import Control, Shell  # noqa: E402

# SeaBIOS's 128 KiB build leaves NVMe out.
BIOS_NVME = "/usr/share/seabios/bios-256k.bin"
NVME_MODULES = ["kernel/drivers/nvme/host/nvme.ko"]
DATA_SIZE = 16 << 20
RO_SIZE = 2 << 20
WRITE_AT = 3 << 20          # bytes
DISCARD_AT, DISCARD_LEN = 8 << 20, 1 << 20


def md5(data):
    return hashlib.md5(data).hexdigest()


def by_serial(sh, serial):
    """The nvmeXnY block device of the controller with this serial."""
    out = sh.run("for c in /sys/class/nvme/nvme*; do "
                 "[ \"$(cat $c/serial | tr -d ' ')\" = %s ] && ls $c | grep -E '^nvme[0-9]+n1$'; "
                 "done" % serial)
    check(out and "\n" not in out, "no single namespace for serial %s: %r" % (serial, out))
    return out


def inner(vmm_bin, media):
    boot = os.path.join(os.path.dirname(media["NVME"]), "nvme-boot.img")
    shutil.copyfile(media["NVME"], boot)
    # The test host's own file system (the media share cannot punch holes).
    tmp = tempfile.mkdtemp(prefix="oriel-nvme-")
    data = os.path.join(tmp, "nvme-data.img")
    ro = os.path.join(tmp, "nvme-ro.img")
    pattern = os.urandom(DATA_SIZE)
    with open(data, "wb") as f:
        f.write(pattern)
    ro_bytes = os.urandom(RO_SIZE)
    with open(ro, "wb") as f:
        f.write(ro_bytes)

    state = os.path.join(tmp, "nvme.sav")
    disks = ["--disk", "path=%s,if=nvme,serial=ORIELBOOT" % boot,
             "--disk", "path=%s,if=nvme,serial=ORIELDATA,discard=on" % data,
             "--disk", "path=%s,if=nvme,serial=ORIELRO,readonly=on" % ro]
    vmm, con = fwtest.start(vmm_bin, disks, name="nvme")
    try:
        fwtest.expect_boot(vmm, con, "NVME")
        sh = Shell(con)
        sh.run("dmesg -n 1")
        out = sh.run("for m in $(cat /bochs-order); do insmod /lib/modules/$(uname -r)/$m; done 2>&1",
                     timeout=120)
        check(sh.run("ls /sys/bus/pci/drivers/nvme | grep -c :") == "3",
              "controllers bound to nvme: %s" % out)
        for _ in range(300):
            if sh.run("ls /sys/block | grep -c -E '^nvme[0-9]+n1$'") == "3":
                break
            sh.run("sleep 0.1")
        dev = by_serial(sh, "ORIELDATA")
        dev_ro = by_serial(sh, "ORIELRO")
        dev_boot = by_serial(sh, "ORIELBOOT")
        log("namespaces: boot %s, data %s, read-only %s" % (dev_boot, dev, dev_ro))
        check(sh.run("cat /sys/block/%s/size" % dev) == str(DATA_SIZE // 512), "data disk size")
        check(sh.run("cat /sys/block/%s/size" % dev_ro) == str(RO_SIZE // 512), "ro disk size")
        check(sh.run("cat /sys/block/%s/ro" % dev_ro) == "1", "read-only namespace is writable")
        check(sh.run("cat /sys/block/%s/ro" % dev) == "0", "data namespace is read-only")
        check(sh.run("cat /sys/block/%s/queue/discard_max_bytes" % dev) != "0", "no discard")
        check("MSI" in sh.run("grep -m1 nvme0q /proc/interrupts"), "nvme not on MSI-X")
        sig = sh.run("dd if=/dev/%s bs=512 count=1 2>/dev/null | tail -c 2 | od -An -tx1" % dev_boot)
        check(sig.split() == ["55", "aa"], "MBR signature of the boot disk: %r" % sig)

        got = sh.run("md5sum /dev/%s | cut -d' ' -f1" % dev, timeout=120)
        check(got == md5(pattern), "data disk reads %s, image is %s" % (got, md5(pattern)))
        got = sh.run("dd if=/dev/%s bs=64k iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1" % dev_ro,
                     timeout=120)
        check(got == md5(ro_bytes), "read-only disk reads %s" % got)
        log("whole-disk reads match the images")

        # 64 KiB of a pattern (16-byte lines): PRP lists, then a flush.
        sh.run("i=0; while [ $i -lt 4096 ]; do printf 'oriel-nvm-%%05d\\n' $i; i=$((i+1)); done "
               "> /tmp/pat; dd if=/tmp/pat of=/dev/%s bs=64k seek=%d oflag=direct conv=fsync "
               "2>/dev/null; sync" % (dev, WRITE_AT // 65536), timeout=120)
        back = sh.run("dd if=/dev/%s bs=64k skip=%d count=1 iflag=direct 2>/dev/null | md5sum | "
                      "cut -d' ' -f1; md5sum /tmp/pat | cut -d' ' -f1" % (dev, WRITE_AT // 65536))
        a, b = back.split()
        check(a == b, "pattern read back differs")
        out = sh.run("blkdiscard -o %d -l %d /dev/%s; echo rc=$?" % (DISCARD_AT, DISCARD_LEN, dev))
        check(out.endswith("rc=0"), "blkdiscard: %r" % out)
        z = sh.run("dd if=/dev/%s bs=64k skip=%d count=%d iflag=direct 2>/dev/null | tr -d '\\000' "
                   "| wc -c" % (dev, DISCARD_AT // 65536, DISCARD_LEN // 65536))
        check(z == "0", "discarded range reads %s non-zero bytes" % z)
        out = sh.run("printf x | dd of=/dev/%s bs=512 conv=sync oflag=direct 2>&1; echo rc=$?"
                     % dev_ro)
        check("rc=0" not in out, "write to the read-only namespace succeeded: %r" % out)
        check(sh.run("dmesg | grep -c -i -E 'nvme.*(timeout|reset|I/O error|failed)' || true") == "0",
              "nvme errors:\n" + sh.run("dmesg | grep -i nvme | tail -20"))
        log("write, flush and discard done")
        check(vmm.proc.poll() is None, "oriel-vmm exited")
        # Saved with its queues live, restored into a new process.
        ctl = Control(vmm.control_path)
        ctl.command("stop")
        ctl.command("save", filename=state)
        ctl.command("quit")
        check(vmm.wait(60) == 0, "exit status after save and quit")
    finally:
        vmm.kill()
        log("oriel-vmm stderr:\n" + vmm.stderr_text()[-3000:])

    vmm, con = fwtest.start(vmm_bin, disks + ["--restore", state], name="nvme-restored")
    try:
        Control(vmm.control_path)
        sh = Shell(con)
        back = sh.run("dd if=/dev/%s bs=64k skip=%d count=1 iflag=direct 2>/dev/null | md5sum | "
                      "cut -d' ' -f1; md5sum /tmp/pat | cut -d' ' -f1" % (dev, WRITE_AT // 65536))
        a, b = back.split()
        check(a == b, "pattern read back after restoring differs")
        sh.run("printf oriel-after-restore | dd of=/dev/%s bs=512 seek=1 conv=sync,fsync "
               "oflag=direct 2>/dev/null" % dev)
        log("the restored controller reads and writes")
        sh.s.send("sync; poweroff -f\n")
        check(vmm.wait(120) == 0, "oriel-vmm exit status")
    finally:
        vmm.kill()
        log("restored oriel-vmm stderr:\n" + vmm.stderr_text()[-3000:])

    with open(data, "rb") as f:
        img = f.read()
    expect = b"".join(b"oriel-nvm-%05d\n" % i for i in range(4096))
    check(img[WRITE_AT:WRITE_AT + len(expect)] == expect, "written pattern not in the image")
    check(img[DISCARD_AT:DISCARD_AT + DISCARD_LEN] == bytes(DISCARD_LEN), "discarded range not zero")
    check(img[512:512 + 19] == b"oriel-after-restore", "the write after restoring is not in the image")
    check(img[1024:WRITE_AT] == pattern[1024:WRITE_AT], "data before the write changed")
    with open(ro, "rb") as f:
        check(f.read() == ro_bytes, "read-only image changed")


if __name__ == "__main__":
    # In both halves: fwtest.start() boots this BIOS.
    fwtest.BIOS = BIOS_NVME
    fwtest.main(__file__, inner, ["NVME"], flavour="generic", extra_modules=NVME_MODULES)
