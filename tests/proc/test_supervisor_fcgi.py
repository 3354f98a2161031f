"""[fcgi-program:x]: one socket, bound once by pv, fd 0 of every instance, kept across restarts."""

import os
import socket
import subprocess
import sys

from support import SHORT_TIMEOUT, pv_import, wait_pid, wait_until

# Accepts on fd 0, as a FastCGI application does; answers with its pid.
SERVER = """\
import os, socket
s = socket.socket(fileno=0)
while True:
    c, _ = s.accept()
    c.sendall(str(os.getpid()).encode())
    c.close()
"""

CONF = """\
[fcgi-program:php]
socket=%(url)s
socket_mode=0660
command=%(python)s %(server)s
process_name=%%(program_name)s_%%(process_num)d
numprocs=2
stdout_logfile=NONE
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask(connect):
    try:
        with connect() as conn:
            conn.settimeout(SHORT_TIMEOUT)
            return int(conn.recv(64).decode())
    except (OSError, ValueError):
        return 0


def imported(tmp_path, url):
    conf, server = str(tmp_path / "supervisord.conf"), str(tmp_path / "server.py")
    with open(server, "w") as f:
        f.write(SERVER)
    with open(conf, "w") as f:
        f.write(CONF % {"url": url, "python": sys.executable, "server": server})
    scan = str(tmp_path / "service")
    pv_import(conf, scan)
    return scan


def test_two_instances_share_one_tcp_socket_across_restarts(procs, tmp_path):
    port = free_port()
    scan = imported(tmp_path, "tcp://127.0.0.1:%d" % port)
    procs.pv_scan(scan, stderr=subprocess.DEVNULL)
    instances = [os.path.join(scan, "php", "instance", str(k)) for k in range(2)]
    pids = {wait_pid(path) for path in instances}
    connect = lambda: socket.create_connection(("127.0.0.1", port), timeout=SHORT_TIMEOUT)  # noqa: E731
    seen = set()
    wait_until(lambda: seen.add(ask(connect)) or seen >= pids, what="both instances to answer")
    assert seen == pids
    first = wait_pid(instances[0])
    os.kill(first, 9)            # a crash: the socket is pv's, so it stays open
    now = {wait_pid(instances[0], not_pid=first), wait_pid(instances[1])}
    assert first not in now
    seen = set()
    wait_until(lambda: seen.add(ask(connect)) or seen >= now, what="both to answer again")
    assert seen == now


def test_a_unix_socket_with_its_mode(procs, tmp_path):
    path = str(tmp_path / "php.sock")
    scan = imported(tmp_path, "unix://" + path)
    proc = procs.pv_scan(scan, stderr=subprocess.DEVNULL)
    wait_pid(os.path.join(scan, "php", "instance", "0"))
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o660)

    def connect():
        conn = socket.socket(socket.AF_UNIX)
        conn.connect(path)
        return conn
    assert wait_until(lambda: ask(connect), what="an answer on the unix socket")
    proc.terminate()
    assert proc.wait(timeout=SHORT_TIMEOUT) == 0
    assert not os.path.exists(path)      # removed with the service
