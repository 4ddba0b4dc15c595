#!/usr/bin/python3
"""Boot the Debian cloud kernel with a busybox initramfs to a shell on the
serial console (UNIX socket backend); check 2 vCPUs, the memory size, the
clock; then ACPI power-off through the control socket: the guest shuts
down, the VMM reports SHUTDOWN (guest-shutdown) and exits 0."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmmtest import (Control, Shell, Stream, VMM, arm_power_button, check,  # noqa: E402
                     connect_unix, kernel_args, log, main)

MEM_MIB = 384


def inner(vmm_bin):
    vmm = None
    try:
        serial_path = os.path.join("/tmp", "oriel-boot-serial-%d.sock" % os.getpid())
        vmm = VMM(vmm_bin, ["--memory", "%dM" % MEM_MIB, "--cpus", "2",
                            "--serial", "unix:" + serial_path] + kernel_args())
        ctl = Control(vmm.control_path)
        check(ctl.greeting["oriel"]["name"] == "guest", "greeting %r" % ctl.greeting)
        check(ctl.greeting["oriel"]["pid"] == vmm.proc.pid, "greeting pid %r" % ctl.greeting)
        con = Stream(connect_unix(serial_path), "serial console")

        con.expect("ORIEL-GUEST-INIT", 600)
        log("guest init after %.2f s" % (time.monotonic() - vmm.started))
        sh = Shell(con)

        ncpu = sh.run("grep -c ^processor /proc/cpuinfo")
        check(ncpu == "2", "guest sees %r CPUs, expected 2" % ncpu)
        online = sh.run("cat /sys/devices/system/cpu/online")
        check(online == "0-1", "online CPUs %r" % online)

        memtotal = int(sh.run("sed -n 's/^MemTotal: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo"))
        log("MemTotal %d kB" % memtotal)
        check(MEM_MIB * 1024 * 0.80 < memtotal <= MEM_MIB * 1024,
              "MemTotal %d kB for %d MiB of RAM" % (memtotal, MEM_MIB))

        # The wall clock comes from the RTC and runs at the right rate.
        guest_now = int(sh.run("date +%s"))
        check(abs(guest_now - time.time()) < 10,
              "guest clock %d vs host %d" % (guest_now, time.time()))
        t0 = time.monotonic()
        out = sh.run("a=$(cat /proc/uptime); sleep 2; b=$(cat /proc/uptime); echo ${a%% *} ${b%% *}")
        host_elapsed = time.monotonic() - t0
        a, b = (float(x) for x in out.split())
        check(1.9 <= b - a <= host_elapsed + 0.5,
              "guest uptime advanced %.2f s over a 2 s sleep (host %.2f s)" % (b - a, host_elapsed))
        # The LAPIC's TSC-deadline mode is offered (the guest then skips
        # calibrating the LAPIC timer) and drives the timers of that sleep.
        flags = sh.run("grep -m1 ^flags /proc/cpuinfo")
        check("tsc_deadline_timer" in flags.split(), "no tsc_deadline_timer in %r" % flags)
        cs = sh.run("cat /sys/devices/system/clocksource/clocksource0/current_clocksource")
        check(cs == "kvm-clock", "clocksource is %r" % cs)
        complaints = sh.run("dmesg | grep -i -e 'clocksource.*unstable' -e 'timekeeping watchdog'"
                            " || true")
        check(complaints == "", "clock complaints in dmesg: %r" % complaints)
        # CPUID's XSAVE sizes must agree with the XCR0 the guest sets.
        xsave = sh.run("dmesg | grep -i 'XSAVE consistency' || true")
        check(xsave == "", "XSAVE warning in dmesg: %r" % xsave)
        rtc = sh.run("cat /sys/class/rtc/rtc0/name 2>/dev/null || echo none")
        check("rtc_cmos" in rtc, "RTC %r" % rtc)

        # vCPU threads as the control socket reports them.
        cpus = ctl.command("query-cpus")
        check([c["cpu-index"] for c in cpus] == [0, 1], "query-cpus %r" % cpus)
        for c in cpus:
            check(os.path.exists("/proc/%d/task/%d" % (vmm.proc.pid, c["thread-id"])),
                  "thread %d is not a thread of the VMM" % c["thread-id"])
        chardevs = ctl.command("query-chardev")
        check(chardevs == [{"label": "serial0", "backend": "unix", "filename": serial_path}],
              "query-chardev %r" % chardevs)

        # ACPI power button: SCI, the guest's button driver reports it and
        # the guest powers off through ACPI S5.
        arm_power_button(sh)
        ctl.command("system_powerdown")
        ev = ctl.wait_event("SHUTDOWN", 120)
        check(ev["data"] == {"guest": True, "reason": "guest-shutdown"}, "SHUTDOWN %r" % ev)
        rc = vmm.wait(30)
        check(rc == 0, "oriel-vmm exit status %d after guest power-off" % rc)
        check(not os.path.exists(vmm.control_path), "control socket left behind")
    finally:
        if vmm:
            vmm.kill()


if __name__ == "__main__":
    main(__file__, inner)
