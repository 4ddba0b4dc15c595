#!/usr/bin/python3
"""Benchmark: virDomainGetInfo round trips over virtorield's socket against
libvirt's own test driver, test:///default, served over a UNIX socket by a
private libvirtd (when libvirt-daemon is installed: `apt-get install
--no-install-recommends libvirt-daemon`) and in-process (no socket at all).
Prints ratios."""

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_fixture import Daemon, demo_xml  # noqa: E402

import libvirt  # noqa: E402

CALLS = 5000


def latency(dom, n=CALLS):
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        dom.info()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples), n / sum(samples)


def throughput(uri, name, threads=4, seconds=3.0):
    count = [0] * threads
    end = time.monotonic() + seconds

    def worker(i):
        conn = libvirt.open(uri)
        d = conn.lookupByName(name)
        while time.monotonic() < end:
            d.info()
            count[i] += 1
        conn.close()
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(count) / seconds


class PrivateLibvirtd:
    """libvirtd on a socket of its own, with no driver modules loaded (the
    test driver is built into libvirt), so it needs no system setup."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="oriel-bench-libvirtd-")
        os.mkdir(os.path.join(self.dir, "no-modules"))
        conf = os.path.join(self.dir, "libvirtd.conf")
        with open(conf, "w") as f:
            f.write('unix_sock_dir = "%s"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\n'
                    % self.dir)
        env = dict(os.environ, LIBVIRT_DRIVER_DIR=os.path.join(self.dir, "no-modules"))
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen(["/usr/sbin/libvirtd", "--config", conf, "--pid-file",
                                      os.path.join(self.dir, "pid")],
                                     env=env, stdout=self.log, stderr=self.log)
        self.uri = "test+unix:///default?socket=%s/libvirt-sock" % self.dir
        deadline = time.monotonic() + 30
        libvirt.registerErrorHandler(lambda ctx, err: None, None)  # quiet while it starts
        while True:
            try:
                libvirt.open(self.uri).close()
                return
            except libvirt.libvirtError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.log.seek(0)
                    raise RuntimeError("libvirtd did not come up:\n" + self.log.read())
                time.sleep(0.1)

    def close(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def main():
    with Daemon(vmm="/bin/false") as daemon:
        conn = libvirt.open(daemon.uri)
        dom = conn.defineXML(demo_xml(name="bench"))
        o_lat, o_rate = latency(dom)
        o_tp = throughput(daemon.uri, "bench")
        conn.close()
    tconn = libvirt.open("test:///default")
    tdom = tconn.lookupByName("test")
    t_lat, t_rate = latency(tdom)
    t_tp = throughput("test:///default", "test")
    tconn.close()
    d_lat = d_tp = None
    if os.access("/usr/sbin/libvirtd", os.X_OK):
        lvd = PrivateLibvirtd()
        try:
            dconn = libvirt.open(lvd.uri)
            d_lat, _ = latency(dconn.lookupByName("test"))
            d_tp = throughput(lvd.uri, "test")
            dconn.close()
        finally:
            lvd.close()
    else:
        print("(no /usr/sbin/libvirtd: apt-get install --no-install-recommends libvirt-daemon "
              "to compare with libvirtd over its socket)")
    print("virDomainGetInfo, %d sequential calls, median latency:" % CALLS)
    print("  virtorield (UNIX socket, XDR)            %8.1f us" % (o_lat * 1e6))
    if d_lat is not None:
        print("  libvirtd test:///default (UNIX socket)   %8.1f us" % (d_lat * 1e6))
    print("  test:///default (in-process)             %8.1f us" % (t_lat * 1e6))
    if d_lat is not None:
        print("  ratio virtorield/libvirtd                %8.2f" % (o_lat / d_lat))
    print("  ratio virtorield/in-process              %8.2f" % (o_lat / t_lat))
    print("throughput, 4 client threads, 3 s:")
    print("  virtorield                               %8.0f calls/s" % o_tp)
    if d_tp is not None:
        print("  libvirtd test:///default                 %8.0f calls/s" % d_tp)
    print("  test:///default (in-process)             %8.0f calls/s" % t_tp)
    if d_tp is not None:
        print("  ratio virtorield/libvirtd                %8.2f" % (o_tp / d_tp))
    print("  ratio virtorield/in-process              %8.2f" % (o_tp / t_tp))


if __name__ == "__main__":
    main()
