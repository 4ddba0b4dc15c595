#!/usr/bin/python3
"""The Q35 machine (--machine q35) in one test host boot:

(a) a directly booted Debian kernel sees the Q35 chipset: MCH 8086:29C0 at
    00:00.0, ICH9 LPC 8086:2918 at 00:1F.0 and SATA 8086:2922 at 00:1F.2,
    the MCFG table and its configuration window in use (4 KiB config
    spaces, extended space read through ECAM), a disk on the ICH9 AHCI
    read back; the VM is saved and restored into a new VMM (the window,
    the PM block and the AHCI disk work there); a reboot through the reset
    control register 0xCF9 (reboot=pci) brings the kernel up again, and an
    ACPI power-off through the relocated PM block ends the VMM with 0;
(b) SeaBIOS boots GRUB from a CD-ROM on the ICH9 AHCI (read through
    SeaBIOS's AHCI driver and its ECAM configuration accesses) to the
    cloud kernel, which sees the same chipset and powers off through
    ACPI.  This VM has SMM (q35,smm=on): SeaBIOS finds the ICH9 with SMI
    enables clear, opens SMRAM and relocates SMBASE through an APM SMI
    before it boots."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fwtest  # noqa: E402
import vmmtest  # noqa: E402
from fwtest import check, log  # noqa: E402
from vmmtest import Shell  # noqa: E402

AHCI = "kernel/drivers/ata/ahci.ko"
DISK_MAGIC = b"ORIEL-Q35-AHCI-DISK"


def load_modules(sh):
    out = sh.run("for m in $(cat /bochs-order); do insmod /lib/modules/$(uname -r)/$m; done 2>&1",
                 timeout=120)
    check("rror" not in out, "insmod: %r" % out)


def pci_id(sh, bdf):
    return sh.run("cat /sys/bus/pci/devices/0000:%s/vendor /sys/bus/pci/devices/0000:%s/device"
                  " 2>&1 | tr '\\n' ' '" % (bdf, bdf)).split()


def check_chipset(sh):
    for bdf, want in (("00:00.0", ["0x8086", "0x29c0"]), ("00:1f.0", ["0x8086", "0x2918"]),
                      ("00:1f.2", ["0x8086", "0x2922"])):
        got = pci_id(sh, bdf)
        check(got == want, "PCI %s is %r, expected %r" % (bdf, got, want))
    tables = sh.run("ls /sys/firmware/acpi/tables")
    check("MCFG" in tables.split(), "no MCFG table: %r" % tables)
    # Linux uses ECAM only when it trusts the window: 4 KiB config spaces.
    size = sh.run("wc -c < /sys/bus/pci/devices/0000:00:00.0/config")
    check(size == "4096", "config space of 00:00.0 is %r bytes: ECAM not in use" % size)
    iomem = sh.run("grep -i mmconfig /proc/iomem || true")
    check("b0000000" in iomem, "ECAM window not in /proc/iomem: %r" % iomem)
    check_ecam_alive(sh)


def check_ecam_alive(sh):
    # Linux reads offsets from 256 up through ECAM only: 0 there (no
    # extended capabilities) means the window decodes, all ones it does not.
    ext = sh.run("od -An -tx4 -j256 -N4 /sys/bus/pci/devices/0000:00:00.0/config")
    check(ext == "00000000", "extended config space of 00:00.0 reads %r" % ext)


def read_disk(sh):
    sh.run("n=0; while [ ! -b /dev/sda ] && [ $n -lt 200 ]; do usleep 50000; n=$((n+1)); done")
    # Uncached, so the AHCI controller really reads it.
    magic = sh.run("echo 3 > /proc/sys/vm/drop_caches; "
                   "dd if=/dev/sda bs=512 count=1 2>/dev/null | head -c %d" % len(DISK_MAGIC))
    check(magic == DISK_MAGIC.decode(), "sda starts with %r" % magic)


def direct_boot(vmm_bin, tmp):
    a = vmmtest.assets()
    initrd = os.path.join(tmp, "q35-initrd.img")
    with open(a["INITRAMFS_BUSYBOX"], "rb") as f:
        base = f.read()
    with open(initrd, "wb") as f:
        f.write(base + b"\0" * (-len(base) % 4))
        f.write(fwtest.modules_cpio(a["MODULES_GENERIC"], a["KVER_GENERIC"], [AHCI]))
    disk = os.path.join(tmp, "q35-disk.img")
    with open(disk, "wb") as f:
        f.write(DISK_MAGIC + b"\0" * (1024 * 1024 - len(DISK_MAGIC)))

    args = ["--machine", "q35", "--memory", "512M", "--disk", "path=%s,if=ahci" % disk,
            "--kernel", a["VMLINUZ_GENERIC"], "--initrd", initrd,
            "--cmdline", "console=ttyS0 quiet reboot=pci"]
    state = os.path.join(tmp, "q35.sav")

    serial = os.path.join("/tmp", "oriel-q35-serial-%d.sock" % os.getpid())
    vmm = vmmtest.VMM(vmm_bin, ["--serial", "unix:" + serial] + args, name="q35-direct")
    try:
        ctl = vmmtest.Control(vmm.control_path)
        con = vmmtest.Stream(vmmtest.connect_unix(serial), "serial console")
        con.expect("ORIEL-GUEST-INIT", 600)
        log("direct boot: init after %.2f s" % (time.monotonic() - vmm.started))
        sh = Shell(con)
        check_chipset(sh)
        load_modules(sh)
        read_disk(sh)
        sda = sh.run("readlink -f /sys/block/sda/device")
        check("0000:00:1f.2" in sda, "sda is not on the ICH9 SATA function: %r" % sda)
        ctl.command("stop")
        ctl.command("save", filename=state)
        ctl.command("quit")
        check(vmm.wait(60) == 0, "saved VMM exit status")
    finally:
        vmm.kill()

    serial = os.path.join("/tmp", "oriel-q35-serial-r-%d.sock" % os.getpid())
    vmm = vmmtest.VMM(vmm_bin, ["--serial", "unix:" + serial, "--restore", state] + args,
                      name="q35-restored")
    try:
        con = vmmtest.Stream(vmmtest.connect_unix(serial), "serial console")
        sh = Shell(con)
        check(sh.run("echo restored$((40+2))") == "restored42", "no shell after restore")
        check_ecam_alive(sh)
        read_disk(sh)

        # Reset control register: the kernel writes 0x06 to 0xCF9; the VM
        # restarts and the same kernel boots again.
        t0 = time.monotonic()
        con.send("reboot -f\n")
        con.expect("ORIEL-GUEST-INIT", 600)
        log("rebooted through 0xCF9 in %.2f s" % (time.monotonic() - t0))
        check(vmm.proc.poll() is None, "oriel-vmm ended on reboot")
        sh = Shell(con)
        got = pci_id(sh, "00:00.0")
        check(got == ["0x8086", "0x29c0"], "after reboot 00:00.0 is %r" % got)
        check_ecam_alive(sh)

        # ACPI S5 through PM1a_CNT at the PMBASE the VMM programmed.
        con.send("poweroff -f\n")
        rc = vmm.wait(120)
        check(rc == 0, "oriel-vmm exit status %d after ACPI power-off" % rc)
    finally:
        vmm.kill()


def seabios_cdrom(vmm_bin, iso):
    vmm, con = fwtest.start(vmm_bin, ["--machine", "q35,smm=on", "--cdrom", iso], name="q35-seabios")
    try:
        fwtest.expect_boot(vmm, con, "Q35CD")
        sh = Shell(con)
        check_chipset(sh)
        con.send("poweroff -f\n")
        rc = vmm.wait(120)
        check(rc == 0, "oriel-vmm exit status %d after ACPI power-off" % rc)
    finally:
        vmm.kill()


def inner(vmm_bin, media):
    tmp = os.path.dirname(media["Q35CD"])
    direct_boot(vmm_bin, tmp)
    seabios_cdrom(vmm_bin, media["Q35CD"])


if __name__ == "__main__":
    # The CD carries the small cloud kernel: everything GRUB loads goes
    # through the BIOS.  The direct boot builds its own initrd with the
    # generic kernel's AHCI driver.
    fwtest.main(__file__, inner, ["Q35CD"])
