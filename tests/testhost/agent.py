"""Command agent of the test host: PID 1 after the initramfs switches root.

It talks to testhost.py over the virtio-serial port named "oriel.agent" with
one JSON object per line.

host -> agent
  {"op": "spawn", "id": N, "argv": [...], "cwd": PATH, "env": {...},
   "stdin": BASE64 or null}
  {"op": "signal", "id": N, "signal": SIGNUM}     (to the process group)
  {"op": "poweroff"}
agent -> host
  {"op": "ready", "kernel": RELEASE, "uptime": SECONDS}
  {"op": "started", "id": N, "pid": PID}
  {"op": "output", "id": N, "fd": 1|2, "data": BASE64}
  {"op": "exit", "id": N, "status": CODE, or -SIGNUM if killed by a signal}
  {"op": "log", "message": TEXT}

Being PID 1 it also reaps orphans, so it does all waiting itself.
"""

import base64
import ctypes
import fcntl
import json
import os
import selectors
import signal
import subprocess
import sys
import time

PORT_NAME = "oriel.agent"
# Output pipes a process's descendants still hold after it exited are
# forwarded for this long, then drained, so that `daemon &` in a script
# cannot hold the command open.
ORPHAN_OUTPUT_GRACE = 1.0
RB_POWER_OFF = 0x4321FEDC


def find_port(timeout=30.0):
    # The port shows up when virtio_console has probed the device, which may
    # still be under way when the initramfs hands over.
    base = "/sys/class/virtio-ports"
    deadline = time.monotonic() + timeout
    while True:
        try:
            entries = sorted(os.listdir(base))
        except FileNotFoundError:
            entries = []
        for entry in entries:
            try:
                with open(os.path.join(base, entry, "name")) as f:
                    if f.read().strip() == PORT_NAME and os.path.exists("/dev/" + entry):
                        return "/dev/" + entry
            except OSError:
                continue
        if time.monotonic() > deadline:
            raise RuntimeError("no virtio-serial port named " + PORT_NAME)
        time.sleep(0.01)


class Job:
    def __init__(self, jid, popen):
        self.id = jid
        self.popen = popen
        self.open_fds = set()
        self.status = None
        self.exited_at = None


