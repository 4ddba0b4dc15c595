#!/usr/bin/python3
"""Runs uefi_boot_inside.py in a UEFI test host (the patched QEMU that
survives OVMF in nested guests): a Windows 11-shaped domain defined
through virtorield boots OVMF from the per-domain NVRAM to a GRUB EFI
CD-ROM, with the TPM, xHCI and e1000e it brings."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "testhost"))
from daemon_fixture import virtorield_path, vmm_path  # noqa: E402

SKIP = 77


def vmm_has_uefi(vmm):
    r = subprocess.run([vmm, "--help"], capture_output=True, text=True, timeout=30)
    return "--uefi" in r.stdout + r.stderr


def main():
    vmm = vmm_path()
    if not os.access(vmm, os.X_OK):
        print("SKIP: no oriel-vmm at %s (build with -Dhypervisor=true)" % vmm)
        return SKIP
    if not vmm_has_uefi(vmm):
        print("SKIP: oriel-vmm --help lists no --uefi yet (Q35/UEFI platform not merged)")
        return SKIP
    if not os.path.isdir("/usr/lib/grub/x86_64-efi"):
        print("SKIP: grub-efi-amd64-bin is not installed (tools/install-deps)")
        return SKIP
    import testhost
    testhost.ensure_assets()
    argv = ["/usr/bin/python3", os.path.join(HERE, "uefi_boot_inside.py")] + sys.argv[1:]
    env = {"ORIEL_VMM": vmm, "VIRTORIELD": virtorield_path(), "PYTHONDONTWRITEBYTECODE": "1"}
    with testhost.TestHost(uefi=True) as th:
        r = th.run(argv, env=env, timeout=1500)
    sys.stdout.write(r.output)
    return r.returncode


if __name__ == "__main__":
    sys.exit(main())
