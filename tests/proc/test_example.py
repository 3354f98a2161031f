"""The README's first command: pv-scan on the bundled example stack."""

import os
import shutil
import socket
import subprocess
import urllib.request

from support import BIN, TOP, bin_path, read, wait_until, LONG_TIMEOUT


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_example_stack_serves_and_logs(procs, tmp_path):
    stack = str(tmp_path / "stack")
    shutil.copytree(os.path.join(TOP, "examples", "stack"), stack,
                    ignore=shutil.ignore_patterns("supervise", "main", ".pv-scan", "instance"))
    port = free_port()
    with open(os.path.join(stack, "web", "env", "PORT"), "w") as f:
        f.write("%d\n" % port)
    for name in ("web", "worker"):
        run = os.path.join(stack, name, "log", "run")
        text = read(run).replace("../../../../bin/pv-log", os.path.join(BIN, "pv-log"))
        with open(run, "w") as f:
            f.write(text)
    worker = os.path.join(stack, "worker", "run")
    with open(worker, "w") as f:
        f.write(read(os.path.join(TOP, "examples", "stack", "worker", "run"))
                .replace("8731", str(port)))
    procs.pv_scan(stack)

    def answered():
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=2) as r:
                return b"served by pv" in r.read()
        except OSError:
            return False
    wait_until(answered, LONG_TIMEOUT, "the example web server")
    current = os.path.join(stack, "worker", "log", "main", "current")
    wait_until(lambda: "web answered 200" in (read(current) or ""), LONG_TIMEOUT,
               "the worker's log line")
    out = subprocess.run([bin_path("pv-ctl"), "-d", stack, "status"], timeout=20,
                         stdout=subprocess.PIPE, universal_newlines=True)
    assert out.returncode == 0
    assert [line.split()[:2] for line in out.stdout.splitlines()] == [
        ["web", "running"], ["worker", "running"]]
