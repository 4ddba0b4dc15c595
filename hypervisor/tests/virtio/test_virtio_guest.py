#!/usr/bin/python3
"""virtio devices with a real Linux guest, in the test host.

First boot: virtio-blk with four disks (data,
abuse victim, read-only with a serial number, a qcow2 overlay on a raw
base).  The guest writes and reads
raw sectors and discards on the data disk, finds the serial and the
read-only flag, fails to write the read-only disk; then the static program
tests/guest-programs/virtio-abuse takes over the victim disk and sends
broken rings and chains.  The VMM must stay up, the guest must still run
commands, the data written must be in the image on the host, and the
read-only image must be unchanged.  Through the qcow2 overlay the guest
reads the base's bytes and writes over them; afterwards `qemu-img check`
finds the overlay clean, `qemu-img convert` reads the guest's data from it,
and the base is unchanged.

Second boot: virtio-net on user-mode NAT: DHCP gives 10.0.2.15, the guest
reaches a TCP server on the test host's loopback through 10.0.2.2, a name
looked up at 10.0.2.3 is answered by the test host's resolver (a small DNS
server on its loopback), a host port forwarded to the guest reaches a server
in the guest; virtio-rng feeds the guest's hwrng.

Third boot: virtio-net on a tap device of the test host (192.168.77.1/24):
the guest reaches a TCP server on the host's side of the tap and the host
reaches a server in the guest at 192.168.77.2."""

import hashlib
import os
import socket
import struct
import threading
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest"))
from vmmtest import (Shell, Stream, VMM, assets, check, connect_unix, kernel_args,  # noqa: E402
                     log, main, SOURCE_ROOT)

PROGRAM = os.path.join(SOURCE_ROOT, "tests", "guest-programs", "virtio-abuse.c")
EXTEND = os.path.join(SOURCE_ROOT, "tests", "assets", "initramfs-extend")


def build_initrd(tmp):
    root = os.path.join(tmp, "overlay")
    os.makedirs(os.path.join(root, "usr", "bin"))
    exe = os.path.join(root, "usr", "bin", "virtio-abuse")
    subprocess.run(["gcc", "-static", "-O2", "-Wall", "-o", exe, PROGRAM], check=True)
    out = os.path.join(tmp, "initrd.img")
    # The assets were built before the test host started; use them as they are.
    env = dict(os.environ, ORIEL_INITRAMFS_BASE=assets()["INITRAMFS_BUSYBOX"])
    subprocess.run([EXTEND, out, root], check=True, env=env)
    return out


