"""user, umask, environment and limits, applied to real runs."""

import os
import pwd

import pytest

from support import read, state, wait_pid, wait_until, LONG_TIMEOUT

REPORT = ("#!/bin/sh\nid -u > ids\nid -g >> ids\numask > mask\nulimit -n > nofile\n"
          "echo \"$HOME|$USER|$GREETING|$FROM_ENVDIR\" > vars\nexec sleep 1000\n")


def test_umask_environment_limits(procs, svdir):
    s = svdir(run=REPORT, umask="027\n", limits="nofile 123 456\n",
              environment='GREETING="hello there"\nFROM_ENVDIR=file\n',
              **{"env/FROM_ENVDIR": "dir\n"})
    procs.pv_run(s)
    wait_pid(s)
    wait_until(lambda: read(os.path.join(s, "vars")))
    assert read(os.path.join(s, "mask")).strip() == "0027"
    assert read(os.path.join(s, "nofile")).strip() == "123"
    assert read(os.path.join(s, "vars")).split("|")[2:] == ["hello there", "dir\n"]


@pytest.mark.skipif(os.getuid() != 0, reason="switching user needs root")
def test_user_switch(procs, svdir, tmp_path):
    nobody = pwd.getpwnam("nobody")
    os.chmod(str(tmp_path), 0o777)
    s = svdir(run=REPORT, user="nobody\n")
    os.chmod(s, 0o777)
    procs.pv_run(s)
    wait_pid(s)
    wait_until(lambda: read(os.path.join(s, "vars")))
    uid, gid = read(os.path.join(s, "ids")).split()
    assert (int(uid), int(gid)) == (nobody.pw_uid, nobody.pw_gid)
    assert read(os.path.join(s, "vars")).split("|")[:2] == [nobody.pw_dir, "nobody"]


def test_unknown_user_is_a_failed_start_not_a_root_run(procs, svdir, tmp_path):
    s = svdir(run="#!/bin/sh\ntouch ran\nexec sleep 1000\n", user="no-such-user-here\n")
    err = open(str(tmp_path / "err"), "w")
    procs.pv_run(s, stderr=err)
    wait_until(lambda: state(s).get("state") == "backoff", LONG_TIMEOUT)
    assert "no such user: no-such-user-here" in state(s)["reason"]
    assert not os.path.exists(os.path.join(s, "ran"))
    wait_until(lambda: "unable to start ./run: user: no such user" in read(str(tmp_path / "err")))
