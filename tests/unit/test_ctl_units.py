"""pv-ctl's pure parts: names, the status table, the check line, tail's reading, add's files."""

import json
import os
import time

import pytest

from pv import tai64n
from pv.ctl import add as ctl_add
from pv.ctl import names as ctl_names
from pv.ctl import ops as ctl_ops
from pv.ctl import shell as ctl_shell
from pv.ctl import status as ctl_status
from pv.ctl import tail as ctl_tail
from pv.cmd import ctl
from pv.ctl.names import Target
from pv.diag import PermanentError, UsageError


@pytest.fixture
def scandir(tmp_path):
    for name, group in (("web", "front"), ("api", "front"), ("db", "back"), ("cron", "")):
        os.makedirs(tmp_path / name)
        if group:
            (tmp_path / name / "group").write_text(group + " extra words\n")
    os.makedirs(tmp_path / ".half.tmp-1")
    (tmp_path / "afile").write_text("")
    os.symlink(str(tmp_path / "db"), str(tmp_path / "dblink"))
    return str(tmp_path)


def names_of(targets):
    return [t.name for t in targets]


def test_services_are_dirs_and_symlinks_to_dirs_without_dot_names(scandir):
    assert ctl_names.services(scandir) == ["api", "cron", "db", "dblink", "web"]


def test_resolve_names_globs_groups_all_and_paths(scandir):
    resolve = ctl_names.resolve
    assert names_of(resolve(scandir, ["web"])[0]) == ["web"]
    assert names_of(resolve(scandir, ["d*"])[0]) == ["db", "dblink"]
    assert names_of(resolve(scandir, ["front:*"])[0]) == ["api", "web"]
    assert names_of(resolve(scandir, ["all"])[0]) == ["api", "cron", "db", "dblink", "web"]
    assert resolve(scandir, [os.path.join(scandir, "db") + "/"])[0] == [
        Target("db", os.path.join(scandir, "db"))]
    assert resolve(scandir, [".half.tmp-1", "nope", "x*", "none:*"]) == (
        [], [".half.tmp-1", "nope", "x*", "none:*"])


def test_resolve_keeps_order_and_drops_duplicates(scandir):
    targets, unknown = ctl_names.resolve(scandir, ["web", "front:*", "web"])
    assert names_of(targets) == ["web", "api"] and unknown == []


def test_default_scandir():
    assert ctl_names.default_scandir({"PV_SCANDIR": "/x"}, 1000) == "/x"
    assert ctl_names.default_scandir({}, 0) == "/etc/pv/service"
    assert ctl_names.default_scandir({"HOME": "/h"}, 1000) == "/h/.config/pv/service"
    assert ctl_names.default_scandir({"XDG_CONFIG_HOME": "/c"}, 1000) == "/c/pv/service"


def row(name, state, **kw):
    r = ctl_status.Row(name, "/s/" + name, state)
    for key, value in kw.items():
        setattr(r, key, value)
    return r


def test_duration():
    assert [ctl_status.duration(s) for s in (0, 59, 61, 3725, 90000)] == [
        "0s", "59s", "1m01s", "1h02m", "1d01h"]


def test_table_is_aligned_and_explains_unhappy_states():
    now = 1000.0
    rows = [row("web", "running", pid=42, since=990.0, want="up"),
            row("database", "backoff", since=999.0, want="up", exit_code=1, next_try=1008.0),
            row("x", "fatal", since=900.0, want="up", exit_signal=11, reason="exec failed"),
            row("off", "down", since=500.0, want="down", exit_code=0)]
    lines = ctl_status.table(rows, now)
    assert lines[0].split() == ["web", "running", "42", "10s"]
    assert lines[1].endswith("exit 1; next try in 8s")
    assert "killed by SIGSEGV; exec failed; gave up" in lines[2]
    assert lines[3].split() == ["off", "down", "-", "8m20s"]
    assert len({line.index(line.split()[1]) for line in lines}) == 1
    assert "\033[" not in "".join(lines)
    assert "\033[32m" in ctl_status.table(rows, now, colour=True)[0]


def test_status_codes_follow_lsb():
    up, down = row("a", "running"), row("b", "down")
    assert ctl_status.status_code([up]) == 0
    assert ctl_status.status_code([up, down]) == 3
    assert ctl_status.status_code([up, row("c", "unsupervised")]) == 4
    assert ctl_status.status_code([up], ["nope"]) == 4


def test_json_is_an_array_of_records():
    data = json.loads(ctl_status.as_json([row("a", "running", pid=3, since=1.0)], now=3.0))
    assert data[0]["name"] == "a" and data[0]["pid"] == 3 and data[0]["uptime"] == 2.0
    assert data[0]["supervised"] is True


def test_colour_only_on_a_tty_without_no_color():
    class Tty:
        def isatty(self):
            return True
    assert ctl_status.want_colour(Tty(), {})
    assert not ctl_status.want_colour(Tty(), {"NO_COLOR": ""})
    assert not ctl_status.want_colour(open(os.devnull, "w"), {})


