"""tests/run: the README's test command, on a Python that may or may not install packages.

The full fresh-machine run (a Debian python3 with EXTERNALLY-MANAGED: venv,
pip install, pytest) takes half a minute and the package index; it is run by
hand (see tests/README).  Here: the decisions it makes, on real interpreters.
"""

import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import sysconfig

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN = os.path.join(TOP, "tests", "run")
DEBIAN_PYTHON = "/usr/bin/python3"


def load_run():
    loader = importlib.machinery.SourceFileLoader("tests_run", RUN)
    spec = importlib.util.spec_from_loader("tests_run", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def managed(python):
    code = "import sysconfig; print(sysconfig.get_path('stdlib'))"
    stdlib = subprocess.run([python, "-c", code], stdout=subprocess.PIPE,
                            universal_newlines=True, timeout=30).stdout.strip()
    return os.path.exists(os.path.join(stdlib, "EXTERNALLY-MANAGED"))


def test_python_for_an_installed_requirement_is_this_python_and_installs_nothing():
    out = subprocess.run([sys.executable, RUN, "--python-for", "pytest"], timeout=60,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert (out.returncode, out.stdout, out.stderr) == (0, sys.executable + "\n", "")


def test_requirement_lines_and_their_modules():
    run = load_run()
    assert [run.module_of(r) for r in ("pytest>=7", "Hypothesis", "py-spy ; os_name")] == [
        "pytest", "hypothesis", "py_spy"]
    assert "pytest" in run.requirements()


def test_a_pep_668_python_is_never_installed_into():
    if not (os.path.exists(DEBIAN_PYTHON) and managed(DEBIAN_PYTHON)):
        pytest.skip("no externally managed (PEP 668) %s here" % DEBIAN_PYTHON)
    run = load_run()
    assert run.pip_may_install(DEBIAN_PYTHON) is False


def test_this_python_may_be_installed_into_only_if_it_is_not_managed():
    run = load_run()
    in_venv = sys.prefix != sys.base_prefix
    marker = os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))
    has_pip = importlib.util.find_spec("pip") is not None
    assert run.pip_may_install(sys.executable) == (has_pip and (in_venv or not marker))
