"""The transition record's pure parts: journal files, the cursor, the listener
protocol parser, and the mapping of pv's records to Supervisor's events."""

import json
import os

import pytest
from pv.events import journal, protocol, record, supervisor
from pv.events.reader import Reader


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        self.now += 0.5
        return self.now


def open_journal(directory, config=None):
    os.makedirs(directory, exist_ok=True)
    if config:
        with open(os.path.join(directory, journal.CONFIG), "w") as f:
            f.write(config)
    j = journal.Journal(directory, Clock())
    j.open()
    return j


def lines(directory, name=journal.CURRENT):
    with open(os.path.join(directory, name), "rb") as f:
        return f.read().splitlines()


def test_records_are_json_with_the_documented_fields(tmp_path):
    j = open_journal(str(tmp_path))
    assert j.append("exit", 'we"ird\n', 42, "running", "exited", 3, code=None,
                    signal=9, expected=False, delay=0.25) == 1
    j.close()
    (line,) = lines(str(tmp_path))
    assert json.loads(line) == {"seq": 1, "time": 1000.5, "event": "exit",
                                "service": 'we"ird\n', "instance": 3, "pid": 42,
                                "from": "running", "to": "exited", "code": None,
                                "signal": 9, "expected": False, "delay": 0.25}
    assert journal.line_seq(line) == 1


def test_sequence_numbers_survive_a_restart_and_a_torn_last_line(tmp_path):
    d = str(tmp_path)
    j = open_journal(d)
    for _ in range(3):
        j.append("spawn", "a")
    j.close()
    with open(os.path.join(d, journal.CURRENT), "ab") as f:
        f.write(b'{"seq":4,"time":1,"ev')        # a crash in the middle of a write
    j = open_journal(d)
    assert j.append("up", "a") == 4
    j.close()
    assert [journal.line_seq(x) for x in lines(d)] == [1, 2, 3, 4]


def test_rotation_names_files_by_first_seq_and_keeps_n(tmp_path):
    d = str(tmp_path)
    j = open_journal(d, "s4096\nn2\n")
    for _ in range(200):
        j.append("spawn", "service-with-a-longish-name", 1234, "down", "running")
    j.close()
    rotated = journal.rotated_files(d)
    assert len(rotated) == 2
    for first, name in rotated:
        assert journal.line_seq(lines(d, name)[0]) == first
    assert journal.line_seq(lines(d)[-1]) == 200
    j = open_journal(d, "s4096\nn2\n")       # continues after a restart with rotated files
    assert j.append("up", "x") == 201
    j.close()


def test_reader_follows_across_rotation_and_reports_a_gap(tmp_path):
    d = str(tmp_path)
    j = open_journal(d, "s4096\nn3\n")
    reader = Reader(d, after=0)
    seen = []
    for n in range(1, 301):
        j.append("exit", "s", n)
        if n % 7 == 0:
            seen += [seq for seq, _ in reader.read()]
    seen += [seq for seq, _ in reader.read()]
    assert seen == list(range(1, 301)) and reader.gaps == []
    late = Reader(d, after=0)          # older files were removed: a gap, then the rest
    got = [seq for seq, _ in late.read()]
    assert late.gaps and late.gaps[0][0] == 1 and got[0] == late.gaps[0][1] + 1
    assert got == list(range(got[0], 301))
    assert Reader(d).read() == []      # no cursor: only what comes next
    j.close()


def test_reader_waits_for_the_newline(tmp_path):
    d = str(tmp_path)
    j = open_journal(d)
    j.append("spawn", "a")
    reader = Reader(d, after=0)
    with open(os.path.join(d, journal.CURRENT), "ab") as f:
        f.write(b'{"seq":2,"time":1,"event":"up"')
        f.flush()
        assert [s for s, _ in reader.read()] == [1]
        f.write(b',"service":"a","pid":0,"from":"","to":""}\n')
    assert [s for s, _ in reader.read()] == [2]


