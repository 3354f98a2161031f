"""One line of JSON, written and read without the json module.

``supervise/state`` is JSON so that any tool can read it; but the json
module pulls in ``re`` and ``enum``, 1.2 MB that the long-lived pv-scan would
carry for one small record.  This codec covers what JSON can hold; the tests
check it against the json module.
"""

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t",
            "\b": "\\b", "\f": "\\f"}
_UNESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
              "t": "\t"}
_WORDS = {"true": True, "false": False, "null": None}


def _quote(text):
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch < " ":
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def dumps(value):
    """Compact JSON text for ``value`` (dict keys sorted); TypeError for other types."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("not representable in JSON: %r" % value)
        return repr(value) if isinstance(value, float) else str(int(value))
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(_quote(k) + ":" + dumps(v) for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    raise TypeError("cannot write %s as JSON" % type(value).__name__)


class _Reader:
    def __init__(self, text):
        self.text, self.pos = text, 0

    def fail(self, what):
        raise ValueError("bad JSON at offset %d: %s" % (self.pos, what))

    def skip(self):
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def peek(self):
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, ch):
        if self.peek() != ch:
            self.fail("expected %r" % ch)
        self.pos += 1

    def value(self):
        ch = self.peek()
        if ch == "{":
            return self.sequence("}", self.member, dict)
        if ch == "[":
            return self.sequence("]", self.value, list)
        if ch == '"':
            return self.string()
        for word, result in _WORDS.items():
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return result
        return self.number()

    def sequence(self, close, item, kind):
        self.pos += 1
        items = []
        if self.peek() == close:
            self.pos += 1
            return kind(items)
        while True:
            items.append(item())
            if self.peek() == close:
                self.pos += 1
                return kind(items)
            self.expect(",")

    def member(self):
        if self.peek() != '"':
            self.fail("expected a key")
        key = self.string()
        self.expect(":")
        return key, self.value()

    def string(self):
        self.pos += 1
        out, text = [], self.text
        while True:
            end = self.pos
            while end < len(text) and text[end] not in '"\\':
                end += 1
            if end >= len(text):
                self.fail("unterminated string")
            out.append(text[self.pos:end])
            self.pos = end + 1
            if text[end] == '"':
                return "".join(out)
            out.append(self.escape())

    def escape(self):
        ch = self.text[self.pos:self.pos + 1]
        self.pos += 1
        if ch in _UNESCAPES:
            return _UNESCAPES[ch]
        if ch != "u":
            self.fail("bad escape")
        code = int(self.text[self.pos:self.pos + 4], 16)
        self.pos += 4
        if 0xD800 <= code < 0xDC00 and self.text.startswith("\\u", self.pos):
            low = int(self.text[self.pos + 2:self.pos + 6], 16)
            self.pos += 6
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        return chr(code)

    def number(self):
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in "+-0123456789.eE":
            self.pos += 1
        token = self.text[start:self.pos]
        if not token:
            self.fail("expected a value")
        if any(c in token for c in ".eE"):
            return float(token)
        return int(token)


def loads(text):
    """The value in ``text``; ValueError if it is not one JSON value."""
    reader = _Reader(text)
    try:
        value = reader.value()
    except (IndexError, ValueError) as exc:
        raise ValueError(str(exc)) from None
    if reader.peek():
        reader.fail("trailing data")
    return value
