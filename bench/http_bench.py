#!/usr/bin/env python3
"""pv-http against supervisord, side by side in one run (by hand; Linux only).

    python3 bench/http_bench.py [--n 100] [--big 1000] [--reps 10] [--idle 10]

1. ``supervisorctl status`` for N running services: through pv-http (over a
   pv-scan) and through supervisord (N programs), median wall time of a
   whole supervisorctl run, and of the getAllProcessInfo call alone.
2. getAllProcessInfo for BIG services (supervised, down: no processes),
   pv-http against supervisord with BIG programs not started.
3. pv-http's PSS and its wake-ups (voluntary context switches, all threads)
   over IDLE seconds with no client.
"""

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import xmlrpc.client

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import procfs  # noqa: E402

SD_HEAD = """[unix_http_server]
file = {w}/sd.sock
[supervisord]
logfile = {w}/sd.log
pidfile = {w}/sd.pid
childlogdir = {w}
nodaemon = true
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
"""
SD_PROGRAM = "[program:s%04d]\ncommand = sleep 1000000\nstartsecs = 0\nautostart = %s\n"


def wait_for(predicate, secs, what):
    deadline = time.monotonic() + secs
    delay = 0.01
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("bench: timed out waiting for %s" % what)
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def make_scan(work, count, down):
    scan = os.path.join(work, "D")
    os.makedirs(scan)
    for k in range(count):
        d = os.path.join(scan, "s%04d" % k)
        os.mkdir(d)
        with open(os.path.join(d, "run"), "w") as f:
            f.write("#!/bin/sh\nexec sleep 1000000\n")
        os.chmod(os.path.join(d, "run"), 0o755)
        if down:
            open(os.path.join(d, "down"), "w").close()
    return scan


def rpc_raw(path, method):
    """The response body, unparsed: the server's share of a call."""
    conn = http.client.HTTPConnection("localhost", timeout=120)
    conn.sock = socket.socket(socket.AF_UNIX)
    conn.sock.connect(path)
    conn.request("POST", "/RPC2", xmlrpc.client.dumps((), method).encode(),
                 {"Content-Type": "text/xml"})
    return conn.getresponse().read()


def rpc(path, method):
    return xmlrpc.client.loads(rpc_raw(path, method))[0][0]


def timed(function, reps):
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def start_pv(work, scan, procs):
    procs.append(subprocess.Popen([sys.executable, os.path.join(TOP, "bin", "pv-scan"), scan],
                                  start_new_session=True, stderr=subprocess.DEVNULL))
    sock = os.path.join(work, "pv.sock")
    procs.append(subprocess.Popen([sys.executable, os.path.join(TOP, "bin", "pv-http"), "-d",
                                   scan, "--listen", "unix:" + sock], start_new_session=True))
    return sock, procs[-1].pid


def start_sd(work, count, autostart, procs):
    conf = os.path.join(work, "sd.conf")
    with open(conf, "w") as f:
        f.write(SD_HEAD.format(w=work))
        for k in range(count):
            f.write(SD_PROGRAM % (k, "true" if autostart else "false"))
    procs.append(subprocess.Popen([sys.executable, "-m", "supervisor.supervisord", "-c", conf],
                                  start_new_session=True, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL))
    return os.path.join(work, "sd.sock")


def all_state(sock, statename, count):
    def check():
        try:
            infos = rpc(sock, "supervisor.getAllProcessInfo")
        except (OSError, xmlrpc.client.Error, http.client.HTTPException):
            return False
        return len(infos) == count and all(i["statename"] == statename for i in infos)
    return check


def ctl_status(sock):
    return lambda: subprocess.run([sys.executable, "-m", "supervisor.supervisorctl", "-s",
                                   "unix://" + sock, "status"], stdout=subprocess.DEVNULL)


def part_status(root, n, reps, procs):
    work = tempfile.mkdtemp(dir=root)
    pv_sock, _ = start_pv(work, make_scan(work, n, False), procs)
    sd_sock = start_sd(work, n, True, procs)
    wait_for(all_state(pv_sock, "RUNNING", n), 120, "pv to run %d services" % n)
    wait_for(all_state(sd_sock, "RUNNING", n), 120, "supervisord to run %d programs" % n)
    rows = []
    def all_info(sock):
        return lambda: rpc(sock, "supervisor.getAllProcessInfo")
    for what, make in (("supervisorctl status", ctl_status), ("getAllProcessInfo", all_info)):
        pv, sd = timed(make(pv_sock), reps), timed(make(sd_sock), reps)
        rows.append("%-34s %9.1f ms %9.1f ms   %5.2fx" % ("%s, %d running" % (what, n),
                                                           pv * 1e3, sd * 1e3, sd / pv))
    return rows


def part_big(root, big, reps, procs):
    work = tempfile.mkdtemp(dir=root)
    pv_sock, pv_pid = start_pv(work, make_scan(work, big, True), procs)
    sd_sock = start_sd(work, big, False, procs)
    wait_for(all_state(pv_sock, "STOPPED", big), 300, "pv to supervise %d services" % big)
    wait_for(all_state(sd_sock, "STOPPED", big), 300, "supervisord to load %d programs" % big)
    call = "supervisor.getAllProcessInfo"
    rows = []
    for what, function in (("getAllProcessInfo, %d down" % big, rpc),
                           ("  the same, body only (no parse)", rpc_raw)):
        pv = timed(lambda: function(pv_sock, call), reps)
        sd = timed(lambda: function(sd_sock, call), reps)
        rows.append("%-34s %9.1f ms %9.1f ms   %5.2fx" % (what, pv * 1e3, sd * 1e3, sd / pv))
    return rows, pv_pid


def part_idle(pid, secs):
    _, pss = procfs.memory([pid])
    before = procfs.usage([pid])[2]
    time.sleep(secs)    # the measurement itself: nothing talks to pv-http meanwhile
    after = procfs.usage([pid])[2]
    return ["pv-http PSS %d KiB; idle wake-ups %.2f/s over %d s (goal 0/s)"
            % (pss, (after - before) / secs, secs)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--big", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--idle", type=int, default=10)
    args = parser.parse_args()
    procfs.become_subreaper()
    root = tempfile.mkdtemp(prefix="pv-http-bench-")
    procs = []
    try:
        lines = ["%-34s %12s %12s   %s" % ("", "pv-http", "supervisord", "sd/pv")]
        lines += part_status(root, args.n, args.reps, procs)
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)
        procs.clear()
        big, pid = part_big(root, args.big, args.reps, procs)
        lines += big
        lines += part_idle(pid, args.idle)
        print("\n".join(lines))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
        procfs.sweep(root)
        import shutil
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
