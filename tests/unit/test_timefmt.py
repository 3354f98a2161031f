"""The -t/-tt/-ttt stamps: exact formats, the per-second cache, round trips."""

import os as _os
import sys as _sys

# tests/conftest.py does this too; kept so this file also runs on its own.
_sys.path.insert(0, _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "..", "..", "lib"))

import time  # noqa: E402

from hypothesis import given, strategies as st  # noqa: E402

from pv import tai64n, timefmt  # noqa: E402

NS = 1_000_000_000
WHEN = 1705079043 * NS + 123456789      # 2024-01-12 17:04:03.123456789 UTC


def test_utc_stamp_is_svlogd_fmt_ptime():
    assert timefmt.Stamper(timefmt.UTC).stamp(WHEN) == b"2024-01-12_17:04:03.12345 "


def test_iso_stamp_uses_T():
    assert timefmt.Stamper(timefmt.ISO8601).stamp(WHEN) == b"2024-01-12T17:04:03.12345 "


def test_tai64n_stamp_is_the_label_plus_space():
    stamp = timefmt.Stamper(timefmt.TAI64N).stamp(WHEN)
    assert stamp == (tai64n.label(WHEN) + " ").encode()
    assert stamp.startswith(b"@40000000")


def test_no_stamp_is_empty():
    assert timefmt.Stamper(timefmt.NONE).stamp(WHEN) == b""


def test_every_stamp_is_26_bytes():
    for kind in (timefmt.TAI64N, timefmt.UTC, timefmt.ISO8601):
        assert len(timefmt.Stamper(kind).stamp(WHEN)) == timefmt.STAMP_LEN[kind] == 26


def test_cache_follows_the_second():
    stamper = timefmt.Stamper(timefmt.UTC)
    assert stamper.stamp(WHEN).startswith(b"2024-01-12_17:04:03.")
    assert stamper.stamp(WHEN + NS).startswith(b"2024-01-12_17:04:04.")
    assert stamper.stamp(WHEN).startswith(b"2024-01-12_17:04:03.")


def test_default_is_now():
    before = time.time()
    secs, _ = timefmt.parse_utc(timefmt.Stamper(timefmt.UTC).stamp().decode())
    assert int(before) <= secs <= time.time() + 1


@given(st.integers(min_value=0, max_value=4_000_000_000 * NS))
def test_stamps_round_trip(when):
    secs, nanos = divmod(when, NS)
    for kind in (timefmt.UTC, timefmt.ISO8601):
        text = timefmt.Stamper(kind).stamp(when).decode()
        assert timefmt.parse_utc(text) == (secs, nanos // 10000 * 10000)
    label = timefmt.Stamper(timefmt.TAI64N).stamp(when).decode()[:25]
    assert tai64n.parse_label(label) == (secs, nanos)
