"""Boot-time and memory-overhead measurement of a VMM inside a test host.

Host side:

    with TestHost() as th:
        sample = measure_boot(th, argv, ram_mib=256)
        sample.seconds, sample.private_kib, sample.anon_kib

`argv` is any VMM command line that boots a guest whose console (the VMM's
stdout or stderr) prints the marker line ORIEL-GUEST-INIT when userspace
starts and ORIEL-GUEST-IDLE when it has finished starting (the busybox
initramfs of tests/assets does, with oriel.shell=0 on the kernel command
line).  The timing happens inside the test host, so the agent channel's
latency is not part of it: from just before the VMM process is created to the
moment the marker line is read from its output.  The guest also prints the
kernel's uptime at that point (ORIEL-GUEST-UPTIME): `kernel_seconds`, the
part of the boot that is the guest kernel's own start-up, from its clock's
start to /init; the rest is the VMM, firmware and decompressor.

Memory beyond guest RAM: once the guest is idle, the VMM's /proc/PID/smaps is
summed over every mapping except guest RAM (mappings at least as large as
the guest's RAM).  `private_kib` counts Private_Clean + Private_Dirty,
`anon_kib` Anonymous, `rss_kib` Rss.  `ram_private_kib` is the private memory
of the guest RAM mappings themselves (the guest's touched pages), and
`mappings` lists the other mappings with private memory, largest first
(address range, permissions, name, size and private KiB), to see where the
overhead goes.

`host_cpu_seconds` is the CPU time the test host's QEMU used for the whole
measurement (start, boot, idle settle, kill): the test host is emulated, so
on a busy machine its wall times stretch while this stays comparable.

Run as a script (inside the test host) it performs one measurement and
prints it as JSON: bootbench.py RAM_MIB MARKER IDLE_MARKER TIMEOUT -- ARGV...
"""

import json
import os
import re
import select
import signal
import statistics
import subprocess
import sys
import time

MARKER = "ORIEL-GUEST-INIT"
IDLE_MARKER = "ORIEL-GUEST-IDLE"
# After the guest says it is idle, give the VMM's own threads a moment to
# finish their start-up work before reading its memory.
SETTLE_SECONDS = 1.0


class BootSample:
    def __init__(self, seconds, private_kib, anon_kib, rss_kib, host_cpu_seconds=None,
                 ram_private_kib=None, mappings=None, kernel_seconds=None):
        self.seconds = seconds
        self.kernel_seconds = kernel_seconds
        self.ram_private_kib = ram_private_kib
        self.mappings = mappings or []
        self.host_cpu_seconds = host_cpu_seconds
        self.private_kib = private_kib
        self.anon_kib = anon_kib
        self.rss_kib = rss_kib

    def __repr__(self):
        return ("BootSample(seconds=%.3f, private_kib=%d, anon_kib=%d, rss_kib=%d)"
                % (self.seconds, self.private_kib, self.anon_kib, self.rss_kib))


def measure_boot(th, argv, ram_mib, marker=MARKER, idle_marker=IDLE_MARKER, timeout=180):
    """Boot once inside test host `th`; return a BootSample."""
    me = os.path.abspath(__file__)
    cmd = ["/usr/bin/python3", me, str(ram_mib), marker, idle_marker or "-",
           str(timeout), "--"] + list(argv)
    cpu_before = th.cpu_seconds()
    r = th.run(cmd, timeout=timeout + 60)
    cpu = th.cpu_seconds() - cpu_before
    if r.returncode != 0:
        raise RuntimeError("boot measurement of %s failed (%s):\n%s"
                           % (" ".join(argv), r.returncode, r.output))
    d = json.loads(r.stdout.decode().strip().splitlines()[-1])
    return BootSample(d["seconds"], d["private_kib"], d["anon_kib"], d["rss_kib"], cpu,
                      d.get("ram_private_kib"), d.get("mappings"), d.get("kernel_seconds"))