class Agent:
    def __init__(self):
        self.port = os.open(find_port(), os.O_RDWR | os.O_CLOEXEC)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.port, selectors.EVENT_READ, ("port", None))
        self.inbuf = b""
        self.jobs = {}
        self.by_pid = {}
        rfd, wfd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.wakeup = rfd
        signal.set_wakeup_fd(wfd)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.sel.register(rfd, selectors.EVENT_READ, ("signal", None))

    def send(self, msg):
        data = (json.dumps(msg, separators=(",", ":")) + "\n").encode()
        while data:
            n = os.write(self.port, data)
            data = data[n:]

    def log(self, text):
        self.send({"op": "log", "message": text})

    def spawn(self, msg):
        jid = msg["id"]
        cwd = msg.get("cwd") or "/"
        if not os.path.isdir(cwd):
            self.fail_spawn(jid, 126, "testhost: working directory %s does not exist "
                            "inside the test host\n" % cwd)
            return
        stdin = subprocess.DEVNULL
        if msg.get("stdin") is not None:
            path = "/run/oriel-agent-stdin-%d" % jid
            with open(path, "wb") as f:
                f.write(base64.b64decode(msg["stdin"]))
            stdin = open(path, "rb")
            os.unlink(path)
        try:
            popen = subprocess.Popen(
                msg["argv"], cwd=cwd, env=msg.get("env"),
                stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True, close_fds=True)
        except OSError as e:
            self.fail_spawn(jid, 127 if isinstance(e, FileNotFoundError) else 126,
                            "testhost: cannot run %s: %s\n" % (msg["argv"][0], e.strerror))
            return
        finally:
            if stdin is not subprocess.DEVNULL:
                stdin.close()
        job = Job(jid, popen)
        self.jobs[jid] = job
        self.by_pid[popen.pid] = job
        for stream, num in ((popen.stdout, 1), (popen.stderr, 2)):
            # Own the descriptor outright: Popen's file objects close theirs.
            fd = os.dup(stream.fileno())
            stream.close()
            fl = fcntl.fcntl(fd, fcntl.F_GETFL)
            fcntl.fcntl(fd, fcntl.F_SETFL, fl | os.O_NONBLOCK)
            job.open_fds.add(fd)
            self.sel.register(fd, selectors.EVENT_READ, ("output", (job, num)))
        popen.stdout = popen.stderr = None
        self.send({"op": "started", "id": jid, "pid": popen.pid})

    def fail_spawn(self, jid, status, text):
        self.send({"op": "output", "id": jid, "fd": 2,
                   "data": base64.b64encode(text.encode()).decode()})
        self.send({"op": "exit", "id": jid, "status": status})

    def close_output(self, job, fd):
        self.sel.unregister(fd)
        job.open_fds.discard(fd)
        os.close(fd)

    def on_output(self, job, num, fd):
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        if not data:
            self.close_output(job, fd)
            self.maybe_finish(job)
            return
        self.send({"op": "output", "id": job.id, "fd": num,
                   "data": base64.b64encode(data).decode()})

    def reap(self):
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            job = self.by_pid.pop(pid, None)
            if job is None:
                continue  # an orphan re-parented to PID 1
            job.status = os.waitstatus_to_exitcode(status)
            job.popen.returncode = job.status
            job.exited_at = time.monotonic()
            self.maybe_finish(job)

    def maybe_finish(self, job, force=False):
        if job.status is None or (job.open_fds and not force):
            return
        for fd in list(job.open_fds):
            # Descendants still holding the pipe (a daemon started with &)
            # keep running: their output is read and dropped, never SIGPIPE.
            self.sel.modify(fd, selectors.EVENT_READ, ("drain", None))
            job.open_fds.discard(fd)
        self.send({"op": "exit", "id": job.id, "status": job.status})
        del self.jobs[job.id]

    def on_message(self, msg):
        op = msg.get("op")
        if op == "spawn":
            self.spawn(msg)
        elif op == "signal":
            job = self.jobs.get(msg["id"])
            if job is not None and job.status is None:
                try:
                    os.killpg(job.popen.pid, msg["signal"])
                except ProcessLookupError:
                    pass
        elif op == "poweroff":
            self.poweroff()
        elif op == "nudge":
            pass  # its only purpose is the interrupt that delivered it
        else:
            self.log("unknown request %r" % (op,))

    def poweroff(self):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(-1, sig)
            except ProcessLookupError:
                pass
        os.sync()
        libc = ctypes.CDLL(None, use_errno=True)
        libc.reboot(RB_POWER_OFF)
        sys.exit(0)

    def loop(self):
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        self.send({"op": "ready", "kernel": os.uname().release, "uptime": uptime})
        while True:
            timeout = None
            lingering = [j for j in self.jobs.values() if j.exited_at is not None]
            if lingering:
                deadline = min(j.exited_at for j in lingering) + ORPHAN_OUTPUT_GRACE
                timeout = max(0.0, deadline - time.monotonic())
            events = self.sel.select(timeout)
            for key, _ in events:
                kind, data = key.data
                if kind == "port":
                    chunk = os.read(self.port, 65536)
                    if not chunk:
                        self.poweroff()  # the controlling side went away
                    self.inbuf += chunk
                    while b"\n" in self.inbuf:
                        line, self.inbuf = self.inbuf.split(b"\n", 1)
                        if line.strip():
                            self.on_message(json.loads(line))
                elif kind == "signal":
                    try:
                        while os.read(self.wakeup, 512):
                            pass
                    except BlockingIOError:
                        pass
                    self.reap()
                elif kind == "drain":
                    try:
                        if not os.read(key.fd, 65536):
                            self.sel.unregister(key.fd)
                            os.close(key.fd)
                    except BlockingIOError:
                        pass
                elif kind == "output":
                    job, num = data
                    if job.id in self.jobs and key.fd in job.open_fds:
                        self.on_output(job, num, key.fd)
            now = time.monotonic()
            for job in list(self.jobs.values()):
                if job.exited_at is not None and now - job.exited_at >= ORPHAN_OUTPUT_GRACE:
                    self.maybe_finish(job, force=True)


def main():
    try:
        Agent().loop()
    except Exception:  # PID 1 must not die silently: say why, then stop.
        import traceback
        print("oriel-agent: fatal error", file=sys.stderr)
        traceback.print_exc()
        sys.stderr.flush()
        os.sync()
        ctypes.CDLL(None).reboot(RB_POWER_OFF)


if __name__ == "__main__":
    main()
