#!/usr/bin/python3
"""Bad input on the wire: malformed, truncated, oversized and unknown
packets get precise libvirt error replies, only unrecoverable framing
closes a connection, and the daemon keeps serving other clients."""

import os
import socket
import struct
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_fixture import Daemon, virsh  # noqa: E402

REMOTE = 0x20008086
KEEPALIVE = 0x6B656570
CALL, REPLY, MESSAGE, STREAM = 0, 1, 2, 3
OK, ERROR = 0, 1
VIR_ERR_NO_SUPPORT = 3
VIR_ERR_RPC = 39
VIR_ERR_NO_DOMAIN = 42
VIR_ERR_OPERATION_DENIED = 29
VIR_ERR_XML_ERROR = 27
VIR_ERR_CONFIG_UNSUPPORTED = 67


def xdr_string(s):
    b = s.encode()
    return struct.pack(">I", len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)


def packet(proc, serial, body=b"", prog=REMOTE, vers=1, mtype=CALL, status=OK):
    hdr = struct.pack(">IIiIII", prog, vers, proc, mtype, serial, status)
    return struct.pack(">I", 4 + len(hdr) + len(body)) + hdr + body


class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(10)
        self.s.connect(path)

    def send(self, data):
        self.s.sendall(data)

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError("connection closed")
            buf += chunk
        return buf

    def recv_packet(self):
        (length,) = struct.unpack(">I", self.recv_exact(4))
        data = self.recv_exact(length - 4)
        prog, vers, proc, mtype, serial, status = struct.unpack(">IIiIII", data[:24])
        return dict(prog=prog, vers=vers, proc=proc, type=mtype, serial=serial,
                    status=status, body=data[24:])

    def call(self, proc, serial, body=b"", **kw):
        self.send(packet(proc, serial, body, **kw))
        return self.recv_packet()

    def open(self, serial=0, flags=0):
        r = self.call(1, serial, struct.pack(">I", 1) + xdr_string("oriel:///system") + struct.pack(">I", flags))
        assert r["status"] == OK, r
        return r

    def close(self):
        self.s.close()


def error_of(reply):
    body = reply["body"]
    code, domain, present = struct.unpack(">iiI", body[:12])
    msg = ""
    if present:
        (n,) = struct.unpack(">I", body[12:16])
        msg = body[16:16 + n].decode()
    return code, msg


class ProtocolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon(vmm="/bin/false").start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()

    def setUp(self):
        self.c = Conn(self.daemon.rw_sock)

    def tearDown(self):
        self.c.close()
        self.assertTrue(self.daemon.alive(), "daemon died:\n" + self.daemon.read_log())

    def assert_served(self):
        """Another, fresh client still gets answers."""
        other = Conn(self.daemon.rw_sock)
        try:
            other.open()
            r = other.call(3, 1)  # CONNECT_GET_TYPE
            self.assertEqual(r["status"], OK)
        finally:
            other.close()

    def test_auth_list_and_open(self):
        r = self.c.call(66, 0)
        self.assertEqual((r["type"], r["status"], r["serial"], r["proc"]), (REPLY, OK, 0, 66))
        self.assertEqual(r["body"], struct.pack(">Ii", 1, 0))
        self.c.open(1)

    def test_call_before_open_is_refused(self):
        r = self.c.call(273, 5, struct.pack(">iI", 1, 0))
        self.assertEqual(r["status"], ERROR)
        self.assertEqual(error_of(r)[0], VIR_ERR_RPC)
        self.assertEqual(r["serial"], 5)

    def test_unknown_procedure_gets_no_support(self):
        self.c.open()
        r = self.c.call(9999, 7)
        self.assertEqual((r["status"], r["serial"], r["proc"]), (ERROR, 7, 9999))
        code, msg = error_of(r)
        self.assertEqual(code, VIR_ERR_NO_SUPPORT)
        self.assertIn("unknown procedure: 9999", msg)
        # the connection stays usable
        self.assertEqual(self.c.call(3, 8)["status"], OK)

    def test_wrong_program_and_version(self):
        self.c.open()
        r = self.c.call(3, 9, prog=0x12345678)
        self.assertEqual(r["status"], ERROR)
        self.assertEqual(error_of(r)[0], VIR_ERR_RPC)
        self.assertIn("program", error_of(r)[1])
        r = self.c.call(3, 10, vers=7)
        self.assertEqual(r["status"], ERROR)
        self.assertIn("version 7", error_of(r)[1])
        self.assertEqual(self.c.call(3, 11)["status"], OK)

    def test_truncated_arguments(self):
        self.c.open()
        # LOOKUP_BY_NAME whose string claims 100 bytes but carries 3
        r = self.c.call(23, 12, struct.pack(">I", 100) + b"abc\0")
        self.assertEqual(r["status"], ERROR)
        code, msg = error_of(r)
        self.assertEqual(code, VIR_ERR_RPC)
        self.assertIn("truncated", msg)
        # trailing garbage is refused too
        r = self.c.call(3, 13, b"\0\0\0\0")
        self.assertEqual(error_of(r)[0], VIR_ERR_RPC)
        self.assertIn("trailing", error_of(r)[1])
        self.assertEqual(self.c.call(3, 14)["status"], OK)

    def test_lookup_missing_domain_code(self):
        self.c.open()
        r = self.c.call(23, 15, xdr_string("no-such-domain"))
        code, msg = error_of(r)
        self.assertEqual(code, VIR_ERR_NO_DOMAIN)
        self.assertIn("no-such-domain", msg)

    def test_invalid_xml_is_an_xml_error(self):
        self.c.open()
        r = self.c.call(11, 16, xdr_string("<domain type='kvm'><name>x</name"))
        self.assertEqual(error_of(r)[0], VIR_ERR_XML_ERROR)
        r = self.c.call(11, 17, xdr_string(
            "<domain type='kvm'><name>x</name><memory>1024</memory><os><type>hvm</type></os>"
            "<devices><sound model='ich9'/></devices></domain>"))
        code, msg = error_of(r)
        self.assertEqual(code, VIR_ERR_CONFIG_UNSUPPORTED)
        self.assertIn("<sound>", msg)

    def test_oversized_packet_is_answered_and_skipped(self):
        self.c.open()
        size = 32 * 1024 * 1024 + 4 + 24 + 4096  # over the 32 MiB body limit
        hdr = struct.pack(">IIIiIII", size, REMOTE, 1, 3, CALL, 20, OK)
        self.c.send(hdr)
        r = self.c.recv_packet()
        self.assertEqual((r["status"], r["serial"]), (ERROR, 20))
        self.assertIn("exceeds the maximum message size", error_of(r)[1])
        # send the announced body; the daemon discards it and stays in sync
        remaining = size - len(hdr)
        chunk = b"\xff" * 65536
        while remaining:
            n = min(remaining, len(chunk))
            self.c.send(chunk[:n])
            remaining -= n
        r = self.c.call(3, 21)
        self.assertEqual((r["status"], r["serial"]), (OK, 21))

    def test_impossible_length_closes_only_that_connection(self):
        self.c.send(struct.pack(">I", 8) + b"\0\0\0\0")
        self.c.s.settimeout(10)
        self.assertEqual(self.c.s.recv(100), b"")
        self.assert_served()

    def test_split_packets_reassemble(self):
        self.c.open()
        data = packet(3, 30)
        for i in range(len(data)):
            self.c.send(data[i:i + 1])
        r = self.c.recv_packet()
        self.assertEqual((r["status"], r["serial"]), (OK, 30))

    def test_keepalive_ping_pong(self):
        self.c.send(packet(1, 0, prog=KEEPALIVE, mtype=MESSAGE))
        r = self.c.recv_packet()
        self.assertEqual((r["prog"], r["proc"], r["type"]), (KEEPALIVE, 2, MESSAGE))

    def test_garbage_stream_does_not_kill_daemon(self):
        import random
        rnd = random.Random(4)
        for _ in range(20):
            c = Conn(self.daemon.rw_sock)
            try:
                c.send(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 400))))
            except OSError:
                pass
            c.close()
        self.assert_served()

    def test_readonly_socket_refuses_changes(self):
        ro = Conn(self.daemon.ro_sock)
        try:
            ro.open()
            r = ro.call(273, 1, struct.pack(">iI", 1, 0))
            self.assertEqual(r["status"], OK)
            r = ro.call(11, 2, xdr_string("<domain type='kvm'><name>ro</name><memory>1024</memory>"
                                          "<os><type>hvm</type></os></domain>"))
            self.assertEqual(r["status"], ERROR)
            code, msg = error_of(r)
            self.assertEqual(code, VIR_ERR_OPERATION_DENIED)
            self.assertIn("read-only", msg)
        finally:
            ro.close()
        r = virsh(self.daemon.uri, "list", "--all", "--name")
        self.assertNotIn("ro", r.stdout.split())


class SlowCallTest(unittest.TestCase):
    """A slow start (the VMM takes seconds to fail) does not block the
    connection: keepalive and other calls are answered meanwhile."""

    def test_keepalive_and_calls_during_slow_start(self):
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            vmm = os.path.join(tmp, "slow-vmm")
            with open(vmm, "w") as f:
                f.write("#!/bin/sh\nsleep 3\necho 'oriel-vmm: /dev/kvm is a PVM backend' >&2\nexit 3\n")
            os.chmod(vmm, 0o755)
            with Daemon(vmm=vmm) as daemon:
                c = Conn(daemon.rw_sock)
                c.open()
                xml = ("<domain type='kvm'><name>slow</name><memory>65536</memory>"
                       "<os><type>hvm</type><kernel>/k</kernel></os></domain>")
                r = c.call(11, 1, xdr_string(xml))
                self.assertEqual(r["status"], OK)
                dom = r["body"]
                c.send(packet(9, 2, dom))                      # DOMAIN_CREATE: slow
                c.send(packet(1, 0, prog=KEEPALIVE, mtype=MESSAGE))
                c.send(packet(3, 3))                           # CONNECT_GET_TYPE
                first, second, third = c.recv_packet(), c.recv_packet(), c.recv_packet()
                self.assertEqual((first["prog"], first["proc"]), (KEEPALIVE, 2))
                self.assertEqual((second["serial"], second["status"]), (3, OK))
                self.assertEqual((third["serial"], third["status"]), (2, ERROR))
                code, msg = error_of(third)
                self.assertIn("status 3", msg)
                self.assertIn("/dev/kvm is a PVM backend", msg)
                c.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
