"""The supervisor core, shared by pv-run and pv-scan.

states (the names), table (every (phase, event) cell: the decisions),
unit (carries out a table's effects for one service directory), host (what
a unit may ask of the process that hosts it), service and instances (a
directory, its logger and the pipe between them; N instances of one), runner
and scan (the two hosts), loop (the self-pipe event loop), spawn and procs
(starting processes, finding what is left of them), policy, readiness, knobs,
execknobs, needs, notify (the decisions and inputs a unit consults),
supervisedir (the supervisor's side of S/supervise/), init (pv-run --init).
"""
