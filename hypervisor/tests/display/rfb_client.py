#!/usr/bin/python3
"""A plain RFB 3.8 client (security None, Raw encoding, 32 bpp) used by the
VNC tests as a second, independent client implementation.

usage: rfb_client.py unix:PATH|HOST:PORT OUT.ppm [KEYSYM...]

Connects, takes one full framebuffer update, writes it as a binary PPM,
sends each KEYSYM (hex) as a press and release, then says goodbye."""
import socket
import struct
import sys


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise SystemExit("server closed the connection")
        buf += chunk
    return buf


def main():
    address, out = sys.argv[1], sys.argv[2]
    keysyms = [int(k, 16) for k in sys.argv[3:]]
    if address.startswith("unix:"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(address[5:])
    else:
        host, port = address.rsplit(":", 1)
        sock = socket.create_connection((host, int(port)))
    sock.settimeout(30)

    version = recv_exact(sock, 12)
    if version != b"RFB 003.008\n":
        raise SystemExit("unexpected version %r" % version)
    sock.sendall(b"RFB 003.008\n")
    ntypes = recv_exact(sock, 1)[0]
    types = recv_exact(sock, ntypes)
    if 1 not in types:
        raise SystemExit("security None not offered: %r" % types)
    sock.sendall(b"\x01")
    if struct.unpack(">I", recv_exact(sock, 4))[0] != 0:
        raise SystemExit("security handshake failed")
    sock.sendall(b"\x01")  # shared
    width, height = struct.unpack(">HH", recv_exact(sock, 4))
    recv_exact(sock, 16)  # server pixel format
    (name_len,) = struct.unpack(">I", recv_exact(sock, 4))
    recv_exact(sock, name_len)

    # 32 bpp little-endian, red at bit 16: 0x00RRGGBB.
    pf = struct.pack(">BBBBHHHBBBxxx", 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
    sock.sendall(b"\x00\x00\x00\x00" + pf)
    sock.sendall(struct.pack(">BxHi", 2, 1, 0))  # SetEncodings: Raw
    sock.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, width, height))

    pixels = bytearray(width * height * 3)
    msg_type = recv_exact(sock, 1)[0]
    if msg_type != 0:
        raise SystemExit("expected FramebufferUpdate, got %d" % msg_type)
    recv_exact(sock, 1)
    (nrects,) = struct.unpack(">H", recv_exact(sock, 2))
    for _ in range(nrects):
        x, y, w, h, enc = struct.unpack(">HHHHi", recv_exact(sock, 12))
        if enc != 0:
            raise SystemExit("unexpected encoding %d" % enc)
        data = recv_exact(sock, w * h * 4)
        for j in range(h):
            for i in range(w):
                b, g, r, _ = data[(j * w + i) * 4:(j * w + i) * 4 + 4]
                o = ((y + j) * width + x + i) * 3
                pixels[o:o + 3] = bytes((r, g, b))

    for k in keysyms:
        sock.sendall(struct.pack(">BBxxI", 4, 1, k))
        sock.sendall(struct.pack(">BBxxI", 4, 0, k))

    with open(out, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (width, height))
        f.write(pixels)
    sock.close()


if __name__ == "__main__":
    main()
