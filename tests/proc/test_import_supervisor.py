"""supervisord.conf files in the shapes real projects use, imported and run under pv-scan.

Stand-in commands (sh, sleep, python) in the shapes of a PHP/nginx container,
a Laravel queue worker, a %(ENV_X)s conf, and a Procfile with .env.
"""

import os
import subprocess
import sys

from support import SHORT_TIMEOUT, bin_path, read, state, supervise_pid, wait_pid, wait_until


def ctl(*args, env=None):
    return subprocess.run([sys.executable, bin_path("pv-ctl")] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                          universal_newlines=True, env=env)


def write(path, text):
    with open(str(path), "w") as f:
        f.write(text)
    return str(path)


def environ_of(pid):
    with open("/proc/%d/environ" % pid, "rb") as f:
        pairs = [v.decode(errors="replace").partition("=") for v in f.read().split(b"\0") if v]
    return {k: v for k, _, v in pairs}


def imported(tmp_path, text, *options, environ=None):
    conf = write(tmp_path / "supervisord.conf", text)
    scan = str(tmp_path / "service")
    out = ctl("import", conf, "--into", scan, *options, env=environ)
    assert out.returncode == 0, out.stderr
    return scan


PHP_NGINX = """\
[supervisord]
nodaemon=true
logfile=/dev/null
logfile_maxbytes=0

[program:php-fpm]
command=/bin/sh -c 'echo "php-fpm ready to handle connections"; echo "php notice" >&2;
  exec sleep 1000'
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
stderr_logfile=/dev/stderr
stderr_logfile_maxbytes=0
autorestart=true

[program:nginx]
command=/bin/sh -c 'echo "nginx start worker process"; exec sleep 1000'
stdout_logfile=/dev/fd/1
stdout_logfile_maxbytes=0
redirect_stderr=true
"""


def test_php_nginx_console_logging_reaches_pv_scans_stdout(procs, tmp_path):
    scan = imported(tmp_path, PHP_NGINX)
    assert not os.path.exists(os.path.join(scan, "php-fpm", "log"))
    out, err = tmp_path / "docker-logs.out", tmp_path / "docker-logs.err"
    with open(str(out), "w") as o, open(str(err), "w") as e:
        procs.pv_scan(scan, stdout=o, stderr=e)
    for line in ("php-fpm ready to handle connections", "nginx start worker process"):
        wait_until(lambda: line in read(str(out), ""), what="%r on pv-scan's stdout" % line)
    wait_until(lambda: "php notice" in read(str(err), ""), what="stderr on pv-scan's stderr")
    assert "php notice" not in read(str(out))
    pid = wait_pid(os.path.join(scan, "php-fpm"))
    env = environ_of(pid)
    assert (env["SUPERVISOR_ENABLED"], env["SUPERVISOR_PROCESS_NAME"],
            env["SUPERVISOR_GROUP_NAME"]) == ("1", "php-fpm", "php-fpm")
    assert os.readlink("/proc/%d/cwd" % pid) == "/"


LARAVEL = """\
[program:laravel-worker]
process_name=%%(program_name)s_%%(process_num)02d
command=%s -c "import time; time.sleep(1000)" queue:work --sleep=3 --tries=3
autostart=true
autorestart=true
numprocs=4
redirect_stderr=true
stdout_logfile=%s/worker.log
stopwaitsecs=3600
"""


def test_laravel_worker_by_supervisor_names(procs, tmp_path):
    scan = imported(tmp_path, LARAVEL % (sys.executable, tmp_path))
    procs.pv_scan(scan)
    service = os.path.join(scan, "laravel-worker")
    pids = [wait_pid(os.path.join(service, "instance", str(k))) for k in range(4)]
    out = ctl("-d", scan, "status", "laravel-worker:*")
    names = [line.split()[0] for line in out.stdout.splitlines()]
    assert names == ["laravel-worker:laravel-worker_%02d" % k for k in range(4)], out.stdout
    out = ctl("-d", scan, "pid", "laravel-worker:laravel-worker_03")
    assert out.returncode == 0 and int(out.stdout) == pids[3], out.stderr
    assert environ_of(pids[3])["SUPERVISOR_PROCESS_NAME"] == "laravel-worker_03"
    out = ctl("-d", scan, "restart", "laravel-worker:laravel-worker_03")
    assert out.returncode == 0, out.stderr
    new = wait_pid(os.path.join(service, "instance", "3"), not_pid=pids[3])
    assert [supervise_pid(os.path.join(service, "instance", str(k))) for k in range(3)] == pids[:3]
    out = ctl("-d", scan, "restart", "laravel-worker:*")
    assert out.returncode == 0 and out.stdout.count("ok: ") == 4, out.stdout + out.stderr
    for k, old in enumerate(pids[:3] + [new]):
        wait_pid(os.path.join(service, "instance", str(k)), not_pid=old)
    # the log is where the conf says: a link to log/main/current
    link = str(tmp_path / "worker.log")
    wait_until(lambda: os.path.islink(link), what="the log link")
    assert os.path.realpath(link) == os.path.realpath(os.path.join(service, "log", "main",
                                                                   "current"))


ENV_CONF = """\
[supervisord]
environment=GREETING="hello %(ENV_WHO)s"

[program:greeter]
command=sleep 1000 %(ENV_ARGS)s
user=nobody
"""


def cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return f.read().decode().split("\0")[:-1]


