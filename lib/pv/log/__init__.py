"""pv-log: read stdin, write svlogd-compatible log directories.

pump (the read/stamp/write loop and its options), source (stdin, with tee(2)
so nothing is consumed before it is written), logdir (current, rotation,
lock, state), config (a log directory's config file), match (+/-/e/E
patterns), processor (the ! processor at rotation), waiter (signals, back-off).
"""
