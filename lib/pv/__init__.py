"""pv: process supervision in the daemontools tradition.

The map is lib/pv/README: where a command, a transition, a knob, a wire
format and a message live, which imports are kept inside functions and why,
and which modules the supervisors may hold.  In short:

    pv/*.py       the contract and the wire, shared by every command (diag,
                  servicedir, control, status, wait, tai64n, timefmt, ...)
    supervise/    the core of pv-run and pv-scan (a namespace package: it
                  has no __init__.py)
    log/          pv-log
    ctl/          pv-ctl's verbs as library calls
    importer/     supervisord.conf -> service directories
    cmd/          one module per command; the only code that prints or exits

Imports point from cmd/ to the packages to pv/*.py, never back, and form no
cycle (tests/docs/test_imports.py).
"""

__version__ = "0.1.0"
