#!/usr/bin/python3
"""A stand-in for oriel-vmm that runs no guest: it keeps the config it was
started with, notes what its descriptor 3 is (the disk lock the daemon
passes), and serves the control socket (greeting, query-status,
query-chardev, quit) until told to quit.  Usage: fake_vmm.py --config
FILE, with FAKE_VMM_OUT naming a directory for what it notes."""
import json
import os
import shutil
import socket
import sys

conf = sys.argv[sys.argv.index('--config') + 1]
out = os.environ.get('FAKE_VMM_OUT') or os.path.join(os.path.dirname(conf), '..')
name = control = None
with open(conf) as f:
    for line in f:
        key, _, value = line.partition('=')
        if key.strip() == 'control':
            control = value.strip()
        elif key.strip() == 'name':
            name = value.strip()
shutil.copyfile(conf, os.path.join(out, '%s.vmm.conf' % name))
try:
    fd3 = os.readlink('/proc/self/fd/3')
except OSError:
    fd3 = ''
with open(os.path.join(out, '%s.fd3' % name), 'w') as f:
    f.write(fd3)

srv = socket.socket(socket.AF_UNIX)
srv.bind(control)
srv.listen(4)
while True:
    conn, _ = srv.accept()
    conn.sendall(b'{"oriel": {"version": "fake"}}\n')
    stream = conn.makefile('rb')
    for line in stream:
        msg = json.loads(line)
        ret = {'status': 'running'} if msg.get('execute') == 'query-status' else \
            [] if msg.get('execute') == 'query-chardev' else {}
        conn.sendall(json.dumps({'id': msg.get('id'), 'return': ret}).encode() + b'\n')
        if msg.get('execute') == 'quit':
            sys.exit(0)
    conn.close()
