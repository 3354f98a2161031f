"""Knobs that give a service Supervisor's timing: ``retry-delay`` and ``priority``.

Pure readers, so the numbers in pv-servicedir(5) can be tested without a
process; the supervisor core calls them.

``retry-delay`` paces the restarts after quick deaths in a row:
``linear STEP`` waits k x STEP seconds after the k-th (Supervisor's startretries
backoff is ``linear 1``: 1, 2, 3 s), ``double FIRST CAP`` restarts at once after
the first, then waits FIRST seconds, doubling up to CAP (pv's default,
``double 0.1 5``).

``priority`` is Supervisor's: an integer (default 999); pv-scan starts the
services in ascending order and stops them in descending order, one level
at a time.  It is an order, not a dependency: nothing waits for a service
to be up.
"""

import os

from pv.servicedir import KnobError, read_first_line

RETRY_DELAY, PRIORITY = "retry-delay", "priority"
DEFAULT_PRIORITY = 999


class Pacing:
    """How long to wait before the next start after ``fails`` quick deaths in a row."""

    __slots__ = ("kind", "first", "cap")

    def __init__(self, kind="double", first=0.1, cap=5.0):
        self.kind, self.first, self.cap = kind, first, cap

    def delay(self, fails):
        if fails <= 0:
            return 0.0
        if self.kind == "linear":
            return min(fails * self.first, self.cap)
        if fails == 1:
            return 0.0
        return min(self.first * (2 ** (fails - 2)), self.cap)


DEFAULT_PACING = Pacing()


def _seconds(word):
    try:
        value = float(word)
    except ValueError:
        raise KnobError("retry-delay: not a number of seconds: %r" % word) from None
    if not 0 <= value <= 3600:
        raise KnobError("retry-delay: seconds must be between 0 and 3600")
    return value


def parse_retry_delay(text):
    """The Pacing of a ``retry-delay`` line; KnobError if malformed."""
    words = text.split()
    if len(words) == 2 and words[0] == "linear":
        return Pacing("linear", _seconds(words[1]), 3600.0)
    if len(words) == 3 and words[0] == "double":
        return Pacing("double", _seconds(words[1]), _seconds(words[2]))
    raise KnobError("retry-delay: expected 'linear STEP' or 'double FIRST CAP'")


def read_retry_delay(service):
    text = read_first_line(os.path.join(service, RETRY_DELAY))
    return parse_retry_delay(text) if text else DEFAULT_PACING


def read_priority(service):
    """The ``priority`` of ``service`` (DEFAULT_PRIORITY when absent); KnobError."""
    text = read_first_line(os.path.join(service, PRIORITY))
    if not text:
        return DEFAULT_PRIORITY
    try:
        return int(text)
    except ValueError:
        raise KnobError("priority: not a number: %r" % text) from None


def priority_of(service):
    """``read_priority``, with the default for a bad or unreadable file."""
    try:
        return read_priority(service)
    except (KnobError, OSError):
        return DEFAULT_PRIORITY


def levels(priorities):
    """{name: priority} -> [[names of the lowest priority], [next], ...], names sorted."""
    by_level = {}
    for name, value in priorities.items():
        by_level.setdefault(value, []).append(name)
    return [sorted(by_level[value]) for value in sorted(by_level)]
