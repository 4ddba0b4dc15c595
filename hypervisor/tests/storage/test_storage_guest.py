#!/usr/bin/python3
"""IDE and AHCI with a real Linux guest (Debian's generic kernel, whose
ata_piix, ahci, sd_mod, sr_mod and isofs modules the test initramfs
loads), in the test host: an IDE disk, an ISO on the IDE CD-ROM, an AHCI
disk and a read-only AHCI disk.  The guest reads every disk whole and
compares checksums with the images, mounts the ISO, writes raw sectors,
reads an AHCI disk with several direct reads in flight (NCQ), fails to
write the read-only disk; the transfer modes (multiword DMA on the PIIX3,
MSI on AHCI) are checked; after power-off the images on the host hold what
was written."""

import hashlib
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest"))
from vmmtest import (Shell, Stream, VMM, assets, check, connect_unix, log, main)  # noqa: E402


def random_image(path, size):
    with open(path, "wb") as f:
        f.write(os.urandom(size))


def md5(path, length=None):
    with open(path, "rb") as f:
        return hashlib.md5(f.read(length) if length else f.read()).hexdigest()


def make_iso(tmp):
    src = os.path.join(tmp, "isodir")
    os.makedirs(src)
    with open(os.path.join(src, "README.TXT"), "w") as f:
        f.write("oriel cdrom\n")
    random_image(os.path.join(src, "BLOB.BIN"), 3 << 20)
    iso = os.path.join(tmp, "cd.iso")
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-V", "ORIELCD", "-o", iso, src],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return iso, md5(os.path.join(src, "BLOB.BIN"))


def by_size(sh, sectors):
    """The sdX/srX whose size is sectors (512-byte units)."""
    out = sh.run("for d in /sys/block/sd* /sys/block/sr*; do "
                 "[ $(cat $d/size) = %d ] && echo ${d##*/}; done" % sectors)
    check(out and "\n" not in out, "no single device of %d sectors: %r" % (sectors, out))
    return out


