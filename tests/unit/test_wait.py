"""The pure parts of a wait: the state parser (pv.status.Reader) that waits and pv-ctl
status use, the descriptor budget."""

import os
import resource
import subprocess
import sys

import pytest

from pv import status, wait

LIB = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "lib")


def test_parse_state_reads_what_status_writes():
    state = status.State(pid=42, state="running", want="up", since=1795967806.25,
                         reason='a "quoted" reason \\ \u00e9', extra={"from_newer_pv": [1, {}]})
    line = state.to_json().rstrip("\n")
    parsed = status.Reader().state(line)
    assert parsed == state == status.State.from_json(line)
    assert parsed.extra == {"from_newer_pv": [1, {}]}


BAD_LINES = ["", "[1]", '{"pid": NaN}', '{"pid": 1} junk', '{"pid":', '{"pid": Infinity}', "null",
             '{"state":"do', '{"a":1,}', '{"a":"\x01"}', "[" * 100000]


@pytest.mark.parametrize("line", BAD_LINES)
def test_parse_state_refuses_what_is_not_one_json_object(line):
    with pytest.raises(ValueError):
        status.Reader().state(line)


def test_parse_state_refuses_them_without_the_json_package_too():
    # pytest has loaded json; pv-ctl has not, and then _json (before 3.12)
    # fails on a cut-short string with SystemError instead of its ValueError.
    code = ("import sys; sys.path.insert(0, %r); from pv import status\n"
            "assert 'json' not in sys.modules\n"
            "for line in %r:\n"
            "    try:\n"
            "        status.Reader().state(line)\n"
            "    except ValueError:\n"
            "        continue\n"
            "    raise SystemExit('accepted %%r' %% line[:20])\n" % (LIB, BAD_LINES))
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True)
    assert (out.returncode, out.stderr) == (0, "")


def test_a_few_listeners_need_no_limit_check():
    assert wait.fd_budget(10) == 10


def test_the_budget_leaves_room_under_a_limit_it_cannot_raise():
    # In a child: a hard limit once lowered cannot be raised again.
    code = ("import resource, sys; sys.path.insert(0, %r); from pv import wait\n"
            "resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))\n"
            "print(wait.fd_budget(1000), wait.fd_budget(500))\n" % LIB)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [str(1024 - wait.RESERVED_FDS), "500"]


def test_the_budget_raises_the_soft_limit_towards_the_hard_one():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2048:
        pytest.skip("hard open-file limit %d leaves no room" % hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (512, hard))
        assert wait.fd_budget(1000) == 1000
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= 1000 + wait.RESERVED_FDS
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_reader_without_the_c_scanner_gives_the_same_states():
    good = status.State(pid=7, state="running", reason="\u00e9 \\ \"", extra={"x": [1]}).to_json()
    plain = status.Reader()
    plain._scan = None           # as on an interpreter without _json: pv.jsonline serves
    assert plain.state(good.rstrip("\n")) == status.Reader().state(good.rstrip("\n"))
    for line in BAD_LINES[:8]:
        with pytest.raises(ValueError):
            plain.state(line)
