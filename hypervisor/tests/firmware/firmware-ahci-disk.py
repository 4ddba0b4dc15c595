#!/usr/bin/python3
"""SeaBIOS boots a disk on AHCI (a grub-mkrescue hybrid image written to
a raw disk): GRUB from the disk's MBR, Linux and the initramfs read
through SeaBIOS's AHCI driver, the guest reaches init and finds the disk
on its own ahci driver."""

import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fwtest  # noqa: E402
from fwtest import check, log  # noqa: E402
from vmmtest import Shell  # noqa: E402


def inner(vmm_bin, media):
    disk = os.path.join(os.path.dirname(media["DISK"]), "ahci-disk.img")
    shutil.copyfile(media["DISK"], disk)
    vmm, con = fwtest.start(vmm_bin, ["--disk", "path=%s,if=ahci" % disk])
    try:
        fwtest.expect_boot(vmm, con, "DISK")
        sh = Shell(con)
        bound = sh.run("ls /sys/bus/pci/drivers/ahci 2>/dev/null | grep -c : || true", timeout=120)
        check(bound == "1", "PCI devices bound to the ahci driver: %r" % bound)
        sda = sh.run("readlink -f /sys/block/sda/device")
        log("sda: %s" % sda)
        check("/ata" in sda, "sda is not an ATA disk: %r" % sda)
        sig = sh.run("dd if=/dev/sda bs=512 count=1 2>/dev/null | tail -c 2 | od -An -tx1")
        check(sig.split() == ["55", "aa"], "MBR signature read from sda: %r" % sig)
    finally:
        vmm.kill()


if __name__ == "__main__":
    # The generic kernel: the cloud flavour has no AHCI driver.
    fwtest.main(__file__, inner, ["DISK"], flavour="generic")
