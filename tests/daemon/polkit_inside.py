#!/usr/bin/python3
"""polkit authorization on virtorield's read-write socket (`--auth-rw
polkit`), with the real dbus-daemon, polkitd and clients.  Runs inside the
test host (test_polkit.py starts it there): its root is a private overlay,
so the action file, a rules file and two users can be installed for real.

alice is in the group a rule grants org.oriel.virt.manage to, bob is not:
virsh and python3-libvirt as alice manage domains, bob is refused with
libvirt's "access denied by policy" yet can still use the read-only socket,
root needs no polkit, and with the system bus gone the daemon says polkit is
unavailable and keeps serving."""

import os
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from daemon_fixture import Daemon, demo_xml, wait_until  # noqa: E402

BUILD = os.environ.get("MESON_BUILD_ROOT", os.path.join(HERE, "..", "..", "build"))
POLICY = os.path.join(BUILD, "data", "org.oriel.virt.policy")
BUS_SOCKET = "/run/dbus/system_bus_socket"
RULES = """polkit.addRule(function(action, subject) {
    if (action.id == "org.oriel.virt.manage" && subject.isInGroup("orieltest"))
        return polkit.Result.YES;
});
"""


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)


def polkit_owned():
    r = run(["gdbus", "call", "--system", "--dest", "org.freedesktop.DBus",
             "--object-path", "/org/freedesktop/DBus",
             "--method", "org.freedesktop.DBus.NameHasOwner", "org.freedesktop.PolicyKit1"])
    return r.returncode == 0 and "true" in r.stdout


class Polkit(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.environ.get("ORIEL_IN_TESTHOST") != "1":
            raise unittest.SkipTest("changes the system: runs only inside the test host")
        shutil.copy(POLICY, "/usr/share/polkit-1/actions/org.oriel.virt.policy")
        os.makedirs("/etc/polkit-1/rules.d", exist_ok=True)
        with open("/etc/polkit-1/rules.d/50-oriel-test.rules", "w") as f:
            f.write(RULES)
        for argv in (["groupadd", "orieltest"], ["useradd", "-m", "-G", "orieltest", "alice"],
                     ["useradd", "-m", "bob"]):
            r = run(argv)
            assert r.returncode == 0, r.stderr
        os.makedirs("/run/dbus", exist_ok=True)
        cls.bus = subprocess.Popen(["dbus-daemon", "--system", "--nofork", "--nopidfile"])
        wait_until(lambda: os.path.exists(BUS_SOCKET), 30, "the system bus")
        # polkitd drops to its own user by itself.
        cls.polkitd = subprocess.Popen(["/usr/lib/polkit-1/polkitd", "--no-debug"])
        wait_until(polkit_owned, 60, "polkitd on the system bus")

        cls.daemon = Daemon(extra_args=["--auth-rw", "polkit"]).start()
        # Other users must reach the sockets' directory.
        for d in (cls.daemon.root, cls.daemon.sock_dir):
            os.chmod(d, 0o755)

    @classmethod
    def tearDownClass(cls):
        if hasattr(cls, "daemon"):
            alive = cls.daemon.alive()
            log = cls.daemon.read_log()
            cls.daemon.cleanup()
            assert alive, "virtorield died:\n" + log
        for p in (getattr(cls, "polkitd", None), getattr(cls, "bus", None)):
            if p and p.poll() is None:
                p.terminate()
                p.wait(10)

    def virsh_as(self, user, *args, readonly=False):
        uri = self.daemon.ro_uri if readonly else self.daemon.uri
        argv = ["virsh", "-q", "-c", uri] + list(args)
        if user != "root":
            argv = ["runuser", "-u", user, "--"] + argv
        return run(argv)

    def test_1_socket_open_to_all(self):
        self.assertEqual(os.stat(self.daemon.rw_sock).st_mode & 0o777, 0o666)

    def test_2_member_of_the_granted_group_manages(self):
        # virsh reads the file itself: give it one alice can read.
        xml = os.path.join(self.daemon.root, "polkit-demo.xml")
        with open(xml, "w") as f:
            f.write(demo_xml(name="pk"))
        os.chmod(xml, 0o644)
        r = self.virsh_as("alice", "define", xml)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.virsh_as("alice", "list", "--all", "--name")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("pk", r.stdout.split())
        r = run(["runuser", "-u", "alice", "--", "/usr/bin/python3", "-c",
                 "import libvirt; c = libvirt.open(%r); "
                 "print([d.name() for d in c.listAllDomains()])" % self.daemon.uri])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("'pk'", r.stdout)
        r = self.virsh_as("alice", "undefine", "pk")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_3_others_are_refused_but_may_read(self):
        r = self.virsh_as("bob", "list", "--all")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("access denied by policy", r.stderr)
        r = self.virsh_as("bob", "list", "--all", readonly=True)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_4_root_needs_no_polkit(self):
        r = self.virsh_as("root", "list", "--all")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_5_without_the_bus_polkit_is_unavailable(self):
        type(self).polkitd.terminate()
        type(self).polkitd.wait(10)
        type(self).bus.terminate()
        type(self).bus.wait(10)
        os.unlink(BUS_SOCKET)
        r = self.virsh_as("alice", "list", "--all")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("authentication unavailable", r.stderr)
        self.assertTrue(self.daemon.alive(), self.daemon.read_log())
        r = self.virsh_as("root", "list", "--all")
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
