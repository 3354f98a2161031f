"""Shared fixtures: temporary service directories and supervisors killed in finalisers."""

import os
import sys

import pytest

TESTS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(TESTS), "lib"))
sys.path.insert(0, TESTS)

import support  # noqa: E402

# bin/pv-* run "${PV_PYTHON:-python3}": let them run on the interpreter under
# test, which is also quicker than a python3 found on PATH when that is a
# version manager's shim (pyenv's costs ~130 ms per start, and the suite
# starts pv a few hundred times).
os.environ.setdefault("PV_PYTHON", sys.executable)


@pytest.fixture
def procs():
    """A Processes registry: everything started through it is killed afterwards."""
    registry = support.Processes()
    yield registry
    registry.kill_all()


@pytest.fixture
def svdir(tmp_path):
    """make(name, run=SCRIPT, **files) -> absolute path of a new service directory."""
    def make(name="svc", run=None, **files):
        return support.make_service(tmp_path, name, run, files)
    return make


@pytest.fixture
def scan(tmp_path):
    """An empty scan directory, tmp_path/service (a str), for pv-scan and pv-ctl -d."""
    d = tmp_path / "service"
    d.mkdir()
    return str(d)


@pytest.fixture
def open_dir():
    """A temporary directory other users (uid 65534) can enter: tmp_path's
    parents are root's, mode 0700."""
    import shutil
    import tempfile
    path = tempfile.mkdtemp(prefix="pv-open-")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)
