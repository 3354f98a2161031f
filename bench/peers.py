"""One small class per supervision suite: start(), pids(), take_down(), stop(), commands.

Every instance lives in its own work directory ``work`` with the scan
directory ``work/sv``; the services themselves are made by the caller.
``start`` runs the suite's scanner in a new session; ``stop`` always ends
with every process of the instance gone (SIGKILL to the group, then a sweep
of whatever still has its cwd or command line under ``work``).
"""

import os
import select
import shutil
import signal
import subprocess
import sys
import time

import procfs

HERE = os.path.dirname(os.path.realpath(__file__))
BIN = os.path.join(os.path.dirname(HERE), "bin")
VENV = os.path.join(HERE, ".venv")
STOP_SECS = 30.0


def quiet(argv, timeout=120):
    """Run a client command; its exit code (output discarded).

    Its end is waited for on a pidfd, not in subprocess's timeout loop: that
    one polls with sleeps doubling up to 50 ms, which rounded every timed
    command up to about 15.5, 31.5, 63.5 or 113.5 ms (a pv-ctl status of
    46 ms read as 64, one of 68 ms as 114).  subprocess.TimeoutExpired, the
    command killed, after ``timeout`` seconds.
    """
    with subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as proc:
        try:
            fd = os.pidfd_open(proc.pid)
        except (AttributeError, OSError):        # before Linux 5.3: the coarse loop
            fd = -1
        try:
            if fd < 0:
                return proc.wait(timeout)
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            if not poller.poll(int(timeout * 1000)):
                raise subprocess.TimeoutExpired(argv, timeout)
            return proc.wait()
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        finally:
            if fd >= 0:
                os.close(fd)


def wait_until(predicate, timeout, interval=0.005):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


class Peer:
    name = "?"
    comms = ()              # names of the supervisor processes below the root
    tools = ()              # executables that must be on PATH
    down_method = restart_method = status_method = pickup_method = ""

    def __init__(self, work):
        self.work = work
        self.scandir = os.path.join(work, "sv")
        self.proc = None
        self.downed = False

    @classmethod
    def missing(cls):
        return [t for t in cls.tools if not shutil.which(t)]

    def dirs(self, names=None):
        names = sorted(os.listdir(self.scandir)) if names is None else names
        return [os.path.join(self.scandir, n) for n in names]

    def start(self):
        log = open(os.path.join(self.work, "supervisor.log"), "wb")
        with log:
            self.proc = subprocess.Popen(self.argv(), cwd=self.work, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log, start_new_session=True)

    def pids(self):
        return procfs.tree(self.proc.pid, self.comms)

    def take_down(self):
        """The idiomatic way to take every service down (timed by the caller)."""
        self.downed = True
        self._take_down()

    def release(self):
        """After take_down: whatever else makes the supervisors exit."""

    def stop(self):
        if self.proc is None:
            return
        tree = self.pids()
        try:
            if not self.downed:
                self.take_down()
            self.release()
            wait_until(lambda: self.proc.poll() is not None, STOP_SECS, 0.02)
            wait_until(lambda: all(procfs.gone(p) for p in tree), STOP_SECS, 0.02)
        finally:
            self._kill()

    def _kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        procfs.sweep(self.work)
        procfs.reap_orphans()

    def restarts(self, name):
        """[(label, argv)]: restart commands; an empty argv means 'signal only, then poll'."""
        return []

    def announce(self, name):
        """argv that makes the scanner take a new entry ``name`` now; None: it finds it alone."""
        return None

    def status_argv(self, names):
        """argv of one status command over ``names``."""
        raise NotImplementedError


class Pv(Peer):
    name = "pv"
    down_method = "SIGTERM to pv-scan"
    pickup_method = "none (inotify)"
    restart_method = "pv-ctl restart NAME (and pv-svc -t -w up)"
    status_method = "pv-ctl status [NAME]"

    def argv(self):
        return [os.path.join(BIN, "pv-scan"), self.scandir]

    def _take_down(self):
        self.proc.send_signal(signal.SIGTERM)

    def restarts(self, name):
        return [("pv-ctl restart", [os.path.join(BIN, "pv-ctl"), "-d", self.scandir,
                                    "restart", name]),
                ("pv-svc -t -w up", [os.path.join(BIN, "pv-svc"), "-t", "-w", "up",
                                     os.path.join(self.scandir, name)])]

    def status_argv(self, names):
        return [os.path.join(BIN, "pv-ctl"), "-d", self.scandir, "status"] + names


class Runit(Peer):
    name = "runit"
    comms = ("runsv",)
    tools = ("runsvdir", "runsv", "sv")
    down_method = "sv down DIR... (one call), then HUP to runsvdir to end the runsv"
    pickup_method = "none (runsvdir looks every 5 s)"
    restart_method = "sv restart DIR (waits)"
    status_method = "sv status DIR..."

    def argv(self):
        return ["runsvdir", self.scandir]

    def _take_down(self):
        quiet(["sv", "down"] + self.dirs())

    def release(self):
        self.proc.send_signal(signal.SIGHUP)    # TERM to every runsv: x, then exit

    def restarts(self, name):
        return [("sv restart", ["sv", "restart", os.path.join(self.scandir, name)])]

    def status_argv(self, names):
        return ["sv", "status"] + self.dirs(names)


