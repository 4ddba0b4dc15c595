#!/usr/bin/python3
"""Builds dualboot_fixture's GPT disk here (it needs FUSE for NTFS) and runs
dualboot_boot_inside.py in a test host: a Linux guest on the synthetic
disk of a dual-boot domain started by virtorield with the real oriel-vmm.
Needs root; skipped until oriel-vmm takes format=synthetic."""

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "testhost"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "dualboot", "tests"))
from daemon_fixture import build_root, run_script_in_testhost, virtorield_path, vmm_path  # noqa: E402
import dualboot_fixture as fx  # noqa: E402

SKIP = 77


def main():
    vmm = vmm_path()
    if not os.access(vmm, os.X_OK):
        print("SKIP: no oriel-vmm at %s (build with -Dhypervisor=true)" % vmm)
        return SKIP
    r = subprocess.run([vmm, "--help"], capture_output=True, text=True, timeout=30)
    if "synthetic" not in r.stdout + r.stderr:
        print("SKIP: oriel-vmm --help does not mention format=synthetic yet")
        return SKIP
    if os.geteuid() != 0 or fx.missing_tools():
        print("SKIP: needs root and %s" % ", ".join(fx.missing_tools() or ["nothing else"]))
        return SKIP
    import testhost
    testhost.ensure_assets()
    work = tempfile.mkdtemp(prefix="dualboot-boot-")
    try:
        image = fx.build_disk(work, table="gpt", stornvme=0, storahci=0)
        env = {"ORIEL_VMM": vmm, "VIRTORIELD": virtorield_path(), "DUALBOOT_IMAGE": image,
               "ORIEL_DUALBOOT": os.environ.get("ORIEL_DUALBOOT",
                                                os.path.join(build_root(), "dualboot", "oriel-dualboot"))}
        return run_script_in_testhost("dualboot_boot_inside.py", sys.argv[1:], env, timeout=900)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