def make_image(path, size, fill=b"\0"):
    with open(path, "wb") as f:
        f.write(fill * size)


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def loopback_server(address="127.0.0.1", prefix=b"pong:"):
    """A one-line echo server on the host (its loopback unless told):
    answers PREFIX + LINE."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((address, 0))
    srv.listen(4)

    def serve():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            with c:
                c.settimeout(30)
                data = b""
                while not data.endswith(b"\n"):
                    chunk = c.recv(100)
                    if not chunk:
                        break
                    data += chunk
                c.sendall(prefix + data)

    threading.Thread(target=serve, daemon=True).start()
    return srv


DNS_NAME = "oriel-dns-check.test"
DNS_ADDRESS = "192.0.2.77"


def loopback_resolver():
    """Become the test host's resolver: a DNS server on 127.0.0.1:53 that
    answers A queries for DNS_NAME (NXDOMAIN otherwise), named in
    /etc/resolv.conf.  Only inside the test host, whose root is a private
    overlay."""
    check(os.environ.get("ORIEL_IN_TESTHOST") == "1", "the resolver is only replaced in the test host")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 53))
    with open("/etc/resolv.conf", "w") as f:
        f.write("nameserver 127.0.0.1\n")
    queries = []

    def serve():
        while True:
            try:
                data, peer = sock.recvfrom(512)
            except OSError:
                return
            if len(data) < 12:
                continue
            # Question: labels up to the zero byte, then QTYPE and QCLASS.
            end = data.index(b"\0", 12) + 5
            labels, i = [], 12
            while data[i]:
                labels.append(data[i + 1:i + 1 + data[i]].decode(errors="replace"))
                i += 1 + data[i]
            name = ".".join(labels)
            qtype = struct.unpack(">H", data[end - 4:end - 2])[0]
            queries.append(name)
            found = name == DNS_NAME
            flags = 0x8180 if found else 0x8183  # response, RD+RA; rcode 0 or NXDOMAIN
            answer = b""
            if found and qtype == 1:
                answer = (b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4)
                          + socket.inet_aton(DNS_ADDRESS))
            header = data[:2] + struct.pack(">HHHHH", flags, 1, 1 if answer else 0, 0, 0)
            sock.sendto(header + data[12:end] + answer, peer)

    threading.Thread(target=serve, daemon=True).start()
    return sock, queries


DHCP_SCRIPT = ("#!/bin/sh\n"
               "[ \"$1\" = bound ] || exit 0\n"
               "ip addr add $ip/$mask dev $interface\n"
               "ip route add default via $router\n")


def guest_with_eth0(vmm_bin, initrd, tmp, net, name):
    """Boot a guest with one NIC (`--net NET`) and wait for its eth0;
    returns the VMM and a shell on its serial console."""
    serial_path = os.path.join(tmp, "serial-%s.sock" % name)
    vmm = VMM(vmm_bin, ["--memory", "256M", "--cpus", "1", "--serial", "unix:" + serial_path,
                        "--net", net] + kernel_args(initrd=initrd), name=name)
    try:
        con = Stream(connect_unix(serial_path), "serial console")
        con.expect("ORIEL-GUEST-INIT", 300)
        sh = Shell(con)
        n = 0
        while sh.run("test -e /sys/class/net/eth0 && echo yes") != "yes" and n < 100:
            time.sleep(0.1)
            n += 1
    except BaseException:
        vmm.kill()
        raise
    return vmm, sh


def network(vmm_bin, initrd, tmp):
    # Before the VMM starts: user-mode NAT forwards 10.0.2.3 to the
    # resolver named in /etc/resolv.conf.
    resolver, queries = loopback_resolver()
    srv = loopback_server()
    host_port = srv.getsockname()[1]
    fwd_port = free_port()
    vmm, sh = guest_with_eth0(vmm_bin, initrd, tmp, "user,hostfwd=tcp::%d-:2222" % fwd_port,
                              "net")
    try:
        mac = sh.run("cat /sys/class/net/eth0/address")
        check(mac.startswith("52:54:00:"), "guest MAC %r" % mac)
        sh.run("printf '%s' > /tmp/dhcp.sh; chmod +x /tmp/dhcp.sh; ip link set eth0 up"
               % DHCP_SCRIPT.replace("\n", "\\n"))
        out = sh.run("udhcpc -i eth0 -s /tmp/dhcp.sh -q -n -t 10 -T 2 2>&1; "
                     "ip -4 addr show dev eth0", timeout=120)
        check("10.0.2.15" in out, "no DHCP address: %r" % out)

        # Guest to a server on the host's loopback, through the gateway.
        out = sh.run("echo ping-%d | nc -w 10 10.0.2.2 %d" % (host_port, host_port), timeout=60)
        check(out == "pong:ping-%d" % host_port, "loopback round trip: %r" % out)

        # DNS through the NAT's forwarder at 10.0.2.3 to the host's resolver.
        out = sh.run("nslookup %s 10.0.2.3 2>&1" % DNS_NAME, timeout=60)
        check(DNS_ADDRESS in out, "DNS lookup through 10.0.2.3: %r" % out)
        check(DNS_NAME in queries, "the host resolver saw no query: %r" % queries)
        log("DNS: %s resolved to %s through 10.0.2.3" % (DNS_NAME, DNS_ADDRESS))

        # Host to guest through the forwarded port.
        sh.run("(nc -l -p 2222 -e /bin/echo hello-from-guest >/dev/null 2>&1 &)")
        got = b""
        deadline = time.monotonic() + 60
        while b"hello-from-guest" not in got and time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", fwd_port), timeout=10) as c:
                    got = b""
                    while True:
                        chunk = c.recv(100)
                        if not chunk:
                            break
                        got += chunk
            except OSError:
                pass
            if b"hello-from-guest" not in got:
                time.sleep(0.5)
        check(b"hello-from-guest" in got, "port forwarding: %r" % got)

        rng = sh.run("cat /sys/class/misc/hw_random/rng_available 2>/dev/null")
        check("virtio_rng" in rng, "virtio-rng not available: %r" % rng)
        sh.s.send("poweroff -f\n")
        check(vmm.wait(120) == 0, "oriel-vmm exit status (network)")
    finally:
        vmm.kill()
        srv.close()
        resolver.close()


def inner(vmm_bin):
    tmp = tempfile.mkdtemp(prefix="oriel-virtio-")
    initrd = build_initrd(tmp)
    data = os.path.join(tmp, "data.img")
    victim = os.path.join(tmp, "victim.img")
    ro = os.path.join(tmp, "ro.img")
    make_image(data, 8 << 20)
    make_image(victim, 1 << 20)
    make_image(ro, 1 << 20, b"R")
    ro_sum = sha(ro)
    base = os.path.join(tmp, "base.raw")
    overlay = os.path.join(tmp, "overlay.qcow2")
    make_image(base, 4 << 20, b"B")
    base_sum = sha(base)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", overlay],
                   check=True)
    serial_path = os.path.join(tmp, "serial.sock")
    vmm = VMM(vmm_bin, ["--memory", "384M", "--cpus", "1", "--serial", "unix:" + serial_path,
                        "--disk", "path=%s,if=virtio,discard=on" % data,
                        "--disk", "path=%s,if=virtio" % victim,
                        "--disk", "path=%s,if=virtio,readonly=on,serial=ORIEL-RO-1" % ro,
                        "--disk", "path=%s,if=virtio,format=qcow2" % overlay]
              + kernel_args(initrd=initrd))
    try:
        con = Stream(connect_unix(serial_path), "serial console")
        con.expect("ORIEL-GUEST-INIT", 300)
        sh = Shell(con)
        for dev in ("vda", "vdb", "vdc", "vdd"):
            n = 0
            while sh.run("test -b /dev/%s && echo yes" % dev) != "yes" and n < 100:
                time.sleep(0.1)
                n += 1
        check(sh.run("cat /sys/block/vda/size") == str((8 << 20) // 512), "vda size")
        check(sh.run("cat /sys/block/vdc/ro") == "1", "vdc not read-only in the guest")
        check(sh.run("cat /sys/block/vdc/serial") == "ORIEL-RO-1", "vdc serial")
        check(sh.run("cat /sys/block/vda/queue/discard_max_bytes") != "0", "no discard on vda")

        # Raw writes (direct, so they reach the device), flush, read back.
        sh.run("printf 'oriel-sector-one' > /tmp/p; dd if=/tmp/p of=/dev/vda bs=512 seek=1 "
               "conv=sync,fsync oflag=direct 2>/dev/null")
        back = sh.run("dd if=/dev/vda bs=512 skip=1 count=1 iflag=direct 2>/dev/null | head -c 16")
        check(back == "oriel-sector-one", "read back %r" % back)
        # The read-only disk refuses writes even when forced past the flag.
        out = sh.run("blockdev --setrw /dev/vdc 2>&1; dd if=/tmp/p of=/dev/vdc bs=512 "
                     "conv=fsync oflag=direct 2>&1; echo rc=$?")
        check("rc=0" not in out, "write to the read-only disk succeeded: %r" % out)

        # The qcow2 overlay: the base shows through; a write lands mid-cluster.
        check(sh.run("cat /sys/block/vdd/size") == str((4 << 20) // 512), "vdd size")
        back = sh.run("dd if=/dev/vdd bs=512 skip=3000 count=1 iflag=direct 2>/dev/null | head -c 8")
        check(back == "BBBBBBBB", "base through the overlay: %r" % back)
        sh.run("printf 'oriel-qcow2-data' > /tmp/q; dd if=/tmp/q of=/dev/vdd bs=512 seek=1001 "
               "conv=sync,fsync oflag=direct 2>/dev/null")
        back = sh.run("dd if=/dev/vdd bs=512 skip=1001 count=1 iflag=direct 2>/dev/null | head -c 16")
        check(back == "oriel-qcow2-data", "qcow2 read back %r" % back)
        back = sh.run("dd if=/dev/vdd bs=512 skip=1002 count=1 iflag=direct 2>/dev/null | head -c 4")
        check(back == "BBBB", "base bytes next to the write: %r" % back)

        # The hostile driver, on the victim disk (the second virtio-blk).
        addr = sh.run("for d in /sys/bus/pci/devices/*; do "
                      "[ $(cat $d/device) = 0x1042 ] && echo ${d##*/}; done | sed -n 2p")
        check(addr.startswith("0000:"), "victim PCI address %r" % addr)
        # Its full report stays in the guest; only the summary crosses the
        # serial console (a long burst of console output is slow here).
        rc = sh.run("/usr/bin/virtio-abuse %s >/tmp/abuse.log 2>&1; echo rc=$?" % addr,
                    timeout=900)
        summary = sh.run("grep -c ': ok$' /tmp/abuse.log; grep -v ': ok$' /tmp/abuse.log")
        log("virtio-abuse: %s; cases ok and other lines:\n%s" % (rc, summary))
        check(rc == "rc=0", "virtio-abuse exit status: %r" % rc)
        check("virtio-abuse: PASS" in summary and "FAIL" not in summary,
              "virtio-abuse did not pass")
        check(vmm.proc.poll() is None, "oriel-vmm exited")
        check("needs reset" in vmm.stderr_text(), "the VMM did not report the broken driver")

        # Everything else still works.
        back = sh.run("dd if=/dev/vda bs=512 skip=1 count=1 iflag=direct 2>/dev/null | head -c 16")
        check(back == "oriel-sector-one", "vda after the abuse: %r" % back)
        check(sh.run("echo alive") == "alive", "guest shell")
        sh.s.send("sync; poweroff -f\n")
        check(vmm.wait(120) == 0, "oriel-vmm exit status")
    finally:
        vmm.kill()
        log("oriel-vmm stderr:\n" + vmm.stderr_text())

    with open(data, "rb") as f:
        f.seek(512)
        check(f.read(16) == b"oriel-sector-one", "data not in the image on the host")
    check(sha(ro) == ro_sum, "read-only image changed")
    check(sha(base) == base_sum, "the overlay's base image changed")
    r = subprocess.run(["qemu-img", "check", "-q", "-f", "qcow2", overlay], capture_output=True, text=True)
    check(r.returncode == 0, "qemu-img check of the overlay: %s%s" % (r.stdout, r.stderr))
    flat = os.path.join(tmp, "flat.raw")
    subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", overlay, flat], check=True)
    with open(flat, "rb") as f:
        f.seek(1001 * 512)
        check(f.read(16) == b"oriel-qcow2-data", "the guest's write is not in the overlay")
        f.seek(1002 * 512)
        check(f.read(4) == b"BBBB", "the overlay lost the base's bytes")

    network(vmm_bin, initrd, tmp)
    tap_network(vmm_bin, initrd, tmp)


TAP = "oritap0"
TAP_HOST, TAP_GUEST = "192.168.77.1", "192.168.77.2"


def tap_network(vmm_bin, initrd, tmp):
    check(os.environ.get("ORIEL_IN_TESTHOST") == "1", "tap devices are only made in the test host")
    for cmd in (["ip", "tuntap", "add", "dev", TAP, "mode", "tap"],
                ["ip", "addr", "add", TAP_HOST + "/24", "dev", TAP],
                ["ip", "link", "set", TAP, "up"]):
        subprocess.run(cmd, check=True)
    srv = loopback_server(TAP_HOST, b"tap-pong:")
    port = srv.getsockname()[1]
    vmm, sh = guest_with_eth0(vmm_bin, initrd, tmp, "tap=" + TAP, "tap")
    try:
        sh.run("ip addr add %s/24 dev eth0; ip link set eth0 up" % TAP_GUEST)
        # Guest to host over the tap (the first packets also wait for ARP).
        out = ""
        deadline = time.monotonic() + 60
        while "tap-pong" not in out and time.monotonic() < deadline:
            out = sh.run("echo ping-tap | nc -w 5 %s %d" % (TAP_HOST, port), timeout=60)
        check(out == "tap-pong:ping-tap", "guest to host over the tap: %r" % out)

        # Host to guest.
        sh.run("(nc -l -p 2222 -e /bin/echo hello-over-tap >/dev/null 2>&1 &)")
        got = b""
        deadline = time.monotonic() + 60
        while b"hello-over-tap" not in got and time.monotonic() < deadline:
            try:
                with socket.create_connection((TAP_GUEST, 2222), timeout=10) as c:
                    got = c.recv(100)
            except OSError:
                time.sleep(0.5)
        check(b"hello-over-tap" in got, "host to guest over the tap: %r" % got)
        log("tap: TCP both ways between %s (host) and %s (guest)" % (TAP_HOST, TAP_GUEST))
        sh.s.send("poweroff -f\n")
        check(vmm.wait(120) == 0, "oriel-vmm exit status (tap)")
    finally:
        vmm.kill()
        srv.close()
        subprocess.run(["ip", "link", "del", TAP], check=False)


if __name__ == "__main__":
    main(__file__, inner)
