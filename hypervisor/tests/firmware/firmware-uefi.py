#!/usr/bin/python3
"""Debian's OVMF (OVMF_CODE_4M.fd, unmodified) on the i440FX machine, in
one UEFI test host (the patched QEMU, TestHost(uefi=True)):

1. OVMF boots a GRUB EFI ISO (grub-mkrescue, built at test time) from the
   IDE CD-ROM: GRUB's marker on the serial console, and on the screen over
   VNC (taken while the VM is stopped right after the marker: not blank,
   with the pixels of the EFI console's light grey text);
2. GRUB loads Debian's generic kernel and the busybox initramfs (with
   efivarfs) from the ISO; the guest finds itself booted by UEFI, mounts
   efivarfs and writes a variable, which lands in the VM's vars file;
3. a new VMM with the same vars file boots the same ISO as a virtio-blk
   disk: OVMF finds GRUB on the disk's EFI partition, and the guest reads
   the variable written in the first boot; the template it was copied from
   never had it.

Each boot is timed from process start to GRUB and to the guest's init.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fwtest  # noqa: E402
import vmmtest  # noqa: E402
from fwtest import Failure, check, log  # noqa: E402
from vmmtest import Control, Shell  # noqa: E402

OVMF = "/usr/share/OVMF"
CODE = os.path.join(OVMF, "OVMF_CODE_4M.fd")
VARS_TEMPLATE = os.path.join(OVMF, "OVMF_VARS_4M.fd")
GRUB_EFI = "/usr/lib/grub/x86_64-efi"
EFIVARFS = "kernel/fs/efivarfs/efivarfs.ko"
MARKER = "ORIEL-UEFI-GRUB"
# A variable of our own vendor GUID: non-volatile, boot and runtime access.
VAR_NAME = "OrielTest"
VAR_GUID = "7c8e5a0c-3f1b-4d2e-9a61-0b5e4f3c2d1a"
VAR_VALUE = "persisted-by-oriel"
GRUB_CFG = """serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
echo %s
linux /vmlinuz console=ttyS0 quiet
initrd /initrd.img
boot
""" % MARKER


def build_iso(outdir):
    """The GRUB EFI ISO with the generic kernel and the busybox initramfs
    plus efivarfs (Debian builds it as a module)."""
    a = vmmtest.assets()
    stage = tempfile.mkdtemp(prefix="oriel-uefi-iso-", dir=outdir)
    os.makedirs(os.path.join(stage, "boot", "grub"))
    shutil.copyfile(a["VMLINUZ_GENERIC"], os.path.join(stage, "vmlinuz"))
    with open(a["INITRAMFS_BUSYBOX"], "rb") as f:
        initrd = f.read()
    initrd += b"\0" * (-len(initrd) % 4) + fwtest.modules_cpio(
        a["MODULES_GENERIC"], a["KVER_GENERIC"], [EFIVARFS])
    with open(os.path.join(stage, "initrd.img"), "wb") as f:
        f.write(initrd)
    with open(os.path.join(stage, "boot", "grub", "grub.cfg"), "w") as f:
        f.write(GRUB_CFG)
    iso = os.path.join(outdir, "uefi.iso")
    r = subprocess.run(["grub-mkrescue", "-d", GRUB_EFI, "-o", iso, stage],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    shutil.rmtree(stage)
    if r.returncode != 0:
        raise Failure("grub-mkrescue failed: %s" % r.stdout.decode(errors="replace")[-2000:])
    return iso


def start(vmm_bin, vars_path, args, name):
    serial = os.path.join("/tmp", "oriel-uefi-serial-%d-%s.sock" % (os.getpid(), name))
    vmm = vmmtest.VMM(vmm_bin, ["--memory", "512M",
                                "--uefi", "code=%s,vars=%s" % (CODE, vars_path),
                                "--serial", "unix:" + serial] + list(args), name=name)
    con = vmmtest.Stream(vmmtest.connect_unix(serial), "serial console")
    return vmm, con


def expect_boot(vmm, con, what):
    con.expect(MARKER, 300)
    grub = time.monotonic() - vmm.started
    log("%s: GRUB after %.1f s" % (what, grub))
    return grub


def expect_init(vmm, con, what):
    con.expect("ORIEL-GUEST-INIT", 300)
    t = time.monotonic() - vmm.started
    log("%s: guest init after %.1f s" % (what, t))
    return Shell(con)


def check_screen(port, path):
    """The GRUB screen over VNC: not blank, and with the EFI console's
    light grey text on black."""
    r = subprocess.run(["gvnccapture", "127.0.0.1:%d" % (port - 5900), path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    check(r.returncode == 0 and os.path.exists(path),
          "gvnccapture failed: %s" % r.stdout.decode(errors="replace"))
    from PIL import Image
    img = Image.open(path).convert("RGB")
    colors = img.getcolors(1 << 22)
    w, h = img.size
    log("screen %dx%d, %d colours" % (w, h, len(colors)))
    check(w >= 640 and h >= 480, "screen %dx%d: OVMF's GOP did not set a mode" % (w, h))
    check(len(colors) >= 2, "the screen is blank (one colour)")
    black = sum(n for n, c in colors if c == (0, 0, 0))
    grey = sum(n for n, c in colors if c[0] == c[1] == c[2] and 0x80 <= c[0] <= 0xd0)
    log("black %d, light grey %d pixels" % (black, grey))
    check(black > w * h // 2, "the screen is not mostly black")
    check(grey >= 100, "no light grey text on the screen")


def mount_efivarfs(sh):
    efi = sh.run("test -d /sys/firmware/efi && echo uefi || echo bios")
    check(efi == "uefi", "the guest kernel does not see UEFI (%r)" % efi)
    sh.run("insmod /lib/modules/*/%s 2>/dev/null; mount -t efivarfs efivarfs "
           "/sys/firmware/efi/efivars" % EFIVARFS)
    n = sh.run("ls /sys/firmware/efi/efivars | wc -l")
    log("efivarfs lists %s variables" % n)
    check(n.isdigit() and int(n) > 0, "efivarfs is empty or not mounted: %r" % n)


def var_path():
    return "/sys/firmware/efi/efivars/%s-%s" % (VAR_NAME, VAR_GUID)


def in_store(path):
    with open(path, "rb") as f:
        return VAR_NAME.encode("utf-16-le") in f.read()


def inner(vmm_bin, media):
    iso = media["UEFI"]
    tmp = tempfile.mkdtemp(prefix="oriel-uefi-")
    vars_path = os.path.join(tmp, "vars.fd")
    shutil.copyfile(VARS_TEMPLATE, vars_path)
    check(not in_store(vars_path), "the template already holds %s" % VAR_NAME)

    # 1 and 2: the IDE CD-ROM, the screen, a variable written.
    vmm, con = start(vmm_bin, vars_path, ["--cdrom", iso, "--vnc", "127.0.0.1:0"], "cdrom")
    try:
        ctl = Control(vmm.control_path)
        port = int(ctl.command("query-vnc")["service"])
        expect_boot(vmm, con, "IDE CD-ROM")
        ctl.command("stop")
        check_screen(port, os.path.join(tmp, "grub.png"))
        ctl.command("cont")
        sh = expect_init(vmm, con, "IDE CD-ROM")
        mount_efivarfs(sh)
        # 4 bytes of attributes (NV | BS | RT), then the data.
        sh.run("printf '\\007\\000\\000\\000%s' > %s" % (VAR_VALUE, var_path()))
        got = sh.run("tail -c +5 %s" % var_path())
        check(got == VAR_VALUE, "variable read back as %r" % got)
        sh.run("umount /sys/firmware/efi/efivars; sync")
    finally:
        vmm.kill()
    check(in_store(vars_path), "%s is not in the vars file after the first boot" % VAR_NAME)
    check(not in_store(VARS_TEMPLATE), "the template was written")

    # 3: a new VMM, the same vars, the ISO as a virtio disk.
    vmm, con = start(vmm_bin, vars_path, ["--disk", "path=%s,if=virtio,readonly=on" % iso],
                     "virtio")
    try:
        expect_boot(vmm, con, "virtio-blk disk")
        sh = expect_init(vmm, con, "virtio-blk disk")
        mount_efivarfs(sh)
        got = sh.run("tail -c +5 %s 2>/dev/null || echo missing" % var_path())
        check(got == VAR_VALUE, "after a new start the variable reads %r" % got)
    finally:
        vmm.kill()
    shutil.rmtree(tmp, ignore_errors=True)


def main():
    vmm = os.path.abspath(sys.argv[1])
    if os.environ.get("ORIEL_IN_TESTHOST") == "1":
        media = sys.argv[2]
        try:
            inner(vmm, {"UEFI": os.path.join(media, "uefi.iso")})
        except Failure as e:
            log("FAIL: %s" % e)
            sys.exit(1)
        log("PASS")
        sys.exit(0)
    import testhost
    for path in (CODE, VARS_TEMPLATE):
        if not os.path.exists(path):
            print("%s is missing (ovmf: tools/install-deps)" % path)
            sys.exit(77)
    if shutil.which("grub-mkrescue") is None or not os.path.isdir(GRUB_EFI):
        print("grub-mkrescue or grub-efi-amd64-bin is missing (tools/install-deps)")
        sys.exit(77)
    testhost.ensure_assets()
    media = tempfile.mkdtemp(prefix="oriel-uefi-media-", dir="/var/tmp")
    try:
        build_iso(media)
        with testhost.TestHost(mem_mib=2048, shares=[media], uefi=True) as th:
            log("UEFI test host ready after %.1f s" % th.boot_seconds)

            def relay(fd, data):
                out = sys.stdout if fd == 1 else sys.stderr
                out.buffer.write(data)
                out.flush()

            started = time.monotonic()
            r = th.run(["/usr/bin/python3", os.path.abspath(__file__), vmm, media],
                       timeout=900, on_output=relay)
            log("inside the test host: %.1f s" % (time.monotonic() - started))
            sys.exit(r.returncode)
    finally:
        shutil.rmtree(media, ignore_errors=True)


if __name__ == "__main__":
    main()
