"""The pure parts behind pv-scan's batches: Loop.defer, the knob listing, strays."""

import os

from pv import servicedir
from pv.supervise import execknobs, procs
from pv.supervise.knobs import Knobs
from pv.supervise.loop import Loop


def test_deferred_work_runs_after_the_batch_and_before_the_wait():
    loop = Loop()
    seen = []
    try:
        r, w = os.pipe()
        try:
            def readable():
                os.read(r, 1)
                seen.append("fd")
                loop.defer(lambda: seen.append("deferred by fd"))
            loop.add_reader(r, readable)
            loop.defer(lambda: seen.append("before the loop"))
            loop.call_later(0, lambda: seen.append("timer"))
            os.write(w, b"x")
            loop.run_once()
            assert seen == ["before the loop", "fd", "timer", "deferred by fd"]
            # What a deferred callback defers runs in the same flush, in order.
            loop.defer(lambda: loop.defer(lambda: seen.append("nested")))
            loop.run_deferred()
            assert seen[-1] == "nested"
        finally:
            loop.remove_reader(r)
            os.close(r)
            os.close(w)
    finally:
        loop.close()


def knob_dir(tmp_path, **files):
    path = tmp_path / "s"
    (path / "env").mkdir(parents=True)
    for name, text in files.items():
        (path / name.replace("_", "-").replace("--", "/")).write_text(text)
    return str(path)


def test_config_digest_is_the_same_from_a_listing(tmp_path):
    path = knob_dir(tmp_path, run="#!/bin/sh\n", timeout_kill="300\n", env__A="a\n",
                    restart="never\n")
    listed = frozenset(os.listdir(path))
    assert servicedir.config_digest(path, listed) == servicedir.config_digest(path)
    os.unlink(os.path.join(path, "restart"))
    assert servicedir.config_digest(path, frozenset(os.listdir(path))) == \
        servicedir.config_digest(path)


def test_a_listing_answers_for_absent_knobs_and_reads_present_ones(tmp_path):
    path = knob_dir(tmp_path, run="", start_secs="2\n", restart="on-failure\n",
                    timeout_kill="300\n", umask="027\n")
    warnings = []
    knobs = Knobs(path, warnings.append)
    present = knobs.listed()
    policy = knobs.policy()
    assert (policy.restart, policy.start_secs, policy.max_retries) == ("on-failure", 2, None)
    assert knobs.kill_timeout_secs() == 0.3
    assert knobs.readiness_method() == ("", None)
    assert execknobs.read_exec(path, present).umask == 0o27
    # A knob made after the listing counts from the next listing (the next start).
    with open(os.path.join(path, "max-retries"), "w") as f:
        f.write("3\n")
    assert knobs.policy().max_retries is None
    knobs.unlisted()
    assert knobs.policy().max_retries == 3
    assert warnings == []


def test_strays_are_our_children_no_unit_knows(tmp_path):
    me = os.getpid()
    table = procs.Table()
    for pid, ppid in ((11, me), (12, me), (13, me), (14, 11)):
        table[pid] = procs.Proc(pid, ppid, pid, pid, 1, False)
    assert sorted(procs.strays(table, {12: None}.keys())) == [11, 13]
    assert table.strays == procs.strays(table, set())     # kept for the table's batch
