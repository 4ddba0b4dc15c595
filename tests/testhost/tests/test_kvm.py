#!/usr/bin/python3
"""Inside the test host /dev/kvm is real AMD-V KVM, not this machine's PVM."""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import testhost  # noqa: E402

# KVM_GET_API_VERSION, KVM_CREATE_VM and KVM_CREATE_VCPU from <linux/kvm.h>.
PROBE = r'''
import fcntl, os
kvm = os.open("/dev/kvm", os.O_RDWR)
print("api", fcntl.ioctl(kvm, 0xAE00))
vm = fcntl.ioctl(kvm, 0xAE01, 0)
vcpu = fcntl.ioctl(vm, 0xAE41, 0)
print("vm", vm >= 0, "vcpu", vcpu >= 0)
'''


class RealKvm(unittest.TestCase):
    def test_kvm_amd_with_npt_and_no_pvm(self):
        testhost.ensure_assets()
        with testhost.TestHost() as th:
            r = th.run(["/usr/bin/python3", "-c", PROBE], timeout=60)
            self.assertEqual(r.returncode, 0, r.output)
            self.assertEqual(r.stdout, b"api 12\nvm True vcpu True\n")
            r = th.run("test ! -e /sys/module/kvm_pvm && test -d /sys/module/kvm_amd && "
                       "cat /sys/module/kvm_amd/parameters/npt", timeout=60)
            self.assertEqual((r.returncode, r.output), (0, "Y\n"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
