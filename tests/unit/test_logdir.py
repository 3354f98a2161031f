"""The log-directory contract: config lines, patterns, names, tails after a crash."""

import os as _os
import sys as _sys

# tests/conftest.py does this too; kept so this file also runs on its own.
_sys.path.insert(0, _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "..", "..", "lib"))

import os  # noqa: E402

import pytest  # noqa: E402

from pv.log import config as logconfig  # noqa: E402
from pv.log import crash, logdir
from pv.log import match as logmatch
from pv.log.logdir import LogDir  # noqa: E402


# -- config -------------------------------------------------------------------
def test_defaults_are_svlogds():
    c = logconfig.parse(b"")
    assert (c.size, c.num, c.min, c.timeout, c.processor) == (1000000, 10, 10, 0, None)
    assert c.plain()


def test_every_line_kind():
    c = logconfig.parse(b"# comment\n\ns4096\nn5\nN2\nt60\n!gzip -9\n"
                        b"-*debug*\n+*debug: keep*\ne*fatal*\nE*fatal: boring*\npPFX \nu1.2.3.4\n")
    assert (c.size, c.num, c.min, c.timeout, c.processor) == (4096, 5, 2, 60, "gzip -9")
    assert c.patterns == [(b"-", b"*debug*"), (b"+", b"*debug: keep*"),
                          (b"e", b"*fatal*"), (b"E", b"*fatal: boring*")]
    assert c.prefix == b"PFX "
    assert c.unknown == [b"u1.2.3.4"]
    assert not c.plain()


def test_units():
    c = logconfig.parse(b"s10k\nt2m\n")
    assert (c.size, c.timeout) == (10240, 120)
    c = logconfig.parse(b"s1m\nt1h\n")
    assert (c.size, c.timeout) == (1048576, 3600)


def test_option_defaults_yield_to_config():
    assert logconfig.parse(b"", 5000, 3).size == 5000
    assert logconfig.parse(b"s7000\n", 5000, 3).size == 7000
    assert logconfig.parse(b"", 5000, 3).num == 3


# -- patterns (the examples of svlogd(8)) --------------------------------------
MSG = b"tcpsvd: info: pid 1977 from 10.4.1.14"


@pytest.mark.parametrize("pattern,matches", [
    (b"*pid*", False),               # svlogd(8): the first star stops at the first p
    (b"*: *: pid *", True),
    (b"tcpsvd: *", True),
    (b"*", True),
    (b"tcpsvd", False),
    (b"tcpsvd: info: pid 1977 from 10.4.1.14", True),
    (b"t+c*", True),
    (b"x*", False),
])
def test_pmatch(pattern, matches):
    assert logmatch.pmatch(pattern, MSG) is matches


def test_plus_matches_runs():
    assert logmatch.pmatch(b"a+bc", b"abbbc")
    assert not logmatch.pmatch(b"a+bc", b"ac")


def test_decide_applies_lines_in_order():
    pats = [(b"-", b"*"), (b"+", b"keep*"), (b"e", b"*err*")]
    assert logmatch.decide(pats, b"keep this") == (True, False)
    assert logmatch.decide(pats, b"drop err") == (False, True)


def test_replace_table_keeps_newline():
    table = logmatch.replace_table(ord("?"), b"x")
    assert b"a\x00b\xffx\n".translate(table) == b"a?b??\n"
    assert logmatch.replace_table(None, b"") is None


def test_selector_prefix_stamp_and_stderr():
    c = logconfig.parse(b"-*skip*\ne*err*\npP:\n")
    out, err = logmatch.Selector(c, 5).render(b"a\nskip\nerr long\npart", b"S ", False)
    assert out == b"S P:a\nS P:err long\nS P:part"
    assert err == b"S P:err l...\n"


# -- names --------------------------------------------------------------------
def test_rotated_names():
    name = logdir.rotated_name(1705079043123456789, "s")
    assert len(name) == 27 and name.startswith("@4000000065a1") and name.endswith(".s")
    assert logdir.is_rotated(name)
    assert not logdir.is_rotated("current")


# -- opening after a crash -------------------------------------------------------
def opened(tmp_path, current, mark, tee=True, mode=0o644):
    (tmp_path / "current").write_bytes(current)
    os.chmod(tmp_path / "current", mode)
    (tmp_path / "lock").write_bytes(mark)
    d = LogDir(str(tmp_path), lambda verb, obj, fn: fn(), lambda *a: None)
    d.open(tee)
    return d


def test_torn_tail_from_tee_mode_is_dropped(tmp_path):
    d = opened(tmp_path, b"a\nb\ntor", crash.MARK_TEE)
    assert d.size == 4 and not d.midline
    d.close()
    assert (tmp_path / "current").read_bytes() == b"a\nb\n"


def test_long_line_in_progress_is_continued(tmp_path):
    d = opened(tmp_path, b"a\nhalf of a long", crash.MARK_LINE)
    assert d.midline and d.size == 16
    assert (tmp_path / "lock").read_bytes() == crash.MARK_LINE


def test_torn_tail_of_another_writer_is_ended(tmp_path):
    d = opened(tmp_path, b"a\nsvlogd's", b"")
    assert d.size == 11 and not d.midline
    d.close()
    assert (tmp_path / "current").read_bytes() == b"a\nsvlogd's\n"


def test_unclean_current_rotates_as_u(tmp_path):
    d = opened(tmp_path, b"a\n", b"", mode=0o644)
    assert d.unclean
    assert d.rotate().endswith(".u")
    assert d.rotate() is None          # empty current: nothing to rotate
    d.write(b"b\n")
    assert d.rotate().endswith(".s")


def test_clean_current_is_appended(tmp_path):
    d = opened(tmp_path, b"a\n", b"", mode=0o744)
    assert not d.unclean and d.size == 2
    assert os.stat(tmp_path / "current").st_mode & 0o777 == 0o644


def test_remove_oldest_counts_s_and_u_and_drops_t(tmp_path):
    for i, suffix in enumerate("sust"):
        (tmp_path / logdir.rotated_name((1700000000 + i) * 10**9, suffix)).write_bytes(b"x")
    (tmp_path / "config").write_bytes(b"n2\n")
    d = opened(tmp_path, b"", b"")
    gone = d.remove_oldest()
    assert gone == logdir.rotated_name(1700000000 * 10**9, "s")
    assert [n[-1] for n in d.rotated()] == ["u", "s"]
