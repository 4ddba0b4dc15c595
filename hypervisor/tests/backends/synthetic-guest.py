#!/usr/bin/python3
"""The synthetic disk (format=synthetic) with a Linux guest, in one test
host.  The "physical disks" are image files built at test time with the
dual-boot fixture (dualboot/tests/dualboot_fixture.py): its GPT disk (FAT
ESP, MSR, NTFS "Windows", ext4 "Linux"), and an MBR disk of the same kind
whose active NTFS partition holds Debian's generic kernel and GRUB
(i386-pc) in the MBR and the gap after it.

(a) GPT, direct boot: the guest has the disk twice, on NVMe in trial mode
    and on AHCI in real mode (two copies of the image).  On each it sees
    the partitions, reads zeros on the Linux partition and fails to write
    it and the partition table, writes a pattern into the Windows
    partition and into the ESP and reads them back.  The VM is saved and
    restored into a new process, which reads the patterns again.
(b) MBR, SeaBIOS (bios-256k.bin): the firmware boots the synthetic disk
    on NVMe (real mode) -- its MBR and GRUB's core from the table range,
    the kernel through GRUB's NTFS driver from the passed-through
    partition -- with a second copy on AHCI in trial mode; the same
    checks in the guest.

Afterwards, on the host: the trial-mode devices are unchanged byte for
byte and their trial overlays (qemu-img convert) hold the patterns; the
real-mode devices hold the Windows pattern and nothing else changed (the
ESP's and Linux partition's SHA-256 are those from before); every overlay
passes qemu-img check."""

import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "firmware"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "dualboot", "tests"))
import fwtest  # noqa: E402
import vmmtest  # noqa: E402
from vmmtest import Control, Failure, Shell, Stream, check, connect_unix, log  # noqa: E402

MIB = 1 << 20
SECTOR = 512
BIOS_NVME = "/usr/share/seabios/bios-256k.bin"
NVME_MODULES = ["kernel/drivers/nvme/host/nvme.ko"]
PATTERN_LEN = 4096
# The GPT disk of the fixture (MiB): ESP 1+8, MSR 9+4, Windows 13+24,
# Linux 37+26, 64 in all.  Partition numbers in the table are 1-4.
GPT_PARTS = {"esp": (1, 8), "msr": (9, 4), "windows": (13, 24), "linux": (37, 26)}
GPT_DISK_MIB = 64
GPT_NUMBERS = {"esp": 1, "msr": 2, "windows": 3, "linux": 4}
# The MBR disk: the active NTFS partition carries the kernel.
MBR_PARTS = {"windows": (1, 48), "linux": (49, 16)}
MBR_DISK_MIB = 72
MBR_NUMBERS = {"windows": 1, "linux": 2}
WIN_PATTERN_AT = {"gpt": 16 * MIB, "mbr": 40 * MIB}    # inside the Windows partition
ESP_PATTERN_AT = 4 * MIB                               # inside the ESP

GRUB_MBR_CFG = """serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
echo ORIEL-GRUB-MBR
set root=(hd0,msdos1)
linux /boot/vmlinuz console=ttyS0 quiet
initrd /boot/initrd.img
boot
"""


def sha256(path, offset=0, length=None):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        f.seek(offset)
        left = length if length is not None else os.path.getsize(path) - offset
        while left:
            b = f.read(min(left, MIB))
            check(b, "%s is shorter than expected" % path)
            h.update(b)
            left -= len(b)
    return h.hexdigest()


