#!/usr/bin/python3
"""Writes the registry hives of the dualboot unit tests into OUTDIR."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dualboot_fixture as fx  # noqa: E402

out = sys.argv[1]
# NVMe boot-start, AHCI on demand: a Windows installed on an NVMe SSD.
fx.build_hive(os.path.join(out, 'SYSTEM'), fx.system_reg(stornvme=0, storahci=3))
# StartOverride\0 makes storahci boot-start, in control set 2.
fx.build_hive(os.path.join(out, 'SYSTEM-override'), fx.system_reg(stornvme=3, storahci=3, current=2, ahci_override=0))
# Neither driver at boot.
fx.build_hive(os.path.join(out, 'SYSTEM-none'), fx.system_reg(stornvme=3, storahci=4))
fx.build_hive(os.path.join(out, 'SOFTWARE'), fx.SOFTWARE_REG)
