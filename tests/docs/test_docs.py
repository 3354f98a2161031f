"""Every command has a man page, and the man page names every option the parser takes."""

import os
import re
import subprocess

import pytest

from support import BIN, TOP

COMMANDS = sorted(n for n in os.listdir(BIN) if n.startswith("pv-"))


def man_page(name):
    for section in ("1", "8"):
        path = os.path.join(TOP, "man", "man" + section, name + "." + section)
        if os.path.exists(path):
            return open(path).read()
    return None


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_a_man_page_with_exit_status(name):
    page = man_page(name)
    assert page is not None, "%s has no man page" % name
    assert ".SH EXIT STATUS" in page or '.SH "EXIT STATUS"' in page


@pytest.mark.parametrize("name", COMMANDS)
def test_help_exits_0_and_every_short_option_is_documented(name):
    out = subprocess.run([os.path.join(BIN, name), "--help"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=20, universal_newlines=True)
    assert out.returncode == 0, out.stderr
    assert "usage:" in out.stdout.lower()
    page = man_page(name)
    for option in sorted(set(re.findall(r"(?m)^\s+(-[A-Za-z0-9])\b", out.stdout))):
        assert ("\\" + option) in page or option in page, \
            "%s: option %s is in --help but not in the man page" % (name, option)


def test_file_format_pages_exist():
    for name in ("pv-servicedir.5", "pv-logdir.5"):
        assert os.path.exists(os.path.join(TOP, "man", "man5", name))


def test_man_pages_render_without_warnings():
    groff = subprocess.run(["sh", "-c", "command -v groff"], stdout=subprocess.PIPE)
    if groff.returncode != 0:
        pytest.skip("groff is not installed")
    for section in ("man1", "man5"):
        for name in os.listdir(os.path.join(TOP, "man", section)):
            path = os.path.join(TOP, "man", section, name)
            out = subprocess.run(["groff", "-man", "-ww", "-z", path], stderr=subprocess.PIPE,
                                 timeout=30, universal_newlines=True)
            assert out.stderr == "", "%s: %s" % (name, out.stderr)