def inner(vmm_bin):
    a = assets()
    tmp = tempfile.mkdtemp(prefix="oriel-storage-")
    ide = os.path.join(tmp, "ide.img")
    sata = os.path.join(tmp, "sata.img")
    ro = os.path.join(tmp, "ro.img")
    random_image(ide, 8 << 20)
    random_image(sata, 16 << 20)
    random_image(ro, 2 << 20)
    sums = {p: md5(p) for p in (ide, sata, ro)}
    iso, blob_sum = make_iso(tmp)
    iso_sum = md5(iso)
    serial_path = os.path.join(tmp, "serial.sock")

    vmm = VMM(vmm_bin, ["--memory", "512M", "--cpus", "1", "--serial", "unix:" + serial_path,
                        "--disk", "path=%s,if=ide" % ide,
                        "--cdrom", iso,
                        "--disk", "path=%s,if=ahci" % sata,
                        "--disk", "path=%s,if=ahci,readonly=on" % ro,
                        "--kernel", a["VMLINUZ_GENERIC"],
                        "--initrd", a["INITRAMFS_BUSYBOX"],
                        "--cmdline", "console=ttyS0 quiet"])
    try:
        con = Stream(connect_unix(serial_path), "serial console")
        con.expect("ORIEL-GUEST-INIT", 300)
        sh = Shell(con)
        # Kernel messages on the console would break into the shell's
        # output (the failed writes below log errors).
        sh.run("dmesg -n 1")
        # The disks appear once the SCSI layer has scanned both controllers.
        for _ in range(300):
            if sh.run("ls /sys/block | grep -c -E '^(sd|sr)'") == "4":
                break
            time.sleep(0.1)
        dev_ide = by_size(sh, (8 << 20) // 512)
        dev_sata = by_size(sh, (16 << 20) // 512)
        dev_ro = by_size(sh, (2 << 20) // 512)
        dev_cd = "sr0"
        check(sh.run("readlink /sys/block/%s" % dev_ide).find("/ata1/") >= 0, "IDE disk not on ata1")
        check(sh.run("readlink /sys/block/%s" % dev_cd).find("/ata2/") >= 0, "CD-ROM not on ata2")
        check(sh.run("cat /sys/block/%s/size" % dev_cd) == str(os.path.getsize(iso) // 512),
              "CD-ROM capacity")

        log("devices: IDE %s, CD %s, AHCI %s, read-only AHCI %s" % (dev_ide, dev_cd, dev_sata, dev_ro))
        # Whole-device reads match the images.
        for dev, path in ((dev_ide, ide), (dev_sata, sata), (dev_ro, ro)):
            got = sh.run("md5sum /dev/%s | cut -d' ' -f1" % dev, timeout=120)
            check(got == sums[path], "%s reads %s, image is %s" % (dev, got, sums[path]))
        got = sh.run("md5sum /dev/%s | cut -d' ' -f1" % dev_cd, timeout=120)
        check(got == iso_sum, "sr0 reads %s, ISO is %s" % (got, iso_sum))
        got = sh.run("mkdir -p /mnt && mount -t iso9660 -o ro /dev/sr0 /mnt && cat /mnt/README.TXT "
                     "&& md5sum /mnt/BLOB.BIN | cut -d' ' -f1; umount /mnt")
        check(got.split() == ["oriel", "cdrom", blob_sum], "ISO contents: %r" % got)

        log("whole-device reads and the ISO match")
        # Transfer modes: multiword DMA on the PIIX3, NCQ and MSI on AHCI.
        modes = sh.run("cat /sys/class/ata_device/dev1.0/xfer_mode /sys/class/ata_device/dev2.0/xfer_mode")
        check(modes.split() == ["XFER_MW_DMA_2", "XFER_MW_DMA_2"], "IDE modes %r" % modes)
        check(sh.run("cat /sys/block/%s/device/queue_depth" % dev_sata) == "32", "no NCQ")
        check("PCI-MSI" in sh.run("grep ahci /proc/interrupts"), "AHCI not on MSI")

        # Several direct reads in flight, then one whole read.
        sh.run("for i in 0 1 2 3 4 5 6 7; do dd if=/dev/%s of=/dev/null bs=16k skip=$((i*64)) "
               "count=64 iflag=direct 2>/dev/null & done; wait" % dev_sata, timeout=120)
        got = sh.run("dd if=/dev/%s bs=1M iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1" % dev_sata,
                     timeout=120)
        check(got == sums[sata], "direct read of the AHCI disk")

        log("DMA modes, NCQ and MSI in use; direct reads match")
        # Raw writes that must reach the images.
        for dev, tag in ((dev_ide, "ide"), (dev_sata, "sata")):
            sh.run("printf 'oriel-%s-sector' | dd of=/dev/%s bs=512 seek=9 conv=sync,fsync "
                   "oflag=direct 2>/dev/null" % (tag, dev))
            back = sh.run("dd if=/dev/%s bs=512 skip=9 count=1 iflag=direct 2>/dev/null | head -c 17"
                          % dev)
            check(back.startswith("oriel-%s-sector" % tag), "%s read back %r" % (dev, back))
        # No command has failed so far.
        check(sh.run("dmesg | grep -c -i -E 'exception emask|failed command|hard resetting'") == "0",
              "libata reported errors:\n" + sh.run("dmesg | grep -i -E 'ata[0-9]' | tail -30"))

        # ATA has no write protection the guest could see: writes to the
        # read-only disk fail with ABRT, and libata's error handling copes.
        out = sh.run("printf x | dd of=/dev/%s bs=512 conv=sync,fsync oflag=direct 2>&1; echo rc=$?"
                     % dev_ro, timeout=120)
        check("rc=0" not in out, "write to the read-only disk succeeded: %r" % out)
        check(sh.run("dd if=/dev/%s bs=1M iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1" % dev_ro,
                     timeout=120) == sums[ro], "read-only disk after the failed write")
        log("writes reached the disks; the read-only disk refused them")
        check(vmm.proc.poll() is None, "oriel-vmm exited")
        sh.s.send("sync; poweroff -f\n")
        check(vmm.wait(120) == 0, "oriel-vmm exit status")
    finally:
        vmm.kill()
        log("oriel-vmm stderr:\n" + vmm.stderr_text()[-3000:])

    for path, tag in ((ide, b"ide"), (sata, b"sata")):
        with open(path, "rb") as f:
            f.seek(9 * 512)
            check(f.read(len(tag) + 13) == b"oriel-" + tag + b"-sector", "%s not in %s" % (tag, path))
    check(md5(ro) == sums[ro], "read-only image changed")


if __name__ == "__main__":
    main(__file__, inner)
