"""A log directory's ``config`` file, read as svlogd reads it (see pv-logdir(5)).

One setting per line; empty lines and lines starting with ``#`` are ignored,
and so are lines pv-log does not know (svlogd's ``u``/``U`` UDP lines).
"""

DEFAULT_SIZE = 1000000
DEFAULT_NUM = 10
DEFAULT_MIN = 10
_SIZE_UNITS = {"k": 1024, "m": 1024 * 1024}
_TIME_UNITS = {"m": 60, "h": 3600}


class Config:
    """The settings of one log directory."""

    def __init__(self, size=DEFAULT_SIZE, num=DEFAULT_NUM):
        self.size = size          # s: rotate when current would grow past this (0: never)
        self.num = num            # n: keep at most this many rotated files (0: all)
        self.min = DEFAULT_MIN    # N: on ENOSPC delete old files while more than this
        self.timeout = 0          # t: rotate a non-empty current this many seconds old
        self.processor = None     # !: shell command run on each rotated file
        self.prefix = b""         # p: text put before each line (after the stamp)
        self.patterns = []        # [(op, pattern)], op in b"+-eE", in file order
        self.unknown = []         # lines pv-log ignores, for -v

    def plain(self):
        """True when lines pass through unselected and unprefixed (the fast path)."""
        return not self.patterns and not self.prefix


def _number(text, units):
    """svlogd's scan_ulong plus an optional unit letter: '10k' -> 10240."""
    digits = 0
    while digits < len(text) and text[digits].isdigit():
        digits += 1
    value = int(text[:digits]) if digits else 0
    unit = text[digits:digits + 1]
    return value * units.get(unit, 1)


def parse(data, size=DEFAULT_SIZE, num=DEFAULT_NUM):
    """A Config from the bytes of a config file; ``size``/``num`` are -s/-n."""
    config = Config(size, num)
    for raw in data.split(b"\n"):
        _apply(config, raw)
    return config


def _apply(config, raw):
    if not raw or raw.startswith(b"#"):
        return
    op, arg = raw[:1], raw[1:]
    text = arg.decode("latin-1")
    if op in (b"+", b"-", b"e", b"E"):
        config.patterns.append((op, arg))
    elif op == b"s":
        config.size = _number(text, _SIZE_UNITS)
    elif op == b"n":
        config.num = _number(text, {})
    elif op == b"N":
        config.min = _number(text, {})
    elif op == b"t":
        config.timeout = _number(text, _TIME_UNITS)
    elif op == b"!":
        config.processor = text if text else config.processor
    elif op == b"p":
        config.prefix = arg if arg else config.prefix
    else:
        config.unknown.append(raw)