def test_check_lines_and_codes():
    ok = [row("a", "running", want="up"), row("b", "ready", want="up")]
    assert ctl_status.check(ok) == (0, "PV OK - 2/2 up | up=2;;;0;2 total=2")
    code, line = ctl_status.check(ok + [row("web", "down", want="up", exit_code=1)])
    assert code == 2 and line.startswith("PV CRITICAL - web down (exit 1; want up)")
    assert ctl_status.check(ok + [row("s", "starting", want="up")])[0] == 1
    assert ctl_status.check(ok + [row("off", "down", want="down")])[1].startswith(
        "PV OK - 2/3 up, 1 down by request")
    assert ctl_status.check([], ["nope"]) == (3, "PV UNKNOWN - no such service: nope")


def test_signal_letters():
    assert ctl_ops.signal_letter("HUP") == "h"
    assert ctl_ops.signal_letter("sigusr2") == "2"
    assert ctl_ops.signal_letter("9") == "k"
    for bad in ("SEGV", "NOPE"):
        with pytest.raises(UsageError):
            ctl_ops.signal_letter(bad)


def test_sv_line():
    now = time.time()
    assert ctl_ops.sv_line("ok", row("a", "running", pid=7, since=now, want="up"), now) == \
        "ok: run: a (pid 7) 0s"
    assert ctl_ops.sv_line("timeout", row("a", "stopping", pid=7, since=now - 3, want="down"),
                           now) == "timeout: run: a (pid 7) 3s, stopping; want down"


def test_render_tai64n_and_utc_stamps_in_local_time():
    secs = 1700000000
    local = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(secs))
    label = tai64n.label(secs * 10**9 + 123456789)
    assert ctl_tail.render(label + " hello") == local + ".123456 hello"
    utc = time.strftime("%Y-%m-%d_%H:%M:%S", time.gmtime(secs))
    assert ctl_tail.render(utc + ".12345 hi") == local + ".123450 hi"
    assert ctl_tail.render("@notastamp plain") == "@notastamp plain"


def test_last_lines_reach_into_rotated_files(tmp_path):
    (tmp_path / "@400000000000000100000000.s").write_text("1\n2\n")
    (tmp_path / "@400000000000000200000000.u").write_text("3\n4\n")
    (tmp_path / "current").write_text("5\n6\npartial")
    assert ctl_tail.last_lines(str(tmp_path), 3) == ["5", "6", "partial"]
    assert ctl_tail.last_lines(str(tmp_path), 5) == ["3", "4", "5", "6", "partial"]
    assert ctl_tail.last_lines(str(tmp_path), 10) == ["1", "2", "3", "4", "5", "6", "partial"]


def test_follower_reads_across_rotation_and_truncation(tmp_path):
    current = tmp_path / "current"
    current.write_text("old\n")
    follower = ctl_tail.Follower(str(tmp_path))
    with open(str(current), "a") as f:
        f.write("a\nb")
    assert follower.poll() == ["a"]
    with open(str(current), "a") as f:
        f.write("c\nd\n")
    os.rename(str(current), str(tmp_path / "@400000000000000100000000.s"))
    current.write_text("e\n")
    assert follower.poll() == ["bc", "d", "e"]
    current.write_text("")
    assert follower.poll() == []
    current.write_text("f\n")
    assert follower.poll() == ["f"]
    follower.close()


def test_add_builds_a_whole_service_and_refuses_bad_names(tmp_path):
    path = ctl_add.add(str(tmp_path), "web", ["echo", "it's"], group="g", down=True,
                       size=5000, keep=3)
    assert os.listdir(str(tmp_path)) == ["web"]
    run = open(os.path.join(path, "run")).read()
    assert run == "#!/bin/sh\nexec 2>&1\nexec echo 'it'\"'\"'s'\n"
    log_run = open(os.path.join(path, "log", "run")).read()
    assert "-tt -s 5000 -n 3 ./main" in log_run and ctl_add.pv_log_path() in log_run
    assert os.access(os.path.join(path, "log", "run"), os.X_OK)
    assert os.path.isdir(os.path.join(path, "log", "main"))
    assert open(os.path.join(path, "group")).read() == "g\n"
    assert os.path.exists(os.path.join(path, "down"))
    for bad in ("web", ".x", "a/b", "all", "g:*", ""):
        with pytest.raises(PermanentError):
            ctl_add.add(str(tmp_path), bad, ["true"])
    assert sorted(os.listdir(str(tmp_path))) == ["web"]


def test_parse_common_takes_options_anywhere():
    c = ctl.Context()
    rest = ctl.parse_common(c, ["-d", "/x", "restart", "-w", "3", "web", "--no-wait",
                                "--json", "--", "-d"])
    assert rest == ["restart", "web", "--", "-d"]
    assert (c.scandir, c.wait_secs, c.explicit_wait, c.wait, c.json) == (
        "/x", 3.0, True, False, True)
    with pytest.raises(UsageError):
        ctl.parse_common(c, ["-w", "soon"])


def test_shell_completion(scandir):
    assert ctl_shell.candidates(scandir, [], "st") == ["start", "status", "stop"]
    assert ctl_shell.candidates(scandir, ["restart"], "") == [
        "all", "api", "back:*", "cron", "db", "dblink", "front:*", "web"]
    assert ctl_shell.candidates(scandir, ["signal"], "U") == ["USR1", "USR2"]
    assert all(ctl_shell.verb_help(v) for v in ("status", "tail", "add"))
