"""EFI boot media for the UEFI tests, built at test time outside the test
host: GPT disk images with one EFI system partition (mkfs.vfat, mtools,
sgdisk; no loop device, no mount), and Debian's signed Secure Boot chain
(shim-signed, grub-efi-amd64-signed), fetched with `apt-get download` and
cached beside the other guest assets, keyed by the package versions."""

import os
import shutil
import subprocess
import tempfile

MIB = 1024 * 1024
CACHE = os.environ.get("ORIEL_ASSET_CACHE", "/var/cache/oriel-tests")
SIGNED_PACKAGES = {
    "shim-signed": "usr/lib/shim/shimx64.efi.signed",
    "grub-efi-amd64-signed": "usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed",
}
TOOLS = ["mkfs.vfat", "mmd", "mcopy", "sgdisk", "apt-get", "dpkg-deb", "grub-mkstandalone"]


class MediaError(Exception):
    pass


def _run(*cmd, **kw):
    env = dict(os.environ, PATH=os.environ.get("PATH", "") + ":/usr/sbin:/sbin",
               MTOOLS_SKIP_CHECK="1", MTOOLSRC="/dev/null")
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, **kw)
    if r.returncode != 0:
        raise MediaError("%s failed (%d): %s" % (" ".join(cmd), r.returncode,
                                                  r.stdout.decode(errors="replace")[-2000:]))
    return r.stdout.decode(errors="replace")


def missing_tools():
    return [t for t in TOOLS if shutil.which(t) is None
            and not os.path.exists("/usr/sbin/" + t) and not os.path.exists("/sbin/" + t)]


def _candidate(pkg):
    out = _run("apt-cache", "policy", pkg)
    for line in out.splitlines():
        if line.strip().startswith("Candidate:"):
            ver = line.split(":", 1)[1].strip()
            if ver and ver != "(none)":
                return ver
    raise MediaError("apt-cache knows no version of %s (run apt-get update)" % pkg)


def signed_boot_files():
    """{'shim': path, 'grub': path}: shimx64.efi signed by Microsoft's UEFI
    CA (which OVMF_VARS_4M.ms.fd enrolls) and Debian's grubx64.efi signed
    by Debian's key (which shim trusts)."""
    out = {}
    for pkg, member in SIGNED_PACKAGES.items():
        ver = _candidate(pkg)
        tree = os.path.join(CACHE, "efi-signed", "%s_%s" % (pkg, ver.replace(":", "%3a")))
        if not os.path.exists(os.path.join(tree, ".complete")):
            os.makedirs(os.path.dirname(tree), exist_ok=True)
            tmp = tempfile.mkdtemp(prefix="tmp.", dir=os.path.dirname(tree))
            try:
                _run("apt-get", "-qq", "download", "%s=%s" % (pkg, ver), cwd=tmp)
                debs = [f for f in os.listdir(tmp) if f.endswith(".deb")]
                if len(debs) != 1:
                    raise MediaError("apt-get download %s gave %r" % (pkg, debs))
                _run("dpkg-deb", "-x", os.path.join(tmp, debs[0]), os.path.join(tmp, "tree"))
                open(os.path.join(tmp, "tree", ".complete"), "w").close()
                shutil.rmtree(tree, ignore_errors=True)
                os.rename(os.path.join(tmp, "tree"), tree)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        path = os.path.join(tree, member)
        if not os.path.exists(path):
            raise MediaError("%s %s has no %s" % (pkg, ver, member))
        out["shim" if pkg.startswith("shim") else "grub"] = path
    return out


def unsigned_grub(out, config):
    """A GRUB EFI image of our own, signed by nobody, with config embedded."""
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as f:
        f.write(config)
    try:
        _run("grub-mkstandalone", "-O", "x86_64-efi", "-o", out,
             "--modules=part_gpt fat normal echo", "--locales=", "--themes=", "--fonts=",
             "boot/grub/grub.cfg=" + f.name)
    finally:
        os.unlink(f.name)
    return out


def esp_disk(out, files, size_mib=64):
    """A GPT disk image of size_mib with one EFI system partition from
    1 MiB to the end (less the backup GPT), a FAT32 filesystem holding
    files ({'EFI/BOOT/BOOTX64.EFI': source path or bytes})."""
    part_start = MIB
    part_size = size_mib * MIB - part_start - MIB
    fat = out + ".fat"
    if os.path.exists(fat):
        os.unlink(fat)
    _run("mkfs.vfat", "-F", "32", "-n", "ORIELESP", "-C", fat, str(part_size // 1024))
    dirs = set()
    for dest in sorted(files):
        parts = dest.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in dirs:
                _run("mmd", "-i", fat, "::/" + d)
                dirs.add(d)
        src = files[dest]
        if isinstance(src, (bytes, str)) and not (isinstance(src, str) and os.path.exists(src)):
            with tempfile.NamedTemporaryFile(delete=False) as t:
                t.write(src.encode() if isinstance(src, str) else src)
            src_path = t.name
        else:
            src_path = src
        try:
            _run("mcopy", "-i", fat, src_path, "::/" + dest)
        finally:
            if src_path is not src:
                os.unlink(src_path)
    with open(out, "wb") as f:
        f.truncate(size_mib * MIB)
    _run("sgdisk", "-n", "1:%d:%d" % (part_start // 512, (part_start + part_size) // 512 - 1),
         "-t", "1:ef00", "-c", "1:EFI system partition", out)
    with open(fat, "rb") as src, open(out, "r+b") as dst:
        dst.seek(part_start)
        shutil.copyfileobj(src, dst, 4 * MIB)
    os.unlink(fat)
    return out