def test_env_expansions_follow_the_runtime_environment(procs, tmp_path):
    """Imported without WHO and ARGS; started with them.  user= leaves HOME alone."""
    environ = {k: v for k, v in os.environ.items() if k not in ("WHO", "ARGS")}
    scan = imported(tmp_path, ENV_CONF, environ=environ)
    os.chmod(os.path.join(scan, "greeter"), 0o755)
    procs.pv_scan(scan, env=dict(environ, WHO="world", ARGS="1  2", HOME="/srv/home"))
    pid = wait_pid(os.path.join(scan, "greeter"))
    assert cmdline(pid) == ["sleep", "1000", "1", "2"]     # split as Supervisor splits
    env = environ_of(pid)
    assert (env["GREETING"], env["HOME"]) == ("hello world", "/srv/home")
    assert os.stat("/proc/%d" % pid).st_uid != 0 and os.readlink("/proc/%d/cwd" % pid) == "/"


def test_an_unset_env_variable_fails_the_start_not_the_import(procs, tmp_path):
    environ = {k: v for k, v in os.environ.items() if k not in ("WHO", "ARGS")}
    scan = imported(tmp_path, ENV_CONF.replace("user=nobody\n", "startretries=0\n"),
                    environ=environ)
    err = tmp_path / "err"
    with open(str(err), "w") as e:
        procs.pv_scan(scan, env=environ, stderr=e)
    wait_until(lambda: state(os.path.join(scan, "greeter")).get("state") == "fatal",
               SHORT_TIMEOUT, "greeter to give up")
    wait_until(lambda: "WHO" in read(str(err)), what="sh to say WHO is not set")


def test_procfile_with_env_and_formation(procs, tmp_path):
    write(tmp_path / "Procfile", "web: echo \"$PS $PORT $SECRET\" > %s/$PS.out; exec sleep 1000\n"
          "worker: echo \"$PS $PORT $SECRET\" > %s/$PS.out; exec sleep 1000\n"
          % (tmp_path, tmp_path))
    write(tmp_path / "dev.env", "SECRET='s3 cret'\n")
    scan = str(tmp_path / "service")
    out = ctl("import", str(tmp_path / "Procfile"), "--into", scan, "--env",
              str(tmp_path / "dev.env"), "--formation", "web=2,worker=1", "--port-base", "6000")
    assert out.returncode == 0 and out.stdout.splitlines() == [
        "web.1: added", "web.2: added", "worker.1: added"], out.stderr
    procs.pv_scan(scan)
    want = {"web.1": "6000", "web.2": "6001", "worker.1": "6100"}
    for name, port in want.items():
        path = str(tmp_path / (name + ".out"))
        wait_until(lambda: read(path), what="%s's output" % name)
        assert read(path) == "%s %s s3 cret\n" % (name, port)
    out = ctl("-d", scan, "status", "web:*")
    assert [line.split()[0] for line in out.stdout.splitlines()] == ["web.1", "web.2"]


def test_each_instance_has_its_own_log_when_supervisor_gives_it_one(procs, tmp_path):
    scan = imported(tmp_path, """\
[program:w]
command=/bin/sh -c 'echo "I am $SUPERVISOR_PROCESS_NAME"; exec sleep 1000'
process_name=%%(program_name)s_%%(process_num)d
numprocs=2
stdout_logfile=%s/w-%%(process_num)d.log
""" % tmp_path)
    procs.pv_scan(scan)
    for k in range(2):
        path = str(tmp_path / ("w-%d.log" % k))
        wait_until(lambda: "I am w_%d" % k in (read(path) or ""), what="w_%d's own log" % k)
        assert "I am w_%d" % (1 - k) not in read(path)
    out = ctl("-d", scan, "tail", "-n", "5", "w:w_1")
    assert out.returncode == 0 and [l.split(None, 2)[2] for l in out.stdout.splitlines()] == [
        "I am w_1"], out.stdout + out.stderr


LISTENER = """\
import sys
out = open(sys.argv[1], "a")
while True:
    sys.stdout.write("READY\\n")
    sys.stdout.flush()
    header = dict(word.split(":", 1) for word in sys.stdin.readline().split())
    payload = sys.stdin.read(int(header["len"]))
    out.write("%s %s\\n" % (header["eventname"], payload))
    out.flush()
    sys.stdout.write("RESULT 2\\nOK")
    sys.stdout.flush()
"""


def test_an_eventlistener_hears_a_program_exit(procs, tmp_path):
    """[eventlistener:x] becomes pv-ctl listen on the scan directory it is imported into."""
    write(tmp_path / "listener.py", LISTENER)
    scan = imported(tmp_path, """\
[program:crasher]
command=/bin/sh -c 'sleep 1.2; exit 3'
autorestart=false
stdout_logfile=NONE

[eventlistener:watcher]
command=%s %s/listener.py %s/heard
events=PROCESS_STATE_EXITED
""" % (sys.executable, tmp_path, tmp_path))
    procs.pv_scan(scan)
    heard = str(tmp_path / "heard")
    wait_until(lambda: "processname:crasher" in (read(heard) or ""), 3 * SHORT_TIMEOUT,
               "the listener to hear crasher exit")
    line = [l for l in read(heard).splitlines() if "processname:crasher" in l][0]
    assert line.startswith("PROCESS_STATE_EXITED ") and "expected:0" in line, line
