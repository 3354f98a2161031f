"""pv-ctl import: supervisord.conf (or a Procfile) -> service directories.

ini (Supervisor's INI dialect, includes, %(...)s expansion), options (each
program option's value, start-time expansions as markers), mapping (options
-> knobs and the environment), logs (the *_logfile options -> redirections,
log/, log-stderr/, links), plan (one Plan per program, built before anything
is written), write (apply the plans, changing only what changed); procfile
(a Procfile and its .env -> Plans, foreman's way).
"""
