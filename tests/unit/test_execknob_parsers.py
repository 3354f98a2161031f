"""Parsers of the user, umask, environment and limits files."""

import resource

import pytest

from pv.supervise import execknobs
from pv.servicedir import KnobError


def test_environment_file_syntax():
    text = ('# comment\n; also a comment\n\nPLAIN=value\nSPACED = " a b "\n'
            "SINGLE='it''s'\nESC=\"say \\\"hi\\\"\"\nJOINED=one \\\ntwo\nEMPTY=\n")
    env = execknobs.parse_environment(text)
    assert env == {"PLAIN": "value", "SPACED": " a b ", "SINGLE": "it''s",
                   "ESC": 'say "hi"', "JOINED": "one two", "EMPTY": ""}


@pytest.mark.parametrize("bad", ["NOEQUALS\n", "1X=2\n", "A-B=1\n", 'Q="open\n'])
def test_environment_file_errors_name_the_line(bad):
    with pytest.raises(KnobError, match="line 1"):
        execknobs.parse_environment(bad)


def test_umask():
    assert execknobs.parse_umask("027") == 0o27
    for bad in ("9", "1000", "x"):
        with pytest.raises(KnobError):
            execknobs.parse_umask(bad)


def test_limits():
    limits = execknobs.parse_limits("nofile 4096\ncore unlimited 0  # why not\n\nnproc 10 20\n")
    assert limits == {resource.RLIMIT_NOFILE: (4096, None),
                      resource.RLIMIT_CORE: (resource.RLIM_INFINITY, 0),
                      resource.RLIMIT_NPROC: (10, 20)}
    for bad in ("files 10\n", "nofile\n", "nofile ten\n"):
        with pytest.raises(KnobError):
            execknobs.parse_limits(bad)


def test_user_resolution_sets_the_login_variables():
    spec = execknobs.Exec()
    execknobs.resolve_user(spec, "root")
    assert spec.uid == 0 and spec.env["USER"] == "root" and spec.env["HOME"]
    with pytest.raises(KnobError, match="no such user"):
        execknobs.resolve_user(execknobs.Exec(), "no-such-user-here")