def test_parser_ready_result_noise_and_partial_tokens():
    p = protocol.Parser()
    assert p.feed(b"hello\nREA") == [("noise", b"hello\n")]
    assert p.feed(b"DY\n") == [("ready",)]
    p.sent()
    assert p.feed(b"RESULT 2\nO") == []
    assert p.feed(b"KREADY\n") == [("result", b"OK"), ("ready",)]
    p.sent()
    assert p.feed(b"RESULT 4\nFAIL") == [("result", b"FAIL")]
    p.sent()
    assert p.feed(b"garbage\n") == [("result", b"BAD garbage")]


def test_envelope_is_supervisords():
    data = supervisor.envelope("PROCESS_STATE_EXITED", "processname:a groupname:a", 7,
                               "mail", 3)
    head, _, body = data.partition(b"\n")
    assert head == (b"ver:3.0 server:supervisor serial:7 pool:mail poolserial:3 "
                    b"eventname:PROCESS_STATE_EXITED len:25")
    assert body == b"processname:a groupname:a"


def test_subscriptions_follow_supervisors_hierarchy():
    assert supervisor.subscribed("PROCESS_STATE_EXITED", ["PROCESS_STATE"])
    assert supervisor.subscribed("TICK_60", ["EVENT"])
    assert not supervisor.subscribed("TICK_60", ["TICK_5"])
    assert not supervisor.subscribed("PROCESS_STATE_EXITED", ["PROCESS_STATE_FATAL"])
    assert supervisor.unknown_names(["PROCESS_STATE", "NOPE"]) == ["NOPE"]


def rec(event, frm="", to="", **fields):
    base = {"seq": 1, "event": event, "service": "web", "pid": 10, "from": frm, "to": to}
    base.update(fields)
    return base


def test_mapping_of_a_life():
    m = supervisor.Mapper()
    assert m.events(rec("started")) == [("SUPERVISOR_STATE_CHANGE_RUNNING", "")]
    assert m.events(rec("added")) == [("PROCESS_GROUP_ADDED", "groupname:web\n")]
    assert m.events(rec("spawn", "down", "running", tries=0)) == [
        ("PROCESS_STATE_STARTING", "processname:web groupname:web from_state:STOPPED tries:0"),
        ("PROCESS_STATE_RUNNING", "processname:web groupname:web from_state:STARTING pid:10")]
    assert m.events(rec("exit", "running", "exited", code=1, expected=False)) == [
        ("PROCESS_STATE_EXITED",
         "processname:web groupname:web from_state:RUNNING expected:0 pid:10")]
    assert m.events(rec("backoff", "running", "backoff")) == []
    assert [n for n, _ in m.events(rec("spawn", "backoff", "starting", tries=2))] == [
        "PROCESS_STATE_STARTING"]
    assert m.events(rec("exit", "starting", "exited", tries=2)) == [
        ("PROCESS_STATE_BACKOFF", "processname:web groupname:web from_state:STARTING tries:2")]
    assert m.events(rec("fatal", "starting", "fatal")) == [
        ("PROCESS_STATE_FATAL", "processname:web groupname:web from_state:BACKOFF")]
    assert m.events(rec("want", "fatal", "fatal")) == []
    assert m.events(rec("added", service="web/log")) == []


def test_mapping_of_a_stop():
    m = supervisor.Mapper()
    m.events(rec("spawn", "down", "starting"))
    assert [n for n, _ in m.events(rec("ready", "starting", "ready"))] == [
        "PROCESS_STATE_RUNNING"]
    assert [n for n, _ in m.events(rec("stop", "ready", "stopping"))] == [
        "PROCESS_STATE_STOPPING"]
    assert m.events(rec("exit", "stopping", "exited")) == [
        ("PROCESS_STATE_STOPPED", "processname:web groupname:web from_state:STOPPING pid:10")]
    assert m.events(rec("down", "stopping", "down")) == []