def measure_series(th, argv, ram_mib, runs=5, **kw):
    """`runs` boots; return (median seconds, median private KiB, samples)."""
    samples = [measure_boot(th, argv, ram_mib, **kw) for _ in range(runs)]
    return (statistics.median(s.seconds for s in samples),
            statistics.median(s.private_kib for s in samples), samples)


def format_table(rows):
    """rows: (name, samples) -> a plain text table of medians."""
    head = ("configuration", "runs", "boot median s", "min s", "max s", "kernel s",
            "private MiB", "anon MiB", "rss MiB", "test host CPU s")
    lines = [head]
    for name, samples in rows:
        secs = [s.seconds for s in samples]
        kern = [s.kernel_seconds for s in samples if s.kernel_seconds is not None]
        lines.append((name, str(len(samples)), "%.3f" % statistics.median(secs),
                      "%.3f" % min(secs), "%.3f" % max(secs),
                      "%.3f" % statistics.median(kern) if kern else "-",
                      "%.1f" % (statistics.median(s.private_kib for s in samples) / 1024),
                      "%.1f" % (statistics.median(s.anon_kib for s in samples) / 1024),
                      "%.1f" % (statistics.median(s.rss_kib for s in samples) / 1024),
                      "%.2f" % statistics.median(s.host_cpu_seconds for s in samples)))
    widths = [max(len(l[i]) for l in lines) for i in range(len(head))]
    out = []
    for n, l in enumerate(lines):
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(l, widths))))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


# -- inside the test host -----------------------------------------------------

def memory_beyond_ram(pid, ram_kib):
    totals = {"private": 0, "anon": 0, "rss": 0, "ram_private": 0, "mappings": []}
    header = None
    fields = {}
    with open("/proc/%d/smaps" % pid) as f:
        lines = f.read().splitlines()

    def flush():
        size = fields.get("Size", 0)
        if not size:
            return
        private = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
        if size >= ram_kib:
            totals["ram_private"] += private
            return
        totals["private"] += private
        totals["anon"] += fields.get("Anonymous", 0)
        totals["rss"] += fields.get("Rss", 0)
        if private:
            parts = header.split(None, 5)
            totals["mappings"].append({
                "range": parts[0], "perms": parts[1],
                "name": parts[5].strip() if len(parts) > 5 else "",
                "size_kib": size, "private_kib": private,
                "anon_kib": fields.get("Anonymous", 0)})

    for line in lines:
        key, _, rest = line.partition(":")
        if " " not in key and rest.strip().endswith("kB"):
            fields[key] = int(rest.split()[0])
        elif "-" in key.split(" ")[0] and " " in line:
            # A mapping's header line: "start-end perms offset dev inode [name]".
            flush()
            header = line
            fields = {}
    flush()
    totals["mappings"].sort(key=lambda m: -m["private_kib"])
    return totals


def run_one(ram_mib, marker, idle_marker, timeout, argv):
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    fd = proc.stdout.fileno()
    buf = b""
    boot = None
    deadline = start + timeout
    try:
        while True:
            if boot is None and marker.encode() in buf:
                boot = time.monotonic() - start
            if boot is not None and (idle_marker is None or idle_marker.encode() in buf):
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError("no %s within %s s" % (idle_marker if boot else marker, timeout))
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise RuntimeError("the VMM exited (%s) before the marker" % proc.wait())
                buf += chunk
        time.sleep(SETTLE_SECONDS)
        mem = memory_beyond_ram(proc.pid, ram_mib * 1024)
    except Exception:
        sys.stderr.write(buf.decode(errors="replace")[-4000:])
        raise
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    up = re.search(rb"ORIEL-GUEST-UPTIME=([0-9.]+)", buf)
    return {"seconds": boot, "kernel_seconds": float(up.group(1)) if up else None,
            "private_kib": mem["private"], "anon_kib": mem["anon"],
            "rss_kib": mem["rss"], "ram_private_kib": mem["ram_private"],
            "mappings": mem["mappings"]}


def main(args):
    sep = args.index("--")
    ram_mib, marker, idle, timeout = args[:sep]
    result = run_one(int(ram_mib), marker, None if idle == "-" else idle, float(timeout),
                     args[sep + 1:])
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
