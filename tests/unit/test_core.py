"""Pure parts of the supervisor: formats, parsers, the restart policy."""

import os
import signal
import struct

import pytest

from pv import layout, servicedir, tai64n
from pv.supervise import policy
from pv.supervise import procs
from pv.supervise.states import RUNIT_STATE, Phase, shown
from pv.status import RunitStatus, State
from pv.supervise import table


def test_tai64n_round_trip_and_label():
    assert tai64n.pack(0, 0).hex() == "400000000000000a00000000"
    assert tai64n.unpack(tai64n.pack(1700000000, 123456789)) == (1700000000, 123456789)
    label = tai64n.label(1700000000 * 10**9 + 5)
    assert label == "@400000006553f10a00000005"
    assert tai64n.parse_label(label) == (1700000000, 5)
    with pytest.raises(ValueError):
        tai64n.parse_label("@nothex")


def test_runit_status_layout():
    rec = RunitStatus(1700000000 * 10**9 + 7, 0x01020304, True, True, False, 1)
    data = rec.pack()
    assert len(data) == 20
    assert data[:12] == tai64n.pack(1700000000, 7)
    assert data[12:16] == bytes([4, 3, 2, 1])          # little-endian pid
    assert data[16:] == b"\x01u\x00\x01"
    assert RunitStatus.unpack(data) == rec
    with pytest.raises(ValueError):
        RunitStatus.unpack(data[:18])


def test_daemontools_reads_the_first_18_bytes_the_same():
    data = RunitStatus(10**18, 4242, False, False, True, 0).pack()
    secs, nano = struct.unpack(">QL", data[:12])
    assert secs - tai64n.TAI_OFFSET == 10**9 and nano == 0
    assert struct.unpack("<L", data[12:16])[0] == 4242
    assert data[16:18] == b"\x00d"


@pytest.mark.parametrize("state,paused,term,want,text", [
    (1, False, False, "up", "run\n"),
    (1, True, True, "down", "run, paused, got TERM, want down\n"),
    (0, False, False, "down", "down\n"),
    (2, False, False, "exit", "finish, want exit\n"),
    (1, False, False, "once", "run, want down\n"),
])
def test_stat_text(state, paused, term, want, text):
    assert RunitStatus(0, 1, paused, want == "up", term, state).stat_text(want) == text


def test_state_json_round_trip_keeps_unknown_keys():
    rec = State(state="backoff", pid=0, fails=3, next_try=12.5, extra={"future": 1})
    line = rec.to_json()
    assert line.endswith("\n") and "\n" not in line[:-1]
    back = State.from_json(line)
    assert back == rec


def test_every_phase_maps_to_a_runit_state():
    assert set(RUNIT_STATE) == set(Phase.ALL)
    assert shown(Phase.CLEANUP) == "stopping" and shown(Phase.READY) == "ready"


def test_table_only_names_real_rules():
    for row in table.GRID.values():
        assert all(callable(rule) for rule in row)


def test_backoff_numbers():
    delays = [policy.backoff_delay(n) for n in range(1, 10)]
    assert delays[:3] == [0.0, 0.1, 0.2]
    assert delays[-1] == policy.BACKOFF_CAP_SECS == 5.0
    assert all(a <= b for a, b in zip(delays, delays[1:]))


def test_restart_policy():
    always, on_failure = policy.Policy(), policy.Policy(restart="on-failure",
                                                        exit_codes=frozenset([0, 3]))
    assert policy.wants_restart(always, 0, None)
    assert not policy.wants_restart(on_failure, 3, None)
    assert policy.wants_restart(on_failure, 1, None)
    assert policy.wants_restart(on_failure, None, signal.SIGKILL)
    assert not policy.wants_restart(policy.Policy(restart="never"), 1, None)
    assert policy.is_quick_death(always, 0.5) and not policy.is_quick_death(always, 1.5)
    assert policy.is_quick_death(policy.Policy(start_secs=5), 3)
    limited = policy.Policy(max_retries=2)
    assert not policy.gives_up(limited, 2) and policy.gives_up(limited, 3)
    assert not policy.gives_up(always, 1000)


