#!/usr/bin/python3
"""--boot decides which medium the firmware boots: with a GRUB CD on the
IDE CD-ROM and another GRUB image on an AHCI disk, "cdrom,disk" boots the
CD and "disk,cdrom" the disk (each medium prints its own marker); IDE and
virtio-blk disks follow the same rule."""

import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fwtest  # noqa: E402
from fwtest import check, log  # noqa: E402


def booted(vmm_bin, args, name):
    vmm, con = fwtest.start(vmm_bin, args, name=name)
    try:
        m = con.expect(r"ORIEL-GRUB-([A-Z]+)\r?\n", 300)
        which = m.group(1).decode()
        log("%s: firmware booted %s" % (" ".join(args), which))
        return which
    finally:
        vmm.kill()


def inner(vmm_bin, media):
    disk = os.path.join(os.path.dirname(media["DISK"]), "order-disk.img")
    shutil.copyfile(media["DISK"], disk)
    cd = media["CDROM"]
    for iface in ("ahci", "ide", "virtio"):
        both = ["--cdrom", cd, "--disk", "path=%s,if=%s" % (disk, iface)]
        got = booted(vmm_bin, both + ["--boot", "cdrom,disk"], "cd-first-" + iface)
        check(got == "CDROM", "--boot cdrom,disk (%s disk) booted %s" % (iface, got))
        got = booted(vmm_bin, both + ["--boot", "disk,cdrom"], "disk-first-" + iface)
        check(got == "DISK", "--boot disk,cdrom (%s disk) booted %s" % (iface, got))


if __name__ == "__main__":
    fwtest.main(__file__, inner, ["CDROM", "DISK"])
