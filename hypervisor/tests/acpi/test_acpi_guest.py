#!/usr/bin/python3
"""A Debian 6.1 kernel in oriel-vmm (inside the test host) sees the ACPI
platform: tables found and accepted without errors, the PCI root bridge
windows, the ISA devices, processors, the PM timer and a level-triggered
SCI; `system_powerdown` on the control socket reaches it as a fixed-feature
power button event; and its S5 power-off ends the VMM with status 0.

Run outside the test host, this file boots one and runs itself inside it
with --inside.  ORIEL_VMM names the oriel-vmm binary to test."""

import glob
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "testhost"))

PROBE = r"""#!/bin/sh
check() { if eval "$2" >/dev/null 2>&1; then echo "ACPI-OK $1"; else echo "ACPI-FAIL $1"; fi; }
check rsdp "dmesg | grep -q 'ACPI: RSDP 0x00000000000E0000'"
check tables "dmesg | grep -q 'ACPI: 1 ACPI AML tables successfully acquired and loaded'"
check s5 "dmesg | grep -q 'ACPI: PM: (supports S0 S5)'"
check no-errors "! dmesg | grep -qE 'ACPI (BIOS )?(Error|Warning|Exception)|ACPI.*Firmware Bug'"
check root-bridge "[ -e /sys/bus/acpi/devices/PNP0A03:00 ]"
check pci-window "dmesg | grep -q 'root bus resource \[mem 0xc0000000-0xfebfffff window\]'"
check com1 "dmesg | grep -q 'ttyS0 at I/O 0x3f8 (irq = 4'"
check i8042 "dmesg | grep -q 'i8042: PNP: PS/2 Controller \[PNP0303:KBD,PNP0f13:MOU\]'"
check rtc "[ -e /sys/bus/acpi/devices/PNP0B00:00 ]"
check power-button "[ -e /sys/bus/acpi/devices/LNXPWRBN:00 ]"
check processors "[ \$(ls -d /sys/bus/acpi/devices/ACPI0007:* | wc -l) -eq 2 ]"
check pm-timer "grep -q acpi_pm /sys/bus/clocksource/devices/clocksource0/available_clocksource"
check sci-level "grep -q '9-fasteoi *acpi' /proc/interrupts"
echo ACPI-PROBE-DONE
"""
PROBE_CHECKS = 13

# The power-button driver is a module in Debian's kernel; once it is loaded
# ACPICA handles the fixed event and counts it.
POWER_BUTTON = r"""#!/bin/sh
insmod /button.ko
echo PWRBTN-READY
n=0
while [ $n -lt 1200 ]; do
	set -- $(cat /sys/firmware/acpi/interrupts/ff_pwr_btn)
	if [ "$1" -gt 0 ]; then
		echo "PWRBTN-SEEN $1"
		exit 0
	fi
	usleep 100000
	n=$((n+1))
done
echo PWRBTN-TIMEOUT
exit 1
"""


