#!/usr/bin/python3
"""Benchmark: wall time from `virsh start` to the guest's first line on its
serial console, through virtorield and oriel-vmm, in a test host.

`virsh start --console` starts the domain and attaches to its console at
once; the clock stops at the first line the guest's kernel prints
("Linux version ...", the cloud kernel without `quiet`).  The time covers the
RPC, the daemon spawning the VMM, the VMM setting up the machine, and the
guest's kernel decompressing itself up to its first printk.  Runs RUNS times
and prints the median.  Run on the build machine:

    tests/daemon/bench_start_console.py [RUNS]
"""

import os
import pty
import re
import select
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "testhost"))
from daemon_fixture import virtorield_path, vmm_path  # noqa: E402


def first_line_seconds(uri, name, timeout=120):
    t0 = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp("virsh", ["virsh", "-c", uri, "start", "--console", name])
    buf = b""
    try:
        while not re.search(rb"Linux version", buf):
            left = t0 + timeout - time.monotonic()
            if left <= 0:
                raise RuntimeError("no first line within %d s; got %r" % (timeout, buf[-500:]))
            r, _, _ = select.select([fd], [], [], left)
            if r:
                try:
                    buf += os.read(fd, 65536)
                except OSError:
                    raise RuntimeError("console ended; got %r" % buf[-500:])
        return time.monotonic() - t0
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)


def inside(runs):
    import testhost
    from daemon_fixture import Daemon, demo_xml, virsh
    import libvirt
    assets = testhost.read_manifest()
    with Daemon() as daemon:
        xml = demo_xml(name="bench", memory=256, kernel=assets["VMLINUZ_CLOUD"],
                       initrd=assets["INITRAMFS_BUSYBOX"], cmdline="console=ttyS0 panic=-1")
        xml = re.sub(r"<interface.*?</interface>", "", xml)
        conn = libvirt.open(daemon.uri)
        conn.defineXML(xml)
        conn.close()
        times = []
        for _ in range(runs):
            times.append(first_line_seconds(daemon.uri, "bench"))
            virsh(daemon.uri, "destroy", "bench")
        print("virsh start --console to the guest's first serial line, %d runs:" % runs)
        print("  median %.3f s, min %.3f s, max %.3f s"
              % (statistics.median(times), min(times), max(times)))
        print("  all: " + " ".join("%.3f" % t for t in times))


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    if os.environ.get("ORIEL_IN_TESTHOST") == "1":
        inside(runs)
        return 0
    import testhost
    testhost.ensure_assets()
    env = {"ORIEL_VMM": vmm_path(), "VIRTORIELD": virtorield_path(),
           "PYTHONDONTWRITEBYTECODE": "1"}
    with testhost.TestHost() as th:
        r = th.run(["/usr/bin/python3", os.path.abspath(__file__), str(runs)], env=env,
                   timeout=1200)
    sys.stdout.write(r.output)
    return r.returncode


if __name__ == "__main__":
    sys.exit(main())
