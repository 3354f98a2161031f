"""Restart policy: when a run that ended is started again, and how soon.

Pure functions over numbers, so the numbers in pv-servicedir(5) can be
tested without a process.
"""

QUICK_DEATH_SECS = 1.0    # a run that lived less than this (or start-secs) failed to start
BACKOFF_FIRST_SECS = 0.1  # the delay after the second quick death in a row
BACKOFF_CAP_SECS = 5.0    # delays double up to this


class Policy:
    """The knobs that decide restarts, read afresh at each start."""

    __slots__ = ("restart", "exit_codes", "start_secs", "max_retries", "start_secs_given",
                 "pacing")

    def __init__(self, restart="always", exit_codes=frozenset([0]), start_secs=0.0,
                 max_retries=None, start_secs_given=False, pacing=None):
        self.restart = restart            # always | on-failure | never
        self.exit_codes = exit_codes      # codes that count as success
        self.start_secs = start_secs
        self.max_retries = max_retries    # None: never give up
        # A start-secs file written out: it alone says what a failed start is
        # (0: none is), and a failed start is retried whatever ``restart``
        # says, as Supervisor retries startretries times before FATAL.
        self.start_secs_given = start_secs_given
        self.pacing = pacing              # supknobs.Pacing (retry-delay), None: pv's own


def succeeded(policy, code, signum):
    """Whether a run that ended with ``code`` (or was killed by ``signum``) succeeded."""
    return signum is None and code in policy.exit_codes


def wants_restart(policy, code, signum):
    """Whether the restart knob asks for a new run after this ending."""
    if policy.restart == "never":
        return False
    if policy.restart == "on-failure":
        return not succeeded(policy, code, signum)
    return True


def is_quick_death(policy, uptime):
    """A run that ended this soon counts as a failed start."""
    if policy.start_secs_given:
        return uptime < policy.start_secs
    return uptime < max(policy.start_secs, QUICK_DEATH_SECS)


def backoff_delay(fails, pacing=None):
    """Seconds to wait before the next start after ``fails`` quick deaths in a row.

    The first respawn is immediate; then 0.1 s, doubling, capped at 5 s --
    unless ``pacing`` (the retry-delay knob) says otherwise.
    """
    if pacing is not None:
        return pacing.delay(fails)
    if fails <= 1:
        return 0.0
    return min(BACKOFF_FIRST_SECS * (2 ** (fails - 2)), BACKOFF_CAP_SECS)


def retries_failed_start(policy, fails):
    """A failed start (``fails`` > 0) under a written-out start-secs is retried
    whatever ``restart`` says."""
    return fails > 0 and policy.start_secs_given


def gives_up(policy, fails):
    """True when ``fails`` failed starts in a row exhaust ``max-retries``."""
    return policy.max_retries is not None and fails > policy.max_retries
