#!/usr/bin/python3
"""SeaBIOS (Debian's bios.bin, unmodified) boots a grub-mkrescue ISO from
the IDE CD-ROM: GRUB runs, loads Linux and the busybox initramfs from the
CD, the guest reaches init and a shell on the serial console, and sees the
CD-ROM through ata_piix; SMBIOS carries the VM's UUID; the BIOS's shadow
copy is write-protected as SeaBIOS asked through the PAM registers; the
control socket ejects the disc and puts another in, which the guest reads;
a guest reboot runs SeaBIOS, GRUB (from the new disc) and Linux again."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fwtest  # noqa: E402
from fwtest import check, log  # noqa: E402
from vmmtest import Control, Shell  # noqa: E402

UUID = "6f1c2a3b-4d5e-4f60-8172-93a4b5c6d7e8"


def inner(vmm_bin, media):
    vmm, con = fwtest.start(vmm_bin, ["--cdrom", media["CDROM"], "--uuid", UUID])
    try:
        fwtest.expect_boot(vmm, con, "CDROM")
        sh = Shell(con)
        model = sh.run("cat /sys/block/sr0/device/model 2>/dev/null || echo none", timeout=120)
        log("sr0 model %r" % model)
        check(model != "none", "the guest sees no CD-ROM (sr0)")
        # The ISO's volume descriptor read back through the guest's driver.
        magic = sh.run("dd if=/dev/sr0 bs=2048 skip=16 count=1 2>/dev/null | head -c 6 | tail -c 5")
        check(magic == "CD001", "ISO 9660 signature read from sr0: %r" % magic)
        uuid = sh.run("cat /sys/class/dmi/id/product_uuid 2>/dev/null || echo none")
        check(uuid.lower() == UUID, "SMBIOS product UUID %r, expected %s" % (uuid, UUID))
        vendor = sh.run("cat /sys/class/dmi/id/sys_vendor 2>/dev/null || echo none")
        check(vendor == "Oriel", "SMBIOS system vendor %r" % vendor)
        acpi = sh.run("ls /sys/firmware/acpi/tables/ | tr '\\n' ' '")
        check("FACP" in acpi and "APIC" in acpi and "DSDT" in acpi,
              "ACPI tables seen by the guest: %r" % acpi)
        check_bios_write_protected(sh)
        swap_media(vmm, sh, media["SPARE"])

        # A guest reboot goes through the firmware again: the hard reset
        # puts the BIOS area back to ROM, SeaBIOS shadows a pristine copy,
        # GRUB (from the disc now in the drive) and Linux come up again.
        con.send("reboot -f\n")
        fwtest.expect_boot(vmm, con, "SPARE")
        sh = Shell(con)
        check(sh.run("echo again") == "again", "no shell after the reboot")
        check_bios_write_protected(sh)
    finally:
        vmm.kill()


def swap_media(vmm, sh, spare):
    """eject and change-medium on the control socket: the guest finds no
    medium, then reads the new disc (its GRUB marker, located here in the
    image, read back through sr0)."""
    ctl = Control(vmm.control_path)
    bad = ctl.execute("eject", device="floppy")
    check(bad.get("error", {}).get("class") == "DeviceNotFound", "eject of an unknown drive: %r" % bad)
    ctl.command("eject", device="cdrom")
    rc = sh.run("dd if=/dev/sr0 of=/dev/null bs=2048 count=1 2>/dev/null; echo $?")
    check(rc != "0", "the guest still reads a disc after eject")
    missing = ctl.execute("change-medium", device="cdrom", filename=spare + ".missing")
    check("error" in missing and "missing" in missing["error"]["desc"],
          "change-medium to a missing file: %r" % missing)
    ctl.command("change-medium", device="cdrom", filename=spare)
    data = open(spare, "rb").read()
    at = data.find(b"ORIEL-GRUB-SPARE")
    check(at > 0, "no GRUB marker in %s" % spare)
    seen = sh.run("dd if=/dev/sr0 bs=2048 skip=%d count=2 2>/dev/null | grep -c ORIEL-GRUB-SPARE"
                  % (at // 2048), timeout=120)
    check(seen == "1", "the guest does not read the new disc (%r)" % seen)
    log("eject and change-medium: the guest saw no medium, then the new disc")


def check_bios_write_protected(sh):
    """SeaBIOS write-protects its shadow copy through the PAM registers, so
    a store to the F segment (through /dev/mem) must not stick, while the
    copy itself is there: the reset vector's far jump at 0xFFFF0."""
    sh.run("[ -e /dev/mem ] || mknod /dev/mem c 1 1")
    jump = sh.run("devmem 0xffff0 8")
    check(jump.lower() == "0xea", "no far jump at the reset vector 0xFFFF0: %r" % jump)
    before = sh.run("devmem 0xf0000 32")
    check(re.fullmatch(r"0x[0-9A-Fa-f]{8}", before) is not None, "devmem read gave %r" % before)
    flipped = "0x%08X" % (int(before, 16) ^ 0xFFFFFFFF)
    sh.run("devmem 0xf0000 32 %s" % flipped)
    after = sh.run("devmem 0xf0000 32")
    log("F segment word: %s, after writing %s: %s" % (before, flipped, after))
    check(after == before, "a store to the write-protected BIOS at 0xF0000 stuck (%s -> %s)"
          % (before, after))


if __name__ == "__main__":
    fwtest.main(__file__, inner, ["CDROM", "SPARE"])
