#!/usr/bin/python3
"""The test host harness runs commands inside and reports what they did."""

import os
import signal
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import testhost  # noqa: E402

CLI = os.path.join(os.path.dirname(HERE), "testhost")


def setUpModule():
    testhost.ensure_assets()


class CommandLine(unittest.TestCase):
    def test_output_exit_code_environment_and_share(self):
        with tempfile.TemporaryDirectory(prefix="oriel-share-") as share:
            script = ('echo "out:$ORIEL_PROBE:$(pwd)"; echo "err:$(hostname)" >&2; '
                      'echo "other:[$OTHER_PROBE]"; echo written > "$1/from-inside"; exit 3')
            env = dict(os.environ, ORIEL_PROBE="passed-through", OTHER_PROBE="dropped")
            p = subprocess.run([CLI, "run", "--timeout", "300", "--share", share, "--",
                                "sh", "-c", script, "sh", share],
                               cwd=HERE, env=env, capture_output=True, text=True)
            self.assertEqual(p.returncode, 3, p.stderr)
            self.assertEqual(p.stdout, "out:passed-through:%s\nother:[]\n" % HERE)
            self.assertIn("err:testhost\n", p.stderr)
            with open(os.path.join(share, "from-inside")) as f:
                self.assertEqual(f.read(), "written\n")

    def test_host_failures_are_reported_as_125(self):
        # Too little memory for the test host's kernel: QEMU stops at once.
        p = subprocess.run([CLI, "run", "--mem", "48", "--", "true"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 125)
        self.assertIn("test host failed to boot", p.stderr)
        p = subprocess.run([CLI, "run", "--share", "/nonexistent/oriel", "--", "true"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 125)
        self.assertIn("not a directory", p.stderr)


class Assets(unittest.TestCase):
    def test_second_build_is_a_no_op_and_images_hold_both_module_trees(self):
        p = subprocess.run([testhost.BUILD_ASSETS], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("building", p.stderr)
        m = testhost.read_manifest()
        listing = subprocess.run(["cpio", "-t", "--quiet"], stdin=open(m["INITRAMFS_BUSYBOX"], "rb"),
                                 capture_output=True, text=True, check=True).stdout.split()
        for kver in (m["KVER_CLOUD"], m["KVER_GENERIC"]):
            self.assertIn("lib/modules/%s/load-order" % kver, listing)
            self.assertTrue(os.path.isfile(os.path.join(m["MODULES_%s" % (
                "CLOUD" if kver == m["KVER_CLOUD"] else "GENERIC")], "modules.dep")))
        self.assertIn("init", listing)
        self.assertIn("bin/busybox", listing)


class Session(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.th = testhost.TestHost()
        cls.th.start()

    @classmethod
    def tearDownClass(cls):
        cls.th.close()

    def test_several_commands_in_one_host(self):
        r = self.th.run("echo one; echo two >&2; false", timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, b"one\n")
        self.assertEqual(r.stderr, b"two\n")
        # State persists between commands of one session.
        self.th.run("echo kept > /tmp/oriel-state", timeout=60, check=True)
        r = self.th.run(["cat", "/tmp/oriel-state"], timeout=60)
        self.assertEqual((r.returncode, r.output), (0, "kept\n"))

    def test_writes_stay_inside(self):
        path = "/var/tmp/oriel-testhost-overlay-probe-%d" % os.getpid()
        self.th.run(["touch", path], timeout=60, check=True)
        self.assertEqual(self.th.run(["test", "-e", path], timeout=60).returncode, 0)
        self.assertFalse(os.path.exists(path))

    def test_input_and_missing_program(self):
        r = self.th.run(["tr", "a-z", "A-Z"], input="stdin works\n", timeout=60)
        self.assertEqual(r.output, "STDIN WORKS\n")
        r = self.th.run(["/nonexistent/program"], timeout=60)
        self.assertEqual(r.returncode, 127)
        r = self.th.run(["true"], cwd="/run/oriel-no-such-dir", timeout=60)
        self.assertEqual(r.returncode, 126)
        self.assertIn("does not exist inside the test host", r.output)

    def test_background_process(self):
        p = self.th.spawn("echo listening; exec sleep 1000")
        p.wait_for_output(r"listening", timeout=30)
        self.assertIsNone(p.wait(timeout=0.2))
        p.terminate()
        self.assertEqual(p.wait(timeout=30), -signal.SIGTERM)

    def test_background_descendant_does_not_hold_the_command(self):
        r = self.th.run("(while :; do echo tick; sleep 0.1; done) & echo started",
                        timeout=60)
        self.assertEqual(r.returncode, 0)
        self.assertIn("started\n", r.output)  # the loop's ticks may come first
        # The loop lives on, and later commands get clean channels.
        for i in range(3):
            r = self.th.run("pgrep -f 'echo [t]ick' >/dev/null && echo alive-%d" % i, timeout=60)
            self.assertEqual((r.returncode, r.output), (0, "alive-%d\n" % i))
        self.th.run("pkill -f 'echo [t]ick'", timeout=60, check=True)

    def test_timeout_kills_the_command(self):
        with self.assertRaises(testhost.CommandTimeout) as cm:
            # Long enough for the shell to start even on a busy machine.
            self.th.run("echo started; sleep 1000", timeout=8)
        self.assertEqual(cm.exception.result.returncode, -signal.SIGKILL)
        self.assertIn("started", cm.exception.result.output)


if __name__ == "__main__":
    unittest.main(verbosity=2)
