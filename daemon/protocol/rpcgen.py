#!/usr/bin/python3
"""Run rpcgen on remote.x for the build: MODE (-h or -c), INPUT, OUTPUT.

rpcgen names the header it includes after the input path; the C file must
include the generated header by its build-tree name instead."""

import re
import subprocess
import sys


def main():
    mode, src, out = sys.argv[1:4]
    text = subprocess.run(["rpcgen", mode, src], check=True, capture_output=True, text=True).stdout
    if mode == "-c":
        text = re.sub(r'#include ".*"', '#include "remote-protocol.h"', text, count=1)
    with open(out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