def inside(mode, vmm, kernel, initrd):
    """In the test host: run the VMM, print its serial output, events and
    exit status."""
    tmp = tempfile.mkdtemp(prefix="oriel-acpi-")
    ctl = os.path.join(tmp, "ctl")
    run = "/usr/bin/acpi-probe" if mode == "probe" else "/usr/bin/power-button"
    p = subprocess.Popen([vmm, "--memory", "256M", "--cpus", "2" if mode == "probe" else "1",
                          "--kernel", kernel, "--initrd", initrd,
                          "--cmdline", "console=ttyS0 panic=-1 quiet oriel.run=" + run,
                          "--serial", "stdio", "--control", ctl, "--no-reboot"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = bytearray()

    def drain():
        # Always read, so the serial output can never fill the pipe.
        for data in iter(lambda: os.read(p.stdout.fileno(), 4096), b""):
            out.extend(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()

    def until(marker, timeout):
        end = time.monotonic() + timeout
        while marker not in out:
            if time.monotonic() > end or not reader.is_alive():
                return marker in out
            time.sleep(0.1)
        return True

    # Connect early: events queue up on the socket until the VMM exits.
    s = socket.socket(socket.AF_UNIX)
    for _ in range(300):
        try:
            s.connect(ctl)
            break
        except OSError:
            time.sleep(0.1)
    f = s.makefile("rwb")
    f.readline()  # greeting
    if mode == "powerdown" and until(b"PWRBTN-READY", 600):
        f.write(b'{"execute": "system_powerdown", "id": 1}\n')
        f.flush()
    try:
        rc = p.wait(600)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = "timeout"
    reader.join(60)
    sys.stdout.write(out.decode(errors="replace"))
    s.settimeout(30)
    try:
        for line in f:
            print("CONTROL " + json.dumps(json.loads(line)))
    except (OSError, ValueError):
        pass
    print("VMM-EXIT=%s" % rc)


class AcpiGuest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import testhost
        cls.assets = testhost.ensure_assets()
        cls.vmm = os.environ.get("ORIEL_VMM") or os.path.join(SRC, "build", "hypervisor", "oriel-vmm")
        if not os.access(cls.vmm, os.X_OK):
            raise unittest.SkipTest("oriel-vmm not built (set ORIEL_VMM)")
        cls.tmp = tempfile.TemporaryDirectory(prefix="oriel-acpi-guest-")
        extra = os.path.join(cls.tmp.name, "extra")
        os.makedirs(os.path.join(extra, "usr", "bin"))
        for name, text in (("acpi-probe", PROBE), ("power-button", POWER_BUTTON)):
            path = os.path.join(extra, "usr", "bin", name)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o755)
        cache = os.environ.get("ORIEL_ASSET_CACHE", "/var/cache/oriel-tests")
        kver = cls.assets["KVER_GENERIC"]
        button = glob.glob(os.path.join(cache, "kernels", "*", "lib", "modules", kver,
                                        "kernel", "drivers", "acpi", "button.ko*"))
        if button:
            subprocess.run(["cp", button[0], os.path.join(extra, "button.ko")], check=True)
        cls.has_button = bool(button) and button[0].endswith(".ko")
        cls.initrd = os.path.join(cls.tmp.name, "initrd.img")
        subprocess.run([os.path.join(SRC, "tests", "assets", "initramfs-extend"), cls.initrd, extra],
                       check=True)
        cls.th = testhost.TestHost()
        cls.th.start()

    @classmethod
    def tearDownClass(cls):
        cls.th.close()
        cls.tmp.cleanup()

    def run_inside(self, mode):
        p = self.th.spawn(["/usr/bin/python3", os.path.abspath(__file__), "--inside", mode,
                           self.vmm, self.assets["VMLINUZ_GENERIC"], self.initrd])
        self.assertEqual(p.wait(1000), 0, p.output)
        return p.output

    def test_linux_sees_the_acpi_platform(self):
        out = self.run_inside("probe")
        self.assertIn("ACPI-PROBE-DONE", out)
        self.assertNotIn("ACPI-FAIL", out, out)
        self.assertEqual(out.count("ACPI-OK "), PROBE_CHECKS, out)
        # S5 from the guest ends the VMM successfully.
        self.assertIn("reboot: Power down", out)
        self.assertIn('"reason": "guest-shutdown"', out, out)
        self.assertIn("VMM-EXIT=0", out)

    def test_system_powerdown_presses_the_power_button(self):
        if not self.has_button:
            self.skipTest("button.ko not found in the guest kernel package")
        out = self.run_inside("powerdown")
        self.assertIn("PWRBTN-SEEN 1", out, out)
        self.assertIn('CONTROL {"return": {}, "id": 1}', out)
        self.assertIn('"reason": "guest-shutdown"', out)
        self.assertIn("VMM-EXIT=0", out)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--inside":
        inside(*sys.argv[2:])
    else:
        unittest.main(verbosity=2)
