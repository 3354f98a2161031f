"""pv-ctl import, reread and update through the command, against real supervisors."""

import os
import shutil
import socket
import subprocess
import sys
import urllib.request

from support import (LONG_TIMEOUT, SHORT_TIMEOUT, TOP, bin_path, state, supervise_pid,
                     wait_pid, wait_until)

EXAMPLE = os.path.join(TOP, "examples", "supervisor")


def ctl(*args, timeout=SHORT_TIMEOUT + 20):
    return subprocess.run([sys.executable, bin_path("pv-ctl")] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                          universal_newlines=True)


def write(path, text):
    with open(str(path), "w") as f:
        f.write(text)
    return str(path)


def test_a_malformed_file_is_fatal_and_writes_nothing(tmp_path):
    conf = write(tmp_path / "supervisord.conf", "[program:a]\ncommand=a\n[include]\n"
                 "files=more.conf\n")
    more = write(tmp_path / "more.conf", "[program:b]\ncommand=b\nautorestart=sometimes\n")
    scan = str(tmp_path / "service")
    out = ctl("import", conf, "--into", scan)
    assert out.returncode == 100
    assert out.stderr == ("pv-ctl: fatal: unable to import %s: line 3: autorestart: must be "
                          "true, false or unexpected\n" % more)
    assert out.stdout == "" and not os.path.exists(scan)


def test_import_reports_and_warns_with_file_and_line(tmp_path):
    conf = write(tmp_path / "s.conf", "[supervisorctl]\nserverurl=x\n[program:a]\ncommand=a\n")
    scan = str(tmp_path / "service")
    out = ctl("import", conf, "--into=" + scan)
    assert out.returncode == 0 and out.stdout == "a: added\n"
    assert out.stderr.startswith("pv-ctl: warning: %s:1: ignoring [supervisorctl]" % conf)
    out = ctl("-d", scan, "--json", "import", conf)
    assert out.returncode == 0 and '"change": "unchanged"' in out.stdout
    assert ctl("-d", scan, "import").returncode == 100


def test_reread_and_update_restart_exactly_the_changed(procs, tmp_path):
    text = "[program:a]\ncommand=sleep 1000\n[program:b]\ncommand=sleep 1001\n"
    conf = write(tmp_path / "supervisord.conf", text)
    scan = str(tmp_path / "service")
    assert ctl("-d", scan, "import", conf).returncode == 0
    a, b = os.path.join(scan, "a"), os.path.join(scan, "b")
    procs.markers.append(scan)
    out = ctl("-d", scan, "reread")
    assert out.stdout == "a: added\nb: added\n" and out.returncode == 102
    assert "pv-scan not running" in out.stderr
    procs.pv_run(a)
    procs.pv_run(b)
    pid_a, pid_b = wait_pid(a), wait_pid(b)
    assert ctl("-d", scan, "reread").stdout == "a: unchanged\nb: unchanged\n"
    write(conf, text.replace("sleep 1000", "sleep 1002"))
    assert ctl("-d", scan, "import", conf).stdout == "a: changed (run)\nb: unchanged\n"
    out = ctl("-d", scan, "reread", "a", "b")
    assert out.stdout == "a: changed\nb: unchanged\n" and out.returncode == 102
    out = ctl("-d", scan, "update")
    assert out.stdout.splitlines()[:2] == ["a: changed", "b: unchanged"]
    assert out.stdout.splitlines()[2].startswith("ok: run: a (pid ")
    assert out.returncode == 102    # only the rescan failed: no pv-scan here
    assert wait_pid(a, not_pid=pid_a) and supervise_pid(b) == pid_b
    assert ctl("-d", scan, "reread").stdout == "a: unchanged\nb: unchanged\n"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_example(tmp_path):
    """The example, with free ports and this test's Python in its commands."""
    copy = str(tmp_path / "supervisor")
    shutil.copytree(EXAMPLE, copy)
    for root, _, names in os.walk(copy):
        for name in names:
            path = os.path.join(root, name)
            text = open(path).read()
            for port in ("18080", "18081"):
                text = text.replace(port, str(free_port()))
            write(path, text.replace("python3 ", sys.executable + " "))
    return os.path.join(copy, "supervisord.conf")


def test_the_graphite_example_comes_up_under_pv_scan(procs, tmp_path):
    conf = copy_example(tmp_path)
    scan = str(tmp_path / "service")
    out = ctl("import", conf, "--into", scan)
    assert out.returncode == 0, out.stderr
    names = sorted(line.split(":")[0] for line in out.stdout.splitlines())
    assert names == ["carbon-cache", "gunicorn-graphite", "statsd", "unicorn-graphiti"]
    procs.pv_scan(scan, stderr=subprocess.DEVNULL)
    for name in names:
        path = os.path.join(scan, name)
        wait_until(lambda: state(path).get("state") == "running", LONG_TIMEOUT,
                   "%s to be running" % name)
    out = ctl("-d", scan, "status", "graphite:*")
    assert out.returncode == 0 and [l.split()[0] for l in out.stdout.splitlines()] == [
        "carbon-cache", "gunicorn-graphite"]
    port = open(os.path.join(scan, "gunicorn-graphite", "run")).read().split()[-1]
    body = wait_until(lambda: _get("http://127.0.0.1:%s/graphite.conf" % port),
                      SHORT_TIMEOUT, "the web stand-in to answer")
    assert b"[program:gunicorn-graphite]" in body
    out = ctl("-d", scan, "reread")
    assert out.returncode == 0 and out.stdout.count(": unchanged") == 4
    graphite = os.path.join(os.path.dirname(conf), "conf.d", "graphite.conf")
    write(graphite, open(graphite).read().replace("startsecs=2", "startsecs=1"))
    old = {n: supervise_pid(os.path.join(scan, n)) for n in names}
    out = ctl("-d", scan, "update")
    assert out.returncode == 0, out.stderr
    assert "carbon-cache: unchanged" in out.stdout     # import has not run yet
    assert ctl("import", conf, "--into", scan).stdout.count("changed (start-secs)") == 1
    out = ctl("-d", scan, "update")
    assert out.returncode == 0 and "carbon-cache: changed" in out.stdout, out.stderr
    assert "ok: run: carbon-cache" in out.stdout
    new = {n: supervise_pid(os.path.join(scan, n)) for n in names}
    assert [n for n in names if new[n] != old[n]] == ["carbon-cache"]


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return reply.read()
    except OSError:
        return None
