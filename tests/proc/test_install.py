"""A pip-installed pv: commands, log/run scripts that exec its pv-log, man pages.

One real ``python3 -m venv`` and ``pip install`` of a copy of this tree
(about 5 s).  Skips when this Python has no venv/ensurepip, or pip can
build pv neither from the package index (isolated build) nor offline.
"""

import os
import shutil
import subprocess
import sys

import pytest

from support import SHORT_TIMEOUT, TOP

INSTALL_TIMEOUT = 120
SOURCES = ("lib", "bin", "man", "pyproject.toml", "README.md")


def run(argv, **kwargs):
    kwargs.setdefault("timeout", INSTALL_TIMEOUT)
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, **kwargs)


def copy_tree(dest):
    """The files a distribution is built from, without caches or build leftovers."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for name in SOURCES:
        src, dst = os.path.join(TOP, name), os.path.join(dest, name)
        if os.path.isdir(src):
            shutil.copytree(src, dst, ignore=skip)
        else:
            shutil.copy(src, dst)


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    top = tmp_path_factory.mktemp("install")
    src, env = str(top / "src"), str(top / "venv")
    os.mkdir(src)
    copy_tree(src)
    # Quickest: a venv without pip, filled by this Python's pip (pip >= 22.3).
    made = run([sys.executable, "-m", "venv", "--without-pip", env])
    if made.returncode != 0:
        pytest.skip("no venv for this Python: " + made.stdout[-200:])
    pip = [sys.executable, "-m", "pip", "--python", os.path.join(env, "bin", "python")]
    if run(pip + ["--version"]).returncode != 0:
        shutil.rmtree(env)
        made = run([sys.executable, "-m", "venv", env])
        if made.returncode != 0:
            pytest.skip("no venv with pip for this Python: " + made.stdout[-200:])
        pip = [os.path.join(env, "bin", "python"), "-m", "pip"]
    pip += ["install", "-q", "--disable-pip-version-check"]
    out = run(pip + [src])
    if out.returncode != 0:
        out = run(pip + ["--no-index", "--no-build-isolation", src])
    if out.returncode != 0:
        pytest.skip("pip cannot build pv here (no index, no setuptools/wheel): "
                    + out.stdout[-300:])
    return env


def script(env, name):
    return os.path.join(env, "bin", name)


def clean_env(env):
    """PATH as an activated venv has it, without this checkout's bin/ or a MANPATH."""
    keep = {k: v for k, v in os.environ.items() if k not in ("MANPATH", "PYTHONPATH")}
    keep["PATH"] = os.pathsep.join([os.path.join(env, "bin"), "/usr/bin", "/bin"])
    return keep


def log_run_exec(service):
    with open(os.path.join(service, "log", "run")) as f:
        return [line.split() for line in f if line.startswith("exec ")][0]


def test_the_distribution_is_pv_supervise_with_every_command(venv):
    code = "import importlib.metadata as m; print(m.metadata('pv-supervise')['Name'])"
    out = run([os.path.join(venv, "bin", "python"), "-c", code], cwd="/")
    assert (out.returncode, out.stdout) == (0, "pv-supervise\n"), out.stdout
    for name in ("pv-run", "pv-scan", "pv-svc", "pv-ctl", "pv-log"):
        assert os.access(script(venv, name), os.X_OK), name
    # supervise/ has no __init__.py: it must be installed all the same.
    out = run([os.path.join(venv, "bin", "python"), "-c", "import pv.supervise.scan"],
              cwd="/")
    assert out.returncode == 0, out.stdout


@pytest.mark.parametrize("env_path", [True, False], ids=["venv-on-PATH", "by-path-only"])
def test_add_writes_a_log_run_that_execs_the_installed_pv_log(venv, tmp_path, env_path):
    scan = str(tmp_path / "service")
    os.mkdir(scan)
    env = clean_env(venv) if env_path else dict(os.environ, PATH="/usr/bin:/bin")
    out = run([script(venv, "pv-ctl"), "-d", scan, "add", "web", "--", "sleep", "1"],
              env=env, cwd=str(tmp_path), timeout=SHORT_TIMEOUT)
    assert out.returncode == 0, out.stdout
    words = log_run_exec(os.path.join(scan, "web"))
    assert words[1] == script(venv, "pv-log"), words
    # The script really logs through the installed pv-log.
    fed = subprocess.run(["sh", "./run"], input=b"hello\n", cwd=os.path.join(scan, "web", "log"),
                         env={"PATH": "/usr/bin:/bin"}, timeout=SHORT_TIMEOUT)
    assert fed.returncode == 0
    with open(os.path.join(scan, "web", "log", "main", "current")) as f:
        assert f.read().endswith(" hello\n")


def test_import_writes_log_run_scripts_that_exec_the_installed_pv_log(venv, tmp_path):
    conf = tmp_path / "supervisord.conf"
    conf.write_text("[program:worker]\ncommand=sleep 1\n")
    scan = str(tmp_path / "service")
    out = run([script(venv, "pv-ctl"), "import", str(conf), "--into", scan],
              env=clean_env(venv), timeout=SHORT_TIMEOUT)
    assert out.returncode == 0, out.stdout
    assert log_run_exec(os.path.join(scan, "worker"))[1] == script(venv, "pv-log")


def test_man_finds_the_installed_pages_from_path(venv):
    for section, names in (("man1", ["pv-ctl", "pv-log", "pv-run", "pv-scan", "pv-svc"]),
                           ("man5", ["pv-logdir", "pv-servicedir"])):
        for name in names:
            page = os.path.join(venv, "share", "man", section, name + "." + section[-1])
            assert os.path.isfile(page), page
    if shutil.which("man") is None:
        pytest.skip("no man(1) to ask")
    # man-db finds PREFIX/share/man from PREFIX/bin on PATH: no MANPATH needed.
    out = run(["man", "-w", "pv-run", "pv-logdir"], env=clean_env(venv), timeout=SHORT_TIMEOUT)
    assert out.returncode == 0 and out.stdout.split() == [
        os.path.join(venv, "share", "man", "man1", "pv-run.1"),
        os.path.join(venv, "share", "man", "man5", "pv-logdir.5")], out.stdout
