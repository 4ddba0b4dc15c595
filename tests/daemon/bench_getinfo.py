#!/usr/bin/python3
"""Benchmark: virDomainGetInfo round trips over virtorield's socket against
libvirt's own test driver (test:///default, in-process: no socket at all,
so the ratio is an upper bound on protocol overhead).  Prints ratios."""

import os
import statistics
import sys
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
    print("virDomainGetInfo, %d sequential calls, median latency:" % CALLS)
    print("  virtorield (UNIX socket, XDR)   %8.1f us" % (o_lat * 1e6))
    print("  test:///default (in-process)    %8.1f us" % (t_lat * 1e6))
    print("  ratio virtorield/test           %8.2f" % (o_lat / t_lat))
    print("throughput, 4 client threads, 3 s:")
    print("  virtorield                      %8.0f calls/s" % o_tp)
    print("  test:///default                 %8.0f calls/s" % t_tp)
    print("  ratio virtorield/test           %8.2f" % (o_tp / t_tp))


if __name__ == "__main__":
    main()
