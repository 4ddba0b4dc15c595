#!/usr/bin/python3
"""Runs lifecycle_inside.py inside a test host, where guests really boot:
full lifecycle with console and events, daemon restart re-adopting a VM,
a SIGKILLed VMM showing as crashed, 20 concurrent clients, virt-install."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "testhost"))
from daemon_fixture import run_script_in_testhost, virtorield_path, vmm_path  # noqa: E402

SKIP = 77


def main():
    vmm = vmm_path()
    if not os.access(vmm, os.X_OK):
        print("SKIP: no oriel-vmm at %s (build with -Dhypervisor=true)" % vmm)
        return SKIP
    import testhost
    testhost.ensure_assets()
    return run_script_in_testhost("lifecycle_inside.py", sys.argv[1:],
                                  {"ORIEL_VMM": vmm, "VIRTORIELD": virtorield_path()}, timeout=3300)


if __name__ == "__main__":
    sys.exit(main())
