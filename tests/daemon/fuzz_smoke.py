#!/usr/bin/python3
"""Smoke run of a libFuzzer target with a seed corpus generated here."""

import os
import struct
import subprocess
import sys
import tempfile


def xdr_string(s):
    b = s.encode()
    return struct.pack(">I", len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)


def packet(proc, serial, body=b"", prog=0x20008086, mtype=0):
    hdr = struct.pack(">IIiIII", prog, 1, proc, mtype, serial, 0)
    return struct.pack(">I", 4 + len(hdr) + len(body)) + hdr + body


def packet_seeds():
    dom = xdr_string("demo") + bytes(range(16)) + struct.pack(">i", -1)
    return [
        b"\x07" + packet(66, 0),
        b"\x01" + packet(1, 2, struct.pack(">I", 1) + xdr_string("oriel:///system") + struct.pack(">I", 0)),
        b"\x03" + packet(201, 8, dom + struct.pack(">II", 0, 0)),
        b"\x20" + packet(23, 7, xdr_string("demo")) + packet(3, 8),
        b"\x05" + packet(1, 0, prog=0x6B656570, mtype=2),
        b"\x10" + struct.pack(">I", 0x7FFFFFFF) + bytes(24),
        b"\x02" + packet(3, 1, bytes(3)),
    ] + [
        # One call per procedure number with the commonest argument shape
        # (domain, flags), so each generated decoder starts from a packet.
        bytes([1 + proc % 64]) + packet(proc, proc, dom + struct.pack(">I", 0))
        for proc in range(1, 430)
    ]


def xml_seeds(here):
    seeds = [
        b"<domain type='kvm'><name>a</name><memory unit='MiB'>64</memory><os><type>hvm</type>"
        b"<kernel>/k</kernel><cmdline>c</cmdline></os><devices><disk type='file'><source file='/d'/>"
        b"<target dev='vda'/></disk><interface type='user'/><serial type='pty'/>"
        b"<graphics type='vnc' port='5901' autoport='no'/><video><model type='vga'/></video></devices></domain>",
        b"name = 'x'\nmemory = 64\ndisk = [ 'file:/a,xvda,w' ]\nvif = [ 'mac=00:16:3e:00:00:01' ]\nvnc = 1\n",
        b"<domain type='kvm'><name>b</name><memory>1</memory><os><type arch='x86_64'>hvm</type><boot dev='cdrom'/></os>"
        b"<features><acpi/></features><clock offset='utc'><timer name='rtc'/></clock><devices>"
        b"<disk type='block' device='cdrom'><target dev='hdc' bus='ide'/></disk><input type='tablet' bus='usb'/>"
        b"<controller type='usb' index='0'/><memballoon model='virtio'/></devices></domain>",
        b"<domain type='kvm'><name>w</name><memory>1</memory><os firmware='efi'><type machine='q35'>hvm</type>"
        b"<firmware><feature enabled='yes' name='enrolled-keys'/><feature enabled='no' name='secure-boot'/></firmware>"
        b"<loader readonly='yes' secure='yes' type='pflash'>/c</loader><nvram template='/t'>/n_VARS.fd</nvram></os>"
        b"<features><smm state='on'/></features><devices><controller type='usb' model='qemu-xhci'/>"
        b"<interface type='user'><model type='e1000e'/></interface>"
        b"<tpm model='tpm-crb'><backend type='emulator' version='2.0' persistent_state='yes'/></tpm></devices></domain>",
        b"<domain type='kvm' xmlns:oriel='http://oriel.dev/xmlns/domain/1.0'><name>d</name><memory>1</memory>"
        b"<os><type>hvm</type></os><devices><disk type='block' device='disk'><source dev='/dev/nvme0n1'/>"
        b"<target dev='nvme0n1' bus='nvme'/><oriel:dualboot mode='real' confirm='bitlocker' discard-trial='yes' "
        b"fingerprint='0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'>"
        b"<oriel:partition number='1' role='esp'/><oriel:partition number='3' role='windows'/>"
        b"</oriel:dualboot></disk></devices></domain>",
    ]
    return seeds


def main():
    fuzzer, kind = sys.argv[1], sys.argv[2]
    runs = sys.argv[3] if len(sys.argv) > 3 else "20000"
    with tempfile.TemporaryDirectory() as corpus:
        seeds = packet_seeds() if kind == "packet" else xml_seeds(os.path.dirname(__file__))
        for i, s in enumerate(seeds):
            with open(os.path.join(corpus, "seed%d" % i), "wb") as f:
                f.write(s)
        # -error_exitcode: libFuzzer's default, 77, would read as "skipped".
        r = subprocess.run([fuzzer, "-runs=" + runs, "-max_total_time=60", "-max_len=65536",
                            "-error_exitcode=1", corpus])
        sys.exit(r.returncode)


if __name__ == "__main__":
    main()
