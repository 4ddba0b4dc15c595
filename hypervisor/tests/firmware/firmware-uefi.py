#!/usr/bin/python3
"""Debian's OVMF, unmodified, in one UEFI test host (the patched QEMU,
TestHost(uefi=True)):

1. i440FX, OVMF_CODE_4M.fd: OVMF boots a GRUB EFI ISO (grub-mkrescue,
   built at test time) from the IDE CD-ROM: GRUB's marker on the serial
   console, and on the screen over VNC (taken while the VM is stopped
   right after the marker: not blank, with the pixels of the EFI console's
   light grey text);
2. GRUB loads Debian's generic kernel and the busybox initramfs (with
   efivarfs) from the ISO; the guest finds itself booted by UEFI, mounts
   efivarfs and writes a variable, which lands in the VM's vars file;
3. a new VMM with the same vars file boots the same ISO as a virtio-blk
   disk: OVMF finds GRUB on the disk's EFI partition, and the guest reads
   the variable written in the first boot; the template it was copied from
   never had it;
4. Q35 (SMM on) with the plain build, from the ICH9 AHCI CD-ROM, to
   Linux;
5. Q35 with SMM, the Secure Boot build (OVMF_CODE_4M.secboot.fd) and the
   template with Microsoft's keys enrolled (OVMF_VARS_4M.ms.fd), and a
   TPM 2.0 (swtpm): from an EFI system partition on a virtio-blk disk,
   Debian's signed shim loads Debian's signed GRUB, which loads the signed
   Debian kernel; the kernel reports Secure Boot enabled, finds the TPM,
   and the firmware's event log replays to the SHA-256 PCR 0 the TPM
   reports (so the firmware measured itself into the TPM);
6. the same platform with an unsigned GRUB in the same place: the firmware
   refuses it (its marker never shows; OVMF moves on past it);
7. Q35 with SMM and the Secure Boot build without enrolled keys (Secure
   Boot off, so Linux leaves /dev/mem open), the ISO on the ICH9 AHCI
   CD-ROM: Linux programs a byte of the variable store through /dev/mem,
   outside SMM, and the store is unchanged, in the guest and in the file.

Each boot is timed from process start to GRUB and to the guest's init.

Legs 5 to 7 run with --secure-boot (the test firmware-secure-boot).
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import efi_media  # noqa: E402
import fwtest  # noqa: E402
import vmmtest  # noqa: E402
from fwtest import Failure, check, log  # noqa: E402
from vmmtest import Control, Shell  # noqa: E402

OVMF = "/usr/share/OVMF"
CODE = os.path.join(OVMF, "OVMF_CODE_4M.fd")
VARS_TEMPLATE = os.path.join(OVMF, "OVMF_VARS_4M.fd")
CODE_SECURE = os.path.join(OVMF, "OVMF_CODE_4M.secboot.fd")
VARS_MS = os.path.join(OVMF, "OVMF_VARS_4M.ms.fd")
SB_MARKER = "ORIEL-UEFI-SIGNED-GRUB"
UNSIGNED_MARKER = "ORIEL-UEFI-UNSIGNED-GRUB"
# Debian's signed GRUB writes to the EFI console, which OVMF mirrors to the
# serial port; its config is looked up beside grubx64.efi.
SB_GRUB_CFG = """set timeout=0
echo %s
linux /vmlinuz console=ttyS0 quiet
initrd /initrd.img
boot
""" % SB_MARKER
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


def build_iso(outdir, secure=False):
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
    if r.returncode != 0:
        raise Failure("grub-mkrescue failed: %s" % r.stdout.decode(errors="replace")[-2000:])
    if not secure:
        shutil.rmtree(stage)
        return iso
    # The Secure Boot chain on an EFI system partition, and the same place
    # with a GRUB nobody signed.
    signed = efi_media.signed_boot_files()
    cfg = SB_GRUB_CFG
    efi_media.esp_disk(os.path.join(outdir, "signed.img"), {
        "EFI/BOOT/BOOTX64.EFI": signed["shim"],
        "EFI/BOOT/grubx64.efi": signed["grub"],
        "EFI/BOOT/grub.cfg": cfg,
        "EFI/debian/grub.cfg": cfg,
        "vmlinuz": os.path.join(stage, "vmlinuz"),
        "initrd.img": os.path.join(stage, "initrd.img"),
    })
    unsigned = efi_media.unsigned_grub(os.path.join(outdir, "unsigned.efi"),
                                       "echo %s\n" % UNSIGNED_MARKER)
    efi_media.esp_disk(os.path.join(outdir, "unsigned.img"),
                       {"EFI/BOOT/BOOTX64.EFI": unsigned}, size_mib=40)
    shutil.rmtree(stage)
    return iso


def start(vmm_bin, vars_path, args, name, code=CODE, q35_secure=False, machine=None):
    serial = os.path.join("/tmp", "oriel-uefi-serial-%d-%s.sock" % (os.getpid(), name))
    uefi = "code=%s,vars=%s" % (code, vars_path)
    machine = ["--machine", machine] if machine else []
    if q35_secure:
        uefi += ",secure=on"
        machine = ["--machine", "q35,smm=on"]
    vmm = vmmtest.VMM(vmm_bin, ["--memory", "512M", "--uefi", uefi] + machine +
                      ["--serial", "unix:" + serial] + list(args), name=name)
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


def inner(vmm_bin, media, secure):
    iso = media["UEFI"]
    tmp = tempfile.mkdtemp(prefix="oriel-uefi-")
    if secure:
        secure_boot(vmm_bin, media, tmp)
        store_outside_smm(vmm_bin, iso, tmp)
        shutil.rmtree(tmp, ignore_errors=True)
        return
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

    q35_cdrom(vmm_bin, iso, tmp)
    shutil.rmtree(tmp, ignore_errors=True)


def q35_cdrom(vmm_bin, iso, tmp):
    """The plain build on Q35 (with SMM on, which it does not use), from
    the ICH9 AHCI CD-ROM, to Linux."""
    vars_path = os.path.join(tmp, "vars-q35.fd")
    shutil.copyfile(VARS_TEMPLATE, vars_path)
    vmm, con = start(vmm_bin, vars_path, ["--cdrom", iso], "q35", machine="q35,smm=on")
    try:
        expect_boot(vmm, con, "Q35 AHCI CD-ROM")
        sh = expect_init(vmm, con, "Q35 AHCI CD-ROM")
        efi = sh.run("test -d /sys/firmware/efi && echo uefi || echo bios")
        check(efi == "uefi", "the guest kernel on Q35 does not see UEFI (%r)" % efi)
        ahci = sh.run("cat /sys/bus/pci/devices/0000:00:1f.2/class")
        check(ahci == "0x010601", "00:1f.2 is %r, not the ICH9 AHCI" % ahci)
    finally:
        vmm.kill()


def replay_pcr0(log_bytes):
    """SHA-256 PCR 0 from a TCG crypto-agile event log (TCG PC Client
    Platform Firmware Profile, 10.2): the SHA-1 format Spec ID event, then
    TCG_PCR_EVENT2 records; EV_NO_ACTION records are not extended."""
    import hashlib
    import struct
    pcr_index, ev_type = struct.unpack_from("<II", log_bytes, 0)
    size = struct.unpack_from("<I", log_bytes, 28)[0]
    spec = log_bytes[32:32 + size]
    check(spec.startswith(b"Spec ID Event03"), "the event log has no Spec ID event")
    nalg = struct.unpack_from("<I", spec, 24)[0]
    sizes = {}
    for i in range(nalg):
        alg, dsize = struct.unpack_from("<HH", spec, 28 + 4 * i)
        sizes[alg] = dsize
    check(0x000b in sizes, "the event log has no SHA-256 bank: %r" % sizes)
    off = 32 + size
    pcr = b"\0" * 32
    events = 0
    while off + 12 <= len(log_bytes):
        pcr_index, ev_type, count = struct.unpack_from("<III", log_bytes, off)
        off += 12
        digests = {}
        for _ in range(count):
            alg = struct.unpack_from("<H", log_bytes, off)[0]
            check(alg in sizes, "event log: digest of unknown algorithm %#x" % alg)
            digests[alg] = log_bytes[off + 2:off + 2 + sizes[alg]]
            off += 2 + sizes[alg]
        esize = struct.unpack_from("<I", log_bytes, off)[0]
        off += 4 + esize
        if pcr_index == 0 and ev_type != 3:
            pcr = hashlib.sha256(pcr + digests[0x000b]).digest()
            events += 1
    check(events > 0, "the event log has no PCR 0 events")
    return pcr, events


def check_tpm_log(sh):
    sh.run("mount -t securityfs securityfs /sys/kernel/security 2>/dev/null; true")
    dev = sh.run("cat /sys/class/tpm/tpm0/tpm_version_major 2>&1")
    check(dev == "2", "the guest has no TPM 2.0: %r" % dev)
    pcr0 = sh.run("cat /sys/class/tpm/tpm0/pcr-sha256/0").strip().lower()
    hexlog = sh.run("od -An -v -tx1 /sys/kernel/security/tpm0/binary_bios_measurements",
                    timeout=300)
    log_bytes = bytes(int(x, 16) for x in hexlog.split())
    replayed, events = replay_pcr0(log_bytes)
    log("TPM: event log of %d bytes, %d PCR 0 events, PCR 0 %s" % (len(log_bytes), events, pcr0))
    check(pcr0 != "0" * 64, "PCR 0 was never extended")
    check(replayed.hex() == pcr0, "the event log replays to PCR 0 %s, the TPM says %s"
          % (replayed.hex(), pcr0))


def secure_boot(vmm_bin, media, tmp):
    """4 and 5: shim, GRUB and the kernel, all signed, boot with Secure
    Boot on, with a TPM; an unsigned GRUB in the same place does not run."""
    vars_path = os.path.join(tmp, "vars-ms.fd")
    shutil.copyfile(VARS_MS, vars_path)
    swtpm = vmmtest.Swtpm(tmp, "swtpm")
    vmm, con = start(vmm_bin, vars_path, ["--disk", "path=%s,if=virtio,readonly=on"
                                          % media["SIGNED"], "--tpm", "swtpm=" + swtpm.ctrl],
                     "secure-boot", code=CODE_SECURE, q35_secure=True)
    try:
        con.expect(SB_MARKER, 600)
        log("Secure Boot: signed GRUB after %.1f s" % (time.monotonic() - vmm.started))
        sh = expect_init(vmm, con, "Secure Boot")
        sb = sh.run("dmesg | grep -i 'secure boot'")
        log("guest kernel: %r" % sb)
        check("Secure boot enabled" in sb, "the guest kernel does not report Secure Boot "
              "enabled: %r" % sb)
        check_tpm_log(sh)
    finally:
        vmm.kill()
        swtpm.stop()

    shutil.copyfile(VARS_MS, vars_path)
    vmm, con = start(vmm_bin, vars_path, ["--disk", "path=%s,if=virtio,readonly=on"
                                          % media["UNSIGNED"]],
                     "unsigned", code=CODE_SECURE, q35_secure=True)
    try:
        # Having refused the only boot option, OVMF says so (or, in builds
        # with a shell, starts it).
        m = con.expect(r"No bootable option|Shell>|UEFI Interactive Shell|%s" % UNSIGNED_MARKER,
                       600)
        check(UNSIGNED_MARKER.encode() not in m.group(0), "the unsigned GRUB ran under Secure Boot")
        log("Secure Boot: the unsigned GRUB was refused after %.1f s"
            % (time.monotonic() - vmm.started))
    finally:
        vmm.kill()


def store_outside_smm(vmm_bin, iso, tmp):
    """6: the variable store of the Secure Boot build takes no program
    command from outside SMM."""
    vars_path = os.path.join(tmp, "vars-smm.fd")
    shutil.copyfile(VARS_TEMPLATE, vars_path)
    vars_size = os.path.getsize(vars_path)
    base = (1 << 32) - os.path.getsize(CODE_SECURE) - vars_size
    # The last bytes of the store: free (erased) space of the fault-tolerant
    # write area, so a program that got through would show.
    offset = vars_size - 16
    vmm, con = start(vmm_bin, vars_path, ["--cdrom", iso], "store-smm",
                     code=CODE_SECURE, q35_secure=True)
    try:
        expect_boot(vmm, con, "Q35 AHCI CD-ROM, SMM")
        sh = expect_init(vmm, con, "Q35 AHCI CD-ROM, SMM")
        with open(vars_path, "rb") as f:
            before = f.read()
        check(before[offset] == 0xff, "byte %#x of the store is %#x, not erased"
              % (offset, before[offset]))
        addr = base + offset
        # Intel command set: 0x40 program setup, then the data.
        sh.run("devmem %#x 8 0x40; devmem %#x 8 0x00" % (addr, addr))
        got = sh.run("devmem %#x 8" % addr)
        check(int(got, 16) == 0xff, "the guest reads %r from the store after its program "
              "from outside SMM" % got)
        sh.run("devmem %#x 8 0xff" % addr)      # back to read-array, should it matter
        with open(vars_path, "rb") as f:
            after = f.read()
        check(after == before, "a write from outside SMM changed the variable store file")
        log("the store ignored a program command from outside SMM (at %#x)" % addr)
    finally:
        vmm.kill()


def main():
    """argv: oriel-vmm [--secure-boot] (legs 5 to 7 instead of 1 to 4)."""
    vmm = os.path.abspath(sys.argv[1])
    secure = "--secure-boot" in sys.argv[2:]
    if os.environ.get("ORIEL_IN_TESTHOST") == "1":
        media = sys.argv[2]
        try:
            inner(vmm, {"UEFI": os.path.join(media, "uefi.iso"),
                        "SIGNED": os.path.join(media, "signed.img"),
                        "UNSIGNED": os.path.join(media, "unsigned.img")}, secure)
        except Failure as e:
            log("FAIL: %s" % e)
            sys.exit(1)
        log("PASS")
        sys.exit(0)
    import testhost
    for path in (CODE, VARS_TEMPLATE, CODE_SECURE, VARS_MS):
        if not os.path.exists(path):
            print("%s is missing (ovmf: tools/install-deps)" % path)
            sys.exit(77)
    if shutil.which("grub-mkrescue") is None or not os.path.isdir(GRUB_EFI):
        print("grub-mkrescue or grub-efi-amd64-bin is missing (tools/install-deps)")
        sys.exit(77)
    if efi_media.missing_tools():
        print("missing: %s (tools/install-deps)" % " ".join(efi_media.missing_tools()))
        sys.exit(77)
    testhost.ensure_assets()
    media = tempfile.mkdtemp(prefix="oriel-uefi-media-", dir="/var/tmp")
    try:
        build_iso(media, secure)
        with testhost.TestHost(mem_mib=2048, shares=[media], uefi=True) as th:
            log("UEFI test host ready after %.1f s" % th.boot_seconds)

            def relay(fd, data):
                out = sys.stdout if fd == 1 else sys.stderr
                out.buffer.write(data)
                out.flush()

            started = time.monotonic()
            r = th.run(["/usr/bin/python3", os.path.abspath(__file__), vmm, media]
                       + (["--secure-boot"] if secure else []),
                       timeout=900, on_output=relay)
            log("inside the test host: %.1f s" % (time.monotonic() - started))
            sys.exit(r.returncode)
    finally:
        shutil.rmtree(media, ignore_errors=True)


if __name__ == "__main__":
    main()
