"""Signal numbers by name, from the C module ``_signal``.

The ``signal`` module wraps ``_signal`` in IntEnums; importing it (and with
it ``enum``) costs the long-lived pv-scan 0.7 MB for names it can get here.
Everything the supervisors need (``signal``, ``set_wakeup_fd``, the SIG*
numbers) is in ``_signal`` itself, which CPython has had since 3.5.
"""

import _signal as signal  # noqa: F401 - re-exported for the supervisor's modules


def number(name):
    """The number of ``TERM``, ``SIGTERM`` or ``15``; ValueError if there is none."""
    text = name.strip()
    if text.isdigit():
        value = int(text)
        if 0 < value < signal.NSIG:
            return value
        raise ValueError("no such signal: %s" % text)
    upper = text.upper()
    upper = upper if upper.startswith("SIG") else "SIG" + upper
    value = getattr(signal, upper, None)
    if upper.startswith("SIG_") or not isinstance(value, int):
        raise ValueError("no such signal: %s" % text)
    return value
