"""pv-log: read stdin, write svlogd-compatible log directories.

pump (the read/stamp/write loop and its options), writer (one piece to
every directory, then consumed), render (stamps and selection, and the way
back to the input), source (stdin, with tee(2) so nothing is consumed before
it is written), journal (so that a kill repeats nothing), logdir (current,
rotation, lock, state), crash (the lock's word and current's tail after a
kill), config (a log directory's config file), match (+/-/e/E patterns),
processor (the ! processor at rotation), waiter (signals, back-off).
"""