def test_parse_stat_with_odd_command_names():
    data = b"123 (a) b (c)) S 1 123 123 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 999 0 0"
    proc = procs.parse_stat(data)
    assert (proc.pid, proc.ppid, proc.pgid, proc.sid, proc.start) == (123, 1, 123, 123, 999)
    assert not proc.zombie


def test_descendants():
    P = procs.Proc
    table = {1: P(1, 0, 1, 1, 0, False), 2: P(2, 1, 2, 2, 0, False),
             3: P(3, 2, 3, 3, 0, False), 4: P(4, 1, 4, 4, 0, False)}
    assert procs.with_descendants(table, [2]) == {2, 3}


def test_parse_signal():
    assert servicedir.parse_signal("TERM") == signal.SIGTERM
    assert servicedir.parse_signal("sigusr1") == signal.SIGUSR1
    assert servicedir.parse_signal("9") == 9
    for bad in ("NOPE", "0", "999", ""):
        with pytest.raises(ValueError):
            servicedir.parse_signal(bad)


def test_envdir(tmp_path):
    (tmp_path / "A").write_bytes(b"one  \t\ntwo\n")
    (tmp_path / "B").write_bytes(b"")
    (tmp_path / "C").write_bytes(b"x\0y")
    (tmp_path / ".hidden").write_bytes(b"no")
    changes = servicedir.read_envdir(str(tmp_path))
    assert changes == {"A": "one", "B": None, "C": "x\ny"}
    assert servicedir.apply_env({"B": "old", "D": "d"}, changes) == {"A": "one", "C": "x\ny",
                                                                     "D": "d"}


def test_knob_readers(tmp_path):
    s = str(tmp_path)
    assert servicedir.read_int(s, "timeout-kill", 10000) == 10000
    (tmp_path / "timeout-kill").write_text("250\n")
    assert servicedir.read_int(s, "timeout-kill", 10000) == 250
    (tmp_path / "timeout-kill").write_text("soon\n")
    with pytest.raises(servicedir.KnobError):
        servicedir.read_int(s, "timeout-kill", 10000)
    (tmp_path / "exit-codes").write_bytes(b"\xff\xfe")
    with pytest.raises(servicedir.KnobError):
        servicedir.read_exit_codes(s)
    (tmp_path / "exit-codes").write_text("0, 2 3\n")
    assert servicedir.read_exit_codes(s) == {0, 2, 3}
    (tmp_path / "restart").write_text("sometimes\n")
    with pytest.raises(servicedir.KnobError):
        servicedir.read_restart(s)
    assert os.path.basename(layout.supervise_dir(s)) == "supervise"


@pytest.mark.parametrize("directory", ["", "/", "//", "S", "S/", "S//", "./S", "../S/", "/a/b/",
                                       "S/..", "a b/\u00e9"])
def test_layout_join_is_os_path_join(directory, tmp_path):
    """pv.layout.join stands in for os.path.join where pv-svc may not load os."""
    for name in ("supervise", "control", "event"):
        assert layout.join(directory, name) == os.path.join(directory, name)
    assert layout.join(tmp_path, "ok") == os.path.join(str(tmp_path), "ok")    # a path-like


def test_read_regular(tmp_path):
    """What the supervisor reads knobs and run with: whole, bounded, never a FIFO."""
    path = tmp_path / "knob"
    for data in (b"", b"x", b"y" * 70000):
        path.write_bytes(data)
        assert servicedir.read_regular(str(path)) == data
        assert servicedir.read_regular(str(path), 5) == data[:5]
    os.mkfifo(str(tmp_path / "fifo"))      # opened for reading without blocking, then refused
    for bad in ("fifo", ""):
        with pytest.raises(OSError):
            servicedir.read_regular(str(tmp_path / bad))


def test_waiting_is_neither_down_nor_finished_for_waits():
    from pv import wait
    from pv.supervise.states import Phase as P
    for word, down, finished in ((P.WAITING, False, False), (P.FINISHING, True, False),
                                 (P.BACKOFF, True, True), (P.STOPPING, False, False)):
        record = State(state=word, pid=0)
        assert wait.reached("down", record) is down
        assert wait.reached("finished", record) is finished
