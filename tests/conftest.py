"""Shared fixtures: temporary service directories and supervisors killed in finalisers."""

import os
import sys

import pytest

TESTS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(TESTS), "lib"))
sys.path.insert(0, TESTS)

import support  # noqa: E402


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
