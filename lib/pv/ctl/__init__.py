"""pv-ctl's verbs as library calls over a scan directory (no printing here).

names (NAME, GROUP:*, globs, all -> targets), status (rows, the table, JSON,
check), ops (send letters and wait), tail (a log directory read across
rotation), add (make and delete service directories), reread (config
digests), shell (the interactive loop).
"""
