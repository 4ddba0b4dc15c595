#!/usr/bin/python3
"""A UNIX socket proxy in front of virtorield that holds every packet the
daemon sends (replies, events, keepalives) for DELAY seconds, so a client
sees a slow connection.  Requests go through at once.

    delay_proxy.py LISTEN_PATH DAEMON_PATH LOG_PATH [DELAY]

Packets are framed as libvirt's RPC does (a 4-byte big-endian length that
counts itself, then program, version, procedure, type, serial, status), so
the log can name them.  File descriptors handed over with a packet
(virDomainOpenGraphicsFD) travel with it.  The log has one JSON object a
line: {"event": "request"|"held"|"released", "proc": N, "type": N,
"serial": N, "time": wall-clock seconds}, requests also with "domain" (the
name, for procedures whose arguments start with a domain), so a test can
tell when the client asked for something relative to when a reply was
released (replies(), requests()).

Used as a library by the GUI tests (DelayProxy) or as a program."""
import array
import json
import os
import socket
import struct
import sys
import threading
import time

HEADER = struct.Struct('>IIIIiII')   # len, prog, vers, proc, type, serial, status
CALL = 0
REPLY = 1
MAX_FDS = 16


def split_packets(buf):
    """(complete packets, rest of buf)."""
    packets = []
    while len(buf) >= 4:
        (length,) = struct.unpack('>I', buf[:4])
        if length < 4 or len(buf) < length:
            break
        packets.append(buf[:length])
        buf = buf[length:]
    return packets, buf


def header_of(packet):
    return HEADER.unpack(packet[:HEADER.size]) if len(packet) >= HEADER.size else None


def domain_name(packet):
    """The domain name if the arguments start with one (an XDR string)."""
    body = packet[HEADER.size:]
    if len(body) < 4:
        return None
    (n,) = struct.unpack('>I', body[:4])
    if not 0 < n < 256 or len(body) < 4 + n:
        return None
    try:
        name = body[4:4 + n].decode()
    except UnicodeDecodeError:
        return None
    return name if name.isprintable() else None


def recv_with_fds(sock, size=65536):
    fds = array.array('i')
    data, anc, _flags, _addr = sock.recvmsg(size, socket.CMSG_SPACE(MAX_FDS * fds.itemsize))
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
    return data, list(fds)


def send_with_fds(sock, data, fds):
    if fds:
        sent = sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', fds))])
        for fd in fds:
            os.close(fd)
        data = data[sent:]
    if data:
        sock.sendall(data)


class Link:
    """One client connection and its own connection to the daemon."""

    def __init__(self, proxy, client):
        self.proxy = proxy
        self.client = client
        self.daemon = socket.socket(socket.AF_UNIX)
        self.daemon.connect(proxy.daemon_path)
        self.queue = []                 # (release_time, packet, fds, header)
        self.cond = threading.Condition()
        self.closed = False
        for fn in (self.upstream, self.downstream, self.release):
            threading.Thread(target=fn, daemon=True).start()

    def close(self):
        with self.cond:
            self.closed = True
            self.cond.notify_all()
        for s in (self.client, self.daemon):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def upstream(self):
        """Client to daemon, unchanged and at once (framed only for the log)."""
        buf = b''
        try:
            while True:
                data, fds = recv_with_fds(self.client)
                if not data:
                    break
                packets, buf = split_packets(buf + data)
                for packet in packets:
                    header = header_of(packet)
                    if header is not None and header[4] == CALL:
                        self.proxy.log('request', header, domain=domain_name(packet))
                send_with_fds(self.daemon, data, fds)
        except OSError:
            pass
        self.close()

    def downstream(self):
        """Daemon to client: cut into packets, each queued with its release time."""
        buf, fds = b'', []
        try:
            while True:
                data, new_fds = recv_with_fds(self.daemon)
                if not data:
                    break
                fds += new_fds
                packets, buf = split_packets(buf + data)
                for packet in packets:
                    header = header_of(packet)
                    self.proxy.log('held', header)
                    with self.cond:
                        self.queue.append((time.monotonic() + self.proxy.delay, packet, fds, header))
                        self.cond.notify_all()
                    fds = []
        except OSError:
            pass
        self.close()

    def release(self):
        while True:
            with self.cond:
                while not self.queue and not self.closed:
                    self.cond.wait()
                if self.closed:
                    return
                when, packet, fds, header = self.queue[0]
                wait = when - time.monotonic()
                if wait > 0:
                    self.cond.wait(wait)
                    continue
                self.queue.pop(0)
            try:
                send_with_fds(self.client, packet, fds)
            except OSError:
                self.close()
                return
            self.proxy.log('released', header)


class DelayProxy:
    def __init__(self, listen_path, daemon_path, log_path, delay=2.0):
        self.listen_path = listen_path
        self.daemon_path = daemon_path
        self.log_path = log_path
        self.delay = delay
        self.lock = threading.Lock()
        self.links = []
        if os.path.exists(listen_path):
            os.unlink(listen_path)
        self.server = socket.socket(socket.AF_UNIX)
        self.server.bind(listen_path)
        self.server.listen(8)
        open(log_path, 'w').close()

    @property
    def uri(self):
        """A libvirt URI that reaches the daemon through this proxy."""
        return 'oriel+unix:///system?socket=' + self.listen_path

    def start(self):
        threading.Thread(target=self.accept, daemon=True).start()
        return self

    def accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.links.append(Link(self, client))

    def log(self, event, header, **extra):
        if header is None:
            return
        _length, _prog, _vers, proc, kind, serial, _status = header
        entry = {'event': event, 'proc': proc, 'type': kind, 'serial': serial, 'time': time.time()}
        entry.update((k, v) for k, v in extra.items() if v is not None)
        line = json.dumps(entry)
        with self.lock, open(self.log_path, 'a') as f:
            f.write(line + '\n')

    def stop(self):
        self.server.close()
        for link in self.links:
            link.close()
        if os.path.exists(self.listen_path):
            os.unlink(self.listen_path)


def read_log(log_path):
    with open(log_path) as f:
        return [json.loads(line) for line in f if line.strip()]


def requests(log_path, proc, domain=None):
    """Times at which the client called proc (on domain, if given)."""
    return [e['time'] for e in read_log(log_path)
            if e['event'] == 'request' and e['proc'] == proc and (domain is None or e.get('domain') == domain)]


def pending_calls(log_path, ignore=()):
    """Serials of calls whose reply has not left the proxy yet."""
    pending = set()
    for e in read_log(log_path):
        if e['proc'] in ignore:
            continue
        if e['event'] == 'request':
            pending.add(e['serial'])
        elif e['event'] == 'released' and e['type'] == REPLY:
            pending.discard(e['serial'])
    return pending


def replies(log_path, proc):
    """(held_time, released_time or None) of every reply to proc, in order."""
    out = {}
    for e in read_log(log_path):
        if e['event'] != 'request' and e['proc'] == proc and e['type'] == REPLY:
            out.setdefault(e['serial'], [None, None])[0 if e['event'] == 'held' else 1] = e['time']
    return [tuple(v) for _k, v in sorted(out.items())]


def main(argv):
    if len(argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    proxy = DelayProxy(argv[1], argv[2], argv[3], float(argv[4]) if len(argv) == 5 else 2.0).start()
    print(proxy.uri, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        proxy.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