def test_human_line_and_environment():
    r = {"seq": 5, "time": 0.25, "event": "exit", "service": "web", "instance": 1,
         "pid": 9, "from": "running", "to": "exited", "code": 3, "expected": False}
    line = record.human(r)
    assert " #5 web:1 exit running->exited pid 9 code=3 expected=no" in line
    env = record.environment(r, b"{}")
    assert env["PV_EVENT_SEQ"] == "5" and env["PV_EVENT_EXPECTED"] == "0"
    assert env["PV_EVENT_INSTANCE"] == "1" and env["PV_EVENT_JSON"] == "{}"
    assert record.matches(r, ["web"]) and record.matches(r, ["web:1"])
    assert not record.matches(r, ["db"]) and record.matches(r, [])
    with pytest.raises(ValueError):
        record.parse(b"[1]")


def test_a_listener_learns_from_state_from_the_records_before_its_start(tmp_path):
    from pv.ctl.listen import Listener
    d = str(tmp_path)
    j = open_journal(d)
    j.append("spawn", "web", 10, "down", "running", tries=0)
    warnings = []
    listener = Listener(d, ["true"], ["PROCESS_STATE"], 2, "pool", {}, warnings.append)
    assert listener.mapper.states == {("web", None): "RUNNING"}
    j.append("stop", "web", 10, "running", "stopping", signal=15)
    j.append("exit", "web", 10, "stopping", "exited", code=None, signal=15, expected=False)
    j.append("spawn", "web", 11, "down", "starting", tries=0)
    listener._pull()
    listener.stop()
    j.close()
    assert [(e.serial, e.name, e.payload) for e in listener.queue] == [
        (1, "PROCESS_STATE_STOPPED", "processname:web groupname:web from_state:STOPPING pid:10"),
        (2, "PROCESS_STATE_STARTING", "processname:web groupname:web from_state:STOPPED tries:0")]
    assert warnings == ["event buffer overflowed (buffer 2): discarded event 0 "
                        "(PROCESS_STATE_STOPPING)"]


class FakeUnit:
    """What the Recorder reads of a unit."""

    def __init__(self):
        from pv.status import State
        from pv.supervise import policy
        self.label, self.instance, self.want = "D/web", None, "up"
        self.record = State(supervisor=1)
        self.record.exit_code, self.record.exit_signal, self.record.fails = 3, None, 1
        self.policy = policy.Policy()
        self.session = 7

    def current_pid(self):
        return 7


def test_steps_of_a_transition_table_become_records(tmp_path):
    from pv.events.hook import Recorder
    rec = Recorder(str(tmp_path), "D/", "")
    rec.open()
    unit = FakeUnit()
    rec.step(unit, "down", "u", "starting", [("cancel",), ("spawn",)])     # nothing yet
    rec.step(unit, "starting", "spawned", "running", [("got_term", False)])
    rec.step(unit, "running", "run-exited", "down", [("want", "down"), ("cancel",)])
    unit.want = "down"
    rec.step(unit, "down", "u", "down", [("want", "up")])                 # no change of phase
    unit.want = "up"
    rec.step(unit, "running", "d", "stopping", [("want", "down"), ("signal_all", 15)])
    rec.step(unit, "stopping", "kill-timer", "stopping", [("signal_all", 9)])
    rec.close()
    got = [json.loads(x) for x in lines(str(tmp_path))]
    assert [(r["event"], r["from"], r["to"]) for r in got] == [
        ("spawn", "down", "running"), ("exit", "running", "exited"),
        ("want", "running", "running"), ("down", "running", "down"),
        ("want", "down", "down"), ("want", "running", "running"),
        ("stop", "running", "stopping"), ("kill", "stopping", "stopping")]
    assert got[1]["code"] == 3 and got[1]["expected"] is False
    assert got[2]["by"] == "policy" and got[4]["by"] == "u" and got[5]["by"] == "d"
    assert got[6]["signal"] == 15 and got[7]["signal"] == 9