class Daemontools(Peer):
    name = "daemontools"
    comms = ("supervise",)
    tools = ("svscan", "supervise", "svc", "svstat")
    down_method = "TERM to svscan, then svc -dx DIR... (one call)"
    pickup_method = "none (svscan looks every 5 s)"
    restart_method = "svc -t DIR, then poll"
    status_method = "svstat DIR..."

    def argv(self):
        return ["svscan", self.scandir]

    def _take_down(self):
        self.proc.send_signal(signal.SIGTERM)   # first, or it restarts the supervise
        quiet(["svc", "-dx"] + self.dirs())

    def restarts(self, name):
        return [("svc -t + poll", ["svc", "-t", os.path.join(self.scandir, name)])]

    def status_argv(self, names):
        return ["svstat"] + self.dirs(names)


class S6(Peer):
    name = "s6"
    comms = ("s6-supervise",)
    tools = ("s6-svscan", "s6-supervise", "s6-svc", "s6-svstat", "s6-svscanctl")
    down_method = "s6-svscanctl -t DIR (s6-svscan TERMs every s6-supervise: down, exit)"
    pickup_method = "s6-svscanctl -a DIR"
    restart_method = "s6-svc -r -wu DIR"
    status_method = "s6-svstat DIR (one per call: a sh loop for 50)"

    def argv(self):
        count = max(1000, 2 * len(os.listdir(self.scandir)))
        return ["s6-svscan", "-c", str(count), self.scandir]

    def _take_down(self):
        quiet(["s6-svscanctl", "-t", self.scandir])

    def announce(self, name):
        return ["s6-svscanctl", "-a", self.scandir]

    def restarts(self, name):
        return [("s6-svc -r -wu", ["s6-svc", "-r", "-wu", os.path.join(self.scandir, name)])]

    def status_argv(self, names):
        dirs = self.dirs(names)
        if len(dirs) == 1:
            return ["s6-svstat"] + dirs
        return ["sh", "-c", 'for d; do s6-svstat "$d"; done', "sh"] + dirs


SUPERVISORD_CONF = """\
[supervisord]
nodaemon=true
logfile={work}/supervisord.log
pidfile={work}/supervisord.pid
childlogdir={work}
minfds={minfds}
[unix_http_server]
file={work}/supervisor.sock
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://{work}/supervisor.sock
"""

SUPERVISORD_PROGRAM = """\
[program:{name}]
command={dir}/run
directory={dir}
startsecs=0
autorestart=true
stdout_logfile=NONE
stderr_logfile=NONE
"""


class Supervisor(Peer):
    name = "supervisor"
    down_method = "supervisorctl shutdown"
    pickup_method = "a [program:NAME] added to the conf, supervisorctl update"
    restart_method = "supervisorctl restart NAME (waits)"
    status_method = "supervisorctl status [NAME]"

    @classmethod
    def missing(cls):
        return [] if os.access(cls.exe("supervisord"), os.X_OK) else ["supervisord"]

    @staticmethod
    def exe(name):
        return os.path.join(VENV, "bin", name)

    def conf(self):
        return os.path.join(self.work, "supervisord.conf")

    def argv(self):
        names = sorted(os.listdir(self.scandir))
        with open(self.conf(), "w") as f:
            f.write(SUPERVISORD_CONF.format(work=self.work, minfds=1024 + 8 * len(names)))
            for name in names:
                f.write(SUPERVISORD_PROGRAM.format(name=name,
                                                   dir=os.path.join(self.scandir, name)))
        return [self.exe("supervisord"), "-c", self.conf()]

    def ctl(self, *args):
        return [self.exe("supervisorctl"), "-c", self.conf()] + list(args)

    def _take_down(self):
        quiet(self.ctl("shutdown"))

    def announce(self, name):
        with open(self.conf(), "a") as f:
            f.write(SUPERVISORD_PROGRAM.format(name=name, dir=os.path.join(self.scandir, name)))
        return self.ctl("update")

    def restarts(self, name):
        return [("supervisorctl restart", self.ctl("restart", name))]

    def status_argv(self, names):
        return self.ctl("status", *names)


PEERS = (Pv, Runit, Daemontools, S6, Supervisor)


def install(log=sys.stdout):
    """Install what is missing (apt as root; supervisor into bench/.venv); notes."""
    apt = [c for c in (Runit, Daemontools, S6) if c.missing()]
    if apt and os.geteuid() == 0 and shutil.which("apt-get"):
        log.write("installing daemontools runit s6 with apt-get...\n")
        quiet(["apt-get", "update"], timeout=600)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "-q", "daemontools", "runit", "s6"],
                       stdout=subprocess.DEVNULL, env=env, timeout=600)
    if Supervisor.missing():
        log.write("installing supervisor into %s...\n" % VENV)
        if not os.path.exists(os.path.join(VENV, "bin", "pip")):
            quiet([sys.executable, "-m", "venv", VENV], timeout=600)
        quiet([os.path.join(VENV, "bin", "pip"), "install", "-q", "supervisor"], timeout=600)