def pattern(tag):
    """4 KiB of 16-byte lines, as the guest's shell writes them."""
    return b"".join(b"oriel-%s-%05d\n" % (tag.encode(), i) for i in range(PATTERN_LEN // 16))


def initrd_bytes():
    """The test initramfs with the NVMe driver (and what it needs) added;
    the shell loads them from /bochs-order."""
    a = vmmtest.assets()
    with open(a["INITRAMFS_BUSYBOX"], "rb") as f:
        base = f.read()
    return base + b"\0" * (-len(base) % 4) + fwtest.modules_cpio(
        a["MODULES_GENERIC"], a["KVER_GENERIC"], NVME_MODULES)


# ---- the disks (outside the test host: ntfs-3g needs FUSE) ----

def build_gpt(outdir):
    import dualboot_fixture as fx
    work = tempfile.mkdtemp(prefix="gpt-", dir=outdir)
    image = fx.build_disk(work, table="gpt")
    check(fx.DISK_MIB == GPT_DISK_MIB and fx.ESP == GPT_PARTS["esp"] and fx.WIN == GPT_PARTS["windows"]
          and fx.MSR == GPT_PARTS["msr"] and fx.LINUX == GPT_PARTS["linux"],
          "the fixture's GPT layout changed; update GPT_PARTS")
    out = os.path.join(outdir, "gpt.img")
    os.rename(image, out)
    shutil.rmtree(work)
    return out


def build_mbr(outdir):
    """An MBR disk SeaBIOS boots: GRUB's boot.img in the MBR, its core
    (biosdisk, part_msdos, ntfs and an embedded configuration) in the
    sectors after it, the kernel and initramfs on the NTFS partition."""
    import dualboot_fixture as fx
    a = vmmtest.assets()
    work = tempfile.mkdtemp(prefix="mbr-", dir=outdir)
    system = os.path.join(work, "SYSTEM")
    fx.build_hive(system, fx.system_reg(stornvme=0, storahci=0))
    initrd = os.path.join(work, "initrd.img")
    with gzip.open(initrd, "wb", compresslevel=1) as f:
        f.write(initrd_bytes())
    ntfs = os.path.join(work, "ntfs.img")
    fx.build_ntfs(ntfs, MBR_PARTS["windows"][1] * MIB, {
        "Windows/System32/config/SYSTEM": system,
        "boot/vmlinuz": a["VMLINUZ_GENERIC"],
        "boot/initrd.img": initrd})
    linux = os.path.join(work, "ext4.img")
    fx.build_ext4(linux, MBR_PARTS["linux"][1] * MIB)
    image = os.path.join(outdir, "mbr.img")
    with open(image, "wb") as f:
        f.truncate(MBR_DISK_MIB * MIB)
    fx.run("sfdisk", "--quiet", image, input="label: dos\n"
           "start=%dMiB, size=%dMiB, type=7, bootable\n" % MBR_PARTS["windows"]
           + "start=%dMiB, size=%dMiB, type=83\n" % MBR_PARTS["linux"])
    fx.place(image, ntfs, MBR_PARTS["windows"][0] * MIB)
    fx.place(image, linux, MBR_PARTS["linux"][0] * MIB)
    cfg = os.path.join(work, "embed.cfg")
    with open(cfg, "w") as f:
        f.write(GRUB_MBR_CFG)
    core = os.path.join(work, "core.img")
    fx.run("grub-mkimage", "-O", "i386-pc", "-o", core, "-c", cfg, "-p", "(hd0,msdos1)/boot/grub",
           "biosdisk", "part_msdos", "ntfs", "serial", "terminal", "echo", "linux", "boot")
    with open("/usr/lib/grub/i386-pc/boot.img", "rb") as f:
        boot = f.read()
    with open(core, "rb") as f:
        core_bytes = f.read()
    # boot.img loads sector 1, whose block list (written by grub-mkimage)
    # names the sectors after it; the partition table at 446 stays.
    check(len(core_bytes) <= MBR_PARTS["windows"][0] * MIB - SECTOR, "GRUB core too large")
    with open(image, "r+b") as f:
        f.write(boot[:440])
        f.seek(SECTOR)
        f.write(core_bytes)
    shutil.rmtree(work)
    return image


# ---- inside the test host ----

class Disk:
    """One copy of a disk image with its overlays and map file."""

    def __init__(self, tmp, source, kind, mode, name):
        self.kind, self.mode, self.name = kind, mode, name
        self.parts = GPT_PARTS if kind == "gpt" else MBR_PARTS
        self.numbers = GPT_NUMBERS if kind == "gpt" else MBR_NUMBERS
        self.size = (GPT_DISK_MIB if kind == "gpt" else MBR_DISK_MIB) * MIB
        self.device = os.path.join(tmp, name + ".img")
        shutil.copyfile(source, self.device)
        self.esp = os.path.join(tmp, name + "-esp.qcow2")
        self.trial = os.path.join(tmp, name + "-trial.qcow2")
        for ov in (self.esp, self.trial):
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", ov, str(self.size)], check=True)
        self.map = os.path.join(tmp, name + ".map")
        lines = ["# oriel synthetic disk v1", "device = " + self.device, "mode = " + mode,
                 "esp-overlay = " + self.esp, "trial-overlay = " + self.trial,
                 # MBR, GPT header and entries (GRUB's core on the MBR disk).
                 "table = 0 %d" % MIB]
        if kind == "gpt":
            lines.append("table = %d %d" % (self.size - 33 * SECTOR, 33 * SECTOR))
            lines.append("esp = %d %d" % self.span("esp"))
            lines.append("pass = %d %d" % self.span("msr"))
        lines.append("pass = %d %d" % self.span("windows"))
        with open(self.map, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.sums = self.region_sums()
        self.outside_windows = self.outside_windows_sum()
        self.original = sha256(self.device)
        self.tag = None

    def span(self, part):
        start, size = self.parts[part]
        return start * MIB, size * MIB

    def region_sums(self):
        sums = {p: sha256(self.device, *self.span(p)) for p in self.parts}
        sums["table"] = sha256(self.device, 0, MIB)
        return sums

    def outside_windows_sum(self):
        start, size = self.span("windows")
        return (sha256(self.device, 0, start), sha256(self.device, start + size))

    def arg(self, iface):
        return "path=%s,if=%s,format=synthetic" % (self.map, iface)


def wait_block(sh, name):
    out = sh.run("n=0; while [ ! -b /dev/%s ] && [ $n -lt 300 ]; do usleep 50000; n=$((n+1)); done; "
                 "ls /sys/block" % name)
    check(name in out.split(), "no /dev/%s; block devices: %s" % (name, out))


def load_nvme(sh):
    out = sh.run("for m in $(cat /bochs-order); do insmod /lib/modules/$(uname -r)/$m; done 2>&1",
                 timeout=120)
    check("rror" not in out, "insmod: %r" % out)


def part_dev(dev, number):
    return "%s%s%d" % (dev, "p" if dev[-1].isdigit() else "", number)


def guest_checks(sh, dev, disk, tag, table_first=False):
    """The partitions, the masked Linux partition, the write-protected
    table, and patterns written into the Windows partition and the ESP."""
    disk.tag = tag
    sh.run("dmesg -n 1")
    check(sh.run("cat /sys/block/%s/size" % dev) == str(disk.size // SECTOR), "%s size" % dev)
    for part, number in disk.numbers.items():
        p = part_dev(dev, number)
        got = sh.run("cat /sys/block/%s/%s/start /sys/block/%s/%s/size 2>&1" % (dev, p, dev, p)).split()
        start, size = disk.span(part)
        check(got == [str(start // SECTOR), str(size // SECTOR)],
              "%s (%s): start and size %r, expected %d %d" % (p, part, got, start // SECTOR,
                                                              size // SECTOR))
    log("%s: the partitions of the %s table are there" % (dev, disk.kind.upper()))

    linux = part_dev(dev, disk.numbers["linux"])
    nonzero = sh.run("dd if=/dev/%s bs=1M iflag=direct 2>/dev/null | tr -d '\\000' | wc -c" % linux,
                     timeout=120)
    check(nonzero == "0", "the Linux partition %s reads %s non-zero bytes" % (linux, nonzero))
    # The first refused write of a disk is always logged (later ones at
    # most once a second): the table first on one disk, Linux on the other.
    refused = [(linux, 8), (dev, 1)]
    if table_first:
        refused.reverse()
    for target, seek in refused:
        # busybox's dd falls back to buffered writes where O_DIRECT needs
        # aligned buffers (SCSI disks): fsync reports the failed write then.
        out = sh.run("printf x | dd of=/dev/%s bs=512 seek=%d conv=sync,fsync oflag=direct 2>&1; "
                     "echo rc=$?" % (target, seek), timeout=120)
        # NVMe fails it with Write Fault (Linux: ENODATA), AHCI with an
        # uncorrectable error (EIO).
        if "rc=0" in out or "error" not in out:
            raise Failure("a write to %s sector %d did not fail: %r\n%s" % (
                target, seek, out, sh.run("dmesg | tail -40")))
    log("%s: the Linux partition reads zeros; it and the partition table refuse writes" % dev)

    sh.run("i=0; while [ $i -lt %d ]; do printf 'oriel-%s-%%05d\\n' $i; i=$((i+1)); done > /tmp/pat-%s"
           % (PATTERN_LEN // 16, tag, tag))
    writes = [(part_dev(dev, disk.numbers["windows"]), WIN_PATTERN_AT[disk.kind])]
    if "esp" in disk.parts:
        writes.append((part_dev(dev, disk.numbers["esp"]), ESP_PATTERN_AT))
    for p, at in writes:
        out = sh.run("dd if=/tmp/pat-%s of=/dev/%s bs=4096 seek=%d oflag=direct conv=fsync 2>&1; "
                     "echo rc=$?" % (tag, p, at // 4096), timeout=120)
        check(out.endswith("rc=0"), "writing the pattern to %s: %r" % (p, out))
    read_back(sh, dev, disk)
    log("%s: patterns written into the Windows partition%s and read back"
        % (dev, " and the ESP" if "esp" in disk.parts else ""))


def read_back(sh, dev, disk):
    parts = [("windows", WIN_PATTERN_AT[disk.kind])]
    if "esp" in disk.parts:
        parts.append(("esp", ESP_PATTERN_AT))
    want = hashlib.md5(pattern(disk.tag)).hexdigest()
    # From the disk, not the page cache.
    sh.run("sync; echo 3 > /proc/sys/vm/drop_caches")
    for part, at in parts:
        p = part_dev(dev, disk.numbers[part])
        got = sh.run("dd if=/dev/%s bs=4096 skip=%d count=1 iflag=direct 2>/dev/null | md5sum | "
                     "cut -d' ' -f1" % (p, at // 4096))
        check(got == want, "%s (%s) reads back %s, the pattern is %s" % (p, part, got, want))


def find_sata(sh):
    for _ in range(300):
        out = sh.run("ls /sys/block | grep -E '^sd' || true")
        if out:
            return out.split()[0]
        sh.run("usleep 50000")
    raise Failure("no SATA disk appeared")


def run_gpt(vmm_bin, tmp, gpt_img):
    """(a): direct boot, NVMe trial and AHCI real, save and restore."""
    a = vmmtest.assets()
    nvme = Disk(tmp, gpt_img, "gpt", "trial", "gpt-nvme-trial")
    sata = Disk(tmp, gpt_img, "gpt", "real", "gpt-ahci-real")
    initrd = os.path.join(tmp, "initrd-nvme.img")
    with open(initrd, "wb") as f:
        f.write(initrd_bytes())
    args = ["--memory", "512M", "--disk", nvme.arg("nvme"), "--disk", sata.arg("ahci"),
            "--kernel", a["VMLINUZ_GENERIC"], "--initrd", initrd, "--cmdline", "console=ttyS0 quiet"]
    state = os.path.join(tmp, "gpt.sav")
    serial = os.path.join(tmp, "gpt-serial.sock")
    vmm = vmmtest.VMM(vmm_bin, ["--serial", "unix:" + serial] + args, name="synthetic-gpt")
    try:
        ctl = Control(vmm.control_path)
        con = Stream(connect_unix(serial), "serial console")
        con.expect("ORIEL-GUEST-INIT", 300)
        log("GPT: guest init after %.1f s" % (time.monotonic() - vmm.started))
        sh = Shell(con)
        load_nvme(sh)
        wait_block(sh, "nvme0n1")
        dev_sata = find_sata(sh)
        guest_checks(sh, "nvme0n1", nvme, "nvm", table_first=True)
        guest_checks(sh, dev_sata, sata, "ahc")
        check(vmm.proc.poll() is None, "oriel-vmm exited")
        ctl.command("stop")
        ctl.command("save", filename=state)
        ctl.command("quit")
        check(vmm.wait(60) == 0, "exit status after save and quit")
    finally:
        vmm.kill()
        log("oriel-vmm stderr:\n" + vmm.stderr_text()[-3000:])
    stderr = vmm.stderr_text()
    check("refused: it is in a masked area" in stderr and "refused: it is in the partition table"
          in stderr, "the refused writes were not logged")

    serial = os.path.join(tmp, "gpt-serial-restored.sock")
    vmm = vmmtest.VMM(vmm_bin, ["--serial", "unix:" + serial, "--restore", state] + args,
                      name="synthetic-gpt-restored")
    try:
        Control(vmm.control_path)
        sh = Shell(Stream(connect_unix(serial), "serial console"))
        read_back(sh, "nvme0n1", nvme)
        read_back(sh, dev_sata, sata)
        log("GPT: the restored VM reads the patterns back from both disks")
        sh.s.send("sync; poweroff -f\n")
        check(vmm.wait(120) == 0, "oriel-vmm exit status after power-off")
    finally:
        vmm.kill()
        log("restored oriel-vmm stderr:\n" + vmm.stderr_text()[-3000:])
    return [nvme, sata]


def run_mbr(vmm_bin, tmp, mbr_img):
    """(b): SeaBIOS boots the synthetic MBR disk on NVMe (real mode)."""
    nvme = Disk(tmp, mbr_img, "mbr", "real", "mbr-nvme-real")
    sata = Disk(tmp, mbr_img, "mbr", "trial", "mbr-ahci-trial")
    fwtest.BIOS = BIOS_NVME
    vmm, con = fwtest.start(vmm_bin, ["--disk", nvme.arg("nvme"), "--disk", sata.arg("ahci")],
                            name="synthetic-mbr")
    try:
        con.expect("ORIEL-GRUB-MBR", 300)
        log("MBR: GRUB from the synthetic disk after %.1f s" % (time.monotonic() - vmm.started))
        con.expect("ORIEL-GUEST-INIT", 300)
        log("MBR: guest init after %.1f s" % (time.monotonic() - vmm.started))
        sh = Shell(con)
        load_nvme(sh)
        wait_block(sh, "nvme0n1")
        dev_sata = find_sata(sh)
        guest_checks(sh, "nvme0n1", nvme, "nvm")
        guest_checks(sh, dev_sata, sata, "ahc")
        sh.s.send("sync; poweroff -f\n")
        check(vmm.wait(120) == 0, "oriel-vmm exit status after power-off")
    finally:
        vmm.kill()
        log("oriel-vmm stderr:\n" + vmm.stderr_text()[-3000:])
    return [nvme, sata]


def overlay_bytes(tmp, overlay, offset, length):
    raw = os.path.join(tmp, "converted.raw")
    subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", overlay, raw], check=True)
    with open(raw, "rb") as f:
        f.seek(offset)
        data = f.read(length)
    os.unlink(raw)
    return data


def check_host(tmp, disk):
    for ov in (disk.esp, disk.trial):
        r = subprocess.run(["qemu-img", "check", "-f", "qcow2", ov], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        check(r.returncode == 0 and "No errors were found" in r.stdout,
              "qemu-img check %s: %s" % (ov, r.stdout))
    pat = pattern(disk.tag)
    win_at = disk.span("windows")[0] + WIN_PATTERN_AT[disk.kind]
    now = disk.region_sums()
    for part in [p for p in disk.parts if p != "windows"] + ["table"]:
        check(now[part] == disk.sums[part], "%s: the %s changed on the device" % (disk.name, part))
    if disk.mode == "trial":
        check(sha256(disk.device) == disk.original, "%s: the device changed in trial mode" % disk.name)
        check(overlay_bytes(tmp, disk.trial, win_at, len(pat)) == pat,
              "%s: the pattern is not in the trial overlay" % disk.name)
    else:
        check(disk.outside_windows_sum() == disk.outside_windows,
              "%s: the device changed outside the Windows partition" % disk.name)
        with open(disk.device, "rb") as f:
            f.seek(win_at)
            check(f.read(len(pat)) == pat, "%s: the pattern is not on the device" % disk.name)
    if "esp" in disk.parts:
        esp_at = disk.span("esp")[0] + ESP_PATTERN_AT
        check(overlay_bytes(tmp, disk.esp, esp_at, len(pat)) == pat,
              "%s: the ESP pattern is not in the ESP overlay" % disk.name)
    log("%s: the device and the overlays hold what they should" % disk.name)


def inner(vmm_bin, media):
    tmp = tempfile.mkdtemp(prefix="oriel-synthetic-", dir="/tmp")
    t0 = time.monotonic()
    disks = run_gpt(vmm_bin, tmp, os.path.join(media, "gpt.img"))
    log("GPT leg: %.1f s" % (time.monotonic() - t0))
    t1 = time.monotonic()
    disks += run_mbr(vmm_bin, tmp, os.path.join(media, "mbr.img"))
    log("MBR leg: %.1f s" % (time.monotonic() - t1))
    for d in disks:
        check_host(tmp, d)
    shutil.rmtree(tmp, ignore_errors=True)


def main():
    vmm = os.path.abspath(sys.argv[1])
    if os.environ.get("ORIEL_IN_TESTHOST") != "1":
        import dualboot_fixture as fx
        import testhost
        missing = fx.missing_tools() + [t for t in ("grub-mkimage", "qemu-img")
                                         if shutil.which(t) is None]
        if missing or not os.path.exists("/usr/lib/grub/i386-pc/boot.img"):
            print("missing tools: %s (tools/install-deps)" % " ".join(missing or ["grub-pc-bin"]))
            sys.exit(77)
        testhost.ensure_assets()
        media = tempfile.mkdtemp(prefix="oriel-synthetic-media-", dir="/var/tmp")
        try:
            t0 = time.monotonic()
            build_gpt(media)
            build_mbr(media)
            log("disk images built in %.1f s" % (time.monotonic() - t0))
            with testhost.TestHost(mem_mib=2048, shares=[media]) as th:
                log("test host ready after %.1f s" % th.boot_seconds)

                def relay(fd, data):
                    out = sys.stdout if fd == 1 else sys.stderr
                    out.buffer.write(data)
                    out.flush()

                r = th.run(["/usr/bin/python3", os.path.abspath(__file__), vmm, media],
                           timeout=900, on_output=relay)
                sys.exit(r.returncode)
        finally:
            shutil.rmtree(media, ignore_errors=True)
    try:
        inner(vmm, sys.argv[2])
    except Failure as e:
        log("FAIL: %s" % e)
        sys.exit(1)
    log("PASS")
    sys.exit(0)


if __name__ == "__main__":
    main()
