"""The socket knob (fcgi-program) and the pacing knob, without a supervisor."""

import os
import socket
import stat

import pytest
from pv.servicedir import KnobError
from pv.supervise import sockets


def test_socket_spec_parsing():
    spec = sockets.parse("tcp://127.0.0.1:9000\n")
    assert (spec.family, spec.address) == (socket.AF_INET, ("127.0.0.1", 9000))
    spec = sockets.parse("tcp://[::1]:0\nbacklog 5\n")
    assert (spec.family, spec.address, spec.backlog) == (socket.AF_INET6, ("::1", 0), 5)
    spec = sockets.parse("unix:///run/php.sock  # comment\nowner www-data:www-data\nmode 0660\n")
    assert (spec.address, spec.owner, spec.mode) == ("/run/php.sock", "www-data:www-data", 0o660)
    assert sockets.parse("unix:///x\n").mode == 0o700


@pytest.mark.parametrize("text", ["", "http://x:1", "tcp://x", "tcp://:80", "tcp://x:99999",
                                  "unix://relative", "tcp://x:1\nmode 0600",
                                  "unix:///x\nmode rw", "unix:///x\nfrobnicate 1"])
def test_bad_socket_files(text):
    with pytest.raises(KnobError):
        sockets.parse(text)


def test_bind_tcp_and_unix(tmp_path):
    sock = sockets.bind(sockets.parse("tcp://127.0.0.1:0\n"))
    try:
        port = sock.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            conn, _ = sock.accept()
            conn.close()
        assert not os.get_inheritable(sock.fileno())
    finally:
        sock.close()
    path = str(tmp_path / "fcgi.sock")
    open(path, "w").close()                     # a stale file is replaced
    spec = sockets.parse("unix://%s\nmode 0660\nowner nobody\n" % path)
    if os.getuid() != 0:
        spec.owner = None
    sock = sockets.bind(spec)
    st = os.stat(path)
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o660
    if os.getuid() == 0:
        import pwd
        assert st.st_uid == pwd.getpwnam("nobody").pw_uid
    sockets.release(sock, spec)
    assert not os.path.exists(path) and sock.fileno() == -1


from pv.supervise import supknobs  # noqa: E402


def test_retry_delay_supervisor_and_pv_pacing():
    supervisor = supknobs.parse_retry_delay("linear 1")
    assert [supervisor.delay(k) for k in range(1, 5)] == [1.0, 2.0, 3.0, 4.0]
    pv = supknobs.DEFAULT_PACING
    assert [pv.delay(k) for k in range(1, 8)] == [0.0, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2]
    assert pv.delay(20) == 5.0
    assert supknobs.parse_retry_delay("double 0.5 2").delay(5) == 2.0
    for bad in ("", "linear", "linear x", "double 1", "exp 1 2", "linear -1"):
        with pytest.raises(KnobError):
            supknobs.parse_retry_delay(bad)


def test_priority_and_levels(tmp_path):
    assert supknobs.read_priority(str(tmp_path)) == 999
    (tmp_path / "priority").write_text("5\n")
    assert supknobs.read_priority(str(tmp_path)) == 5
    (tmp_path / "priority").write_text("soon\n")
    with pytest.raises(KnobError):
        supknobs.read_priority(str(tmp_path))
    assert supknobs.levels({"x": 10, "a": 999, "b": 10, "c": 1}) == [["c"], ["b", "x"], ["a"]]


def test_policy_start_secs_written_out_and_pacing():
    from pv.supervise import policy
    native = policy.Policy(start_secs=0)
    assert policy.is_quick_death(native, 0.5)          # pv's own: under 1 s is a failed start
    zero = policy.Policy(start_secs=0, start_secs_given=True)
    assert not policy.is_quick_death(zero, 0.001)      # start-secs 0 written out: none is
    three = policy.Policy(start_secs=3, start_secs_given=True, restart="never")
    assert policy.is_quick_death(three, 2.9) and not policy.is_quick_death(three, 3.0)
    assert policy.retries_failed_start(three, 1) and not policy.retries_failed_start(three, 0)
    assert not policy.retries_failed_start(policy.Policy(restart="never"), 1)
    linear = supknobs.parse_retry_delay("linear 1")
    assert [policy.backoff_delay(k, linear) for k in (1, 2, 3)] == [1.0, 2.0, 3.0]
    assert [policy.backoff_delay(k) for k in (1, 2, 3)] == [0.0, 0.1, 0.2]
