"""A service directory's knob files as one Unit reads them, with defaults.

A knob file that is bad (or unreadable) is reported through ``warn`` and its
default used: one mistake in one file never stops a service from being
supervised.  Read afresh each time, so an edit takes effect at the next
start or stop.

A start reads some twenty knobs, most of them absent: ``listed()`` lists the
directory once for the start, and a knob not in that listing is taken as
absent without an open(2) that would fail.  A knob made after the listing
counts from the next start, as one made just after the start would.
"""

import os

from pv import servicedir
from pv.supervise import policy
from pv.supervise import readiness, supknobs
from pv.signames import signal

# Variables that address the supervisor's own manager, never the service.
PRIVATE_VARS = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID",
                "LISTEN_FDNAMES")


READINESS_FILES = (servicedir.NOTIFICATION_FD, servicedir.SD_NOTIFY, servicedir.CHECK)


class Knobs:
    __slots__ = ("path", "warn", "present")

    def __init__(self, path, warn):
        self.path = path
        self.warn = warn
        self.present = None     # the names in path, while a start uses a listing

    def listed(self):
        """Use one listing of the directory until ``unlisted()``; the names, or
        None if it cannot be listed (then every knob is opened as usual)."""
        try:
            self.present = frozenset(os.listdir(self.path))
        except OSError:
            self.present = None
        return self.present

    def unlisted(self):
        self.present = None

    def absent(self, *names):
        """True if the listing in use shows none of ``names``."""
        return self.present is not None and self.present.isdisjoint(names)

    def read(self, reader, args, default):
        """Read one knob; a bad one is reported and its default used."""
        try:
            return reader(*args)
        except (servicedir.KnobError, OSError) as exc:
            if isinstance(exc, OSError):
                self.warn("unable to read %s: %s" % (servicedir.printable(str(exc.filename)),
                                                    exc.strerror))
            else:
                self.warn("bad knob %s" % (exc,))
            return default

    def number(self, name, default, maximum=servicedir.MAX_KNOB_COUNT):
        if self.absent(name):
            return default
        return self.read(servicedir.read_int, (self.path, name, default, 0, maximum), default)

    def millis(self, name, default):
        """A knob in ms, as seconds: never a timer further away than poll(2) can wait."""
        return self.number(name, default, servicedir.MAX_KNOB_MS) / 1000.0

    def seconds(self, name, default):
        return self.number(name, default, servicedir.MAX_KNOB_SECS)

    def policy(self):
        start_secs = self.seconds(servicedir.START_SECS, None)
        restart, exit_codes, pacing = "always", frozenset([0]), supknobs.DEFAULT_PACING
        if not self.absent(servicedir.RESTART):
            restart = self.read(servicedir.read_restart, (self.path,), "always")
        if not self.absent(servicedir.EXIT_CODES):
            exit_codes = self.read(servicedir.read_exit_codes, (self.path,), frozenset([0]))
        if not self.absent(supknobs.RETRY_DELAY):
            pacing = self.read(supknobs.read_retry_delay, (self.path,), None)
        return policy.Policy(
            restart=restart, exit_codes=exit_codes, start_secs=start_secs or 0,
            max_retries=self.number(servicedir.MAX_RETRIES, None),
            start_secs_given=start_secs is not None, pacing=pacing)

    def down_signal(self):
        return self.read(servicedir.read_signal,
                         (self.path, servicedir.DOWN_SIGNAL, signal.SIGTERM), signal.SIGTERM)

    def kill_timeout_secs(self):
        """timeout-kill in seconds; 0 means never escalate to SIGKILL."""
        return self.millis(servicedir.TIMEOUT_KILL, servicedir.DEFAULT_TIMEOUT_KILL_MS)

    def finish_timeout_secs(self):
        return self.millis(servicedir.TIMEOUT_FINISH, servicedir.DEFAULT_TIMEOUT_FINISH_MS)

    def start_timeout_secs(self):
        return self.seconds(servicedir.START_TIMEOUT, 0)

    def readiness_method(self):
        if self.absent(*READINESS_FILES):
            return "", None
        return self.read(readiness.method, (self.path,), ("", None))

    def environment(self, exec_spec, marker, instance, base):
        """The run's environment: ``base`` (ours less PRIVATE_VARS, made once
        by the host), then the user's HOME etc. and the environment file,
        then env/, then the marker and PV_INSTANCE."""
        env = dict(base)
        env.update(exec_spec.env)
        try:
            if not self.absent(servicedir.ENVDIR):
                env = servicedir.apply_env(env, servicedir.read_envdir(
                    os.path.join(self.path, servicedir.ENVDIR)))
        except OSError as exc:
            self.warn("unable to read env/: %s" % (exc.strerror or exc))
        name, _, value = marker.decode().partition("=")
        env[name] = value
        if instance is not None:
            env[servicedir.INSTANCE_VAR] = str(instance)
        return self._exec_safe(env)

    def _exec_safe(self, env):
        """``env`` without what execve cannot take (a NUL byte, '=' in a name):
        the parsers refuse those already; this is the guard at the os.* call."""
        bad = [k for k, v in env.items() if not k or "=" in k or "\0" in k or "\0" in v]
        for name in bad:
            self.warn("bad knob environment: variable %s dropped"
                      % servicedir.printable(name[:40]))
            del env[name]
        return env


def base_environment():
    """Our environment less PRIVATE_VARS: what every run starts from."""
    return {k: v for k, v in os.environ.items() if k not in PRIVATE_VARS}
