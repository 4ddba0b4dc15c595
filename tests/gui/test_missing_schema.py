#!/usr/bin/python3
"""oriel started where its GSettings schema is not installed prints a clear,
translated error and exits with status 1 instead of aborting.

    test_missing_schema.py ORIEL_BIN BUILD_PO_DIR"""
import os
import subprocess
import sys
import tempfile

MESSAGE = ("The GSettings schema org.oriel.Oriel is not installed; "
           "run “meson devenv -C build oriel” or install Oriel.")
MESSAGE_ZH = "未安装"       # "is not installed" in the zh_CN catalog


def run(oriel, env):
    return subprocess.run([oriel], env=env, capture_output=True, text=True, timeout=30)


def main():
    oriel, po_dir = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as empty:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(('GSETTINGS_', 'XDG_', 'DISPLAY', 'WAYLAND', 'LANG', 'LC_'))}
        # No schema anywhere: neither the build's nor an installed one.
        env.update(GSETTINGS_SCHEMA_DIR=empty, XDG_DATA_DIRS=empty, XDG_DATA_HOME=empty,
                   LANG='C.UTF-8', LANGUAGE='')
        r = run(oriel, env)
        assert r.returncode == 1, 'exit status %d (negative: killed by a signal)\n%s' % (r.returncode, r.stderr)
        assert MESSAGE in r.stderr, 'no clear message:\n' + r.stderr
        print('ok: without the schema: %s (status 1)' % r.stderr.strip())

        # The message is translated (the zh_CN catalog built in po/).
        if os.path.exists(os.path.join(po_dir, 'zh_CN', 'LC_MESSAGES', 'oriel.mo')):
            env.update(ORIEL_LOCALEDIR=po_dir, LANGUAGE='zh_CN')
            r = run(oriel, env)
            assert r.returncode == 1, r.stderr
            assert MESSAGE_ZH in r.stderr and 'org.oriel.Oriel' in r.stderr, 'not translated:\n' + r.stderr
            print('ok: translated: %s' % r.stderr.strip())
    print('PASS')


if __name__ == '__main__':
    main()
