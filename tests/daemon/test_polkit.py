#!/usr/bin/python3
"""Runs polkit_inside.py inside a test host, where a system bus, polkitd,
an action file, a rules file and test users can be set up without touching
this machine."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_fixture import run_script_in_testhost, virtorield_path  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_script_in_testhost(
        "polkit_inside.py", sys.argv[1:],
        {"VIRTORIELD": virtorield_path(), "MESON_BUILD_ROOT": os.environ.get("MESON_BUILD_ROOT", "")},
        timeout=600))
