"""pv-ctl import: supervisord.conf -> service directories.

ini (Supervisor's INI dialect, includes, %(...)s expansion), options (each
program option's value), mapping (options -> knobs and files), plan (one Plan
per program, built before anything is written), write (apply the plans,
changing only what changed).
"""
