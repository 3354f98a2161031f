"""Hardening, the pure parts: knob bounds, parsers, the loop's far timers,
the event directory's bounded sweep, names shown escaped (issue 12)."""

import os

import pytest

from pv import servicedir
from pv.servicedir import KnobError
from pv.supervise import execknobs, loop, readiness


def knob(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    return str(tmp_path)


@pytest.mark.parametrize("text,why", [
    ("9" * 400, "at most"), ("-" + "9" * 5000, "at least"), ("2147483648", "at most"),
    ("1_000", "not a number"), ("\u0663", "not a number"), ("1\0", "not a number"),
    ("-1", "at least")], ids=["400-nines", "5000-digits", "2^31", "underscore", "arabic-digit",
                              "nul", "negative"])
def test_number_knobs_refuse_what_would_reach_a_timer_or_int(tmp_path, text, why):
    with pytest.raises(KnobError, match=why):
        servicedir.read_int(knob(tmp_path, "timeout-kill", text), "timeout-kill", 7)


def test_number_knob_bounds_hold_at_the_edges(tmp_path):
    path = knob(tmp_path, "k", "2147483647\n")
    assert servicedir.read_int(path, "k", 7) == 2 ** 31 - 1
    with pytest.raises(KnobError):
        servicedir.read_int(path, "k", 7, maximum=servicedir.MAX_KNOB_SECS)


def test_exit_codes_beyond_a_byte_are_refused(tmp_path):
    with pytest.raises(KnobError):
        servicedir.read_exit_codes(knob(tmp_path, "exit-codes", "0 256"))
    assert servicedir.read_exit_codes(knob(tmp_path, "exit-codes", "0, 255")) == {0, 255}


def test_environment_with_a_nul_byte_is_a_knob_error_naming_the_line():
    with pytest.raises(KnobError, match="line 2: a NUL byte"):
        execknobs.parse_environment("A=1\nB=x\0y\n")


@pytest.mark.parametrize("text", ["ro\0ot", "99999999999999999999", "root:9999999999999"])
def test_hostile_user_is_a_knob_error(tmp_path, text):
    (tmp_path / "user").write_bytes(text.encode())
    with pytest.raises(KnobError):
        execknobs.read_exec(str(tmp_path))


def test_limits_beyond_rlim_t_are_refused():
    with pytest.raises(KnobError):
        execknobs.parse_limits("nofile 99999999999999999999999\n")


@pytest.mark.parametrize("text", ["99999999999", "65536", "2", "\u0665"])
def test_notification_fd_out_of_range_is_refused(tmp_path, text):
    with pytest.raises(KnobError):
        readiness.method(knob(tmp_path, "notification-fd", text))


def test_on_fatal_with_a_nul_byte_is_the_default(tmp_path):
    assert servicedir.read_on_fatal(knob(tmp_path, "on-fatal", "/bin/x\0y")) == "down"


def test_printable_escapes_control_characters():
    assert servicedir.printable("a\nb\rc\x1b[31m") == "a\\nb\\rc\\x1b[31m"
    assert servicedir.printable("caf\u00e9 \U0001f600") == "caf\u00e9 \U0001f600"


def test_a_timer_25_days_away_does_not_break_the_wait():
    lp = loop.Loop()
    try:
        r, w = os.pipe()
        fired = []
        lp.add_reader(r, lambda: fired.append(os.read(r, 1)))
        lp.call_later(10 ** 10, lambda: fired.append("far"))
        os.write(w, b"x")
        lp.run_once()             # epoll_wait/poll with a 10^10 s timeout raised OverflowError
        assert fired == [b"x"]
        lp.call_later(float("nan"), lambda: fired.append("nan"))
        lp.run_once()             # NaN counts as "now", never as "never"
        assert fired == [b"x", "nan"]
        os.close(r)
        os.close(w)
    finally:
        lp.close()
