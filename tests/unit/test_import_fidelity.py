"""pv-ctl import, Supervisor fidelity and injection fixes (issues 12.7 and 13), no processes."""

import os
import subprocess

import pytest
from pv.importer import plan as importer
from pv.importer import procfile
from pv.importer.ini import ConfigError, parse_text
from pv.importer.plan import env_quote
from pv.supervise.execknobs import parse_environment
from test_import_units import build, write

ODD = "a\x0cb\x1cc\x85d\u2028e\u2029f\x0bg"


def run_lines(plans, name):
    return plans[name]["run"].splitlines()


def test_a_file_name_with_a_newline_cannot_inject_a_command(tmp_path):
    """12.7: the base name went into a comment line of every run."""
    name = "x\ntouch pwned\n.conf"
    plans, _ = build(tmp_path, "[program:a]\ncommand=true\n", name=name)
    run = plans["a"]["run"]
    assert "\ntouch" not in run
    assert run.splitlines()[1] == "# [program:a] of x?touch pwned?.conf, imported by pv-ctl import"
    # and sh agrees: the script's lines before exec touch nothing
    script = run.replace("cd / ", "cd . ").replace("exec true", "exit 0")
    subprocess.run(["/bin/sh", "-c", script], check=True, timeout=10, cwd=str(tmp_path))
    assert not os.path.exists(str(tmp_path / "pwned"))


@pytest.mark.parametrize("text", ["PVINST41TSNIVP", "PVINSTTSNIVP", "PVINSTzzTSNIVP",
                                  "a\x01b", "%%(x)s"])
def test_a_command_holding_the_old_marker_is_just_text(tmp_path, text):
    """12.7: the importer's marker string in a command ended in a traceback."""
    plans, _ = build(tmp_path, "[program:a]\ncommand=echo %s\nnumprocs=2\n"
                     "process_name=a%%(process_num)d\n" % text)
    last = run_lines(plans, "a")[-1]
    out = subprocess.run(["/bin/sh", "-c", last.replace("exec ", "", 1)],
                         stdout=subprocess.PIPE, universal_newlines=True, timeout=10)
    assert out.stdout == text.replace("%%", "%") + "\n"


def test_a_nul_byte_is_a_config_error(tmp_path):
    path = write(tmp_path, "nul.conf", "[program:a]\ncommand=echo a\0b\n")
    with pytest.raises(ConfigError) as caught:
        importer.build(path, {})
    assert caught.value.line == 2 and "NUL" in caught.value.message()


def test_environment_values_with_odd_line_breaks_survive():
    """12.7: str.splitlines broke values at \\x0c, \\x1c, \\x85, U+2028."""
    text = "A=%s\nB=plain\n" % env_quote(ODD)
    assert parse_environment(text) == {"A": ODD, "B": "plain"}
    assert parse_environment("A=1\r\nB=2\r\n") == {"A": "1", "B": "2"}


def test_the_ini_reader_breaks_lines_as_configparser_does():
    sections = parse_text("[program:a]\ncommand=echo %s\r\nk=v\rj=w\n" % "a\x0cb\u2028c", "f")
    options = sections["program:a"].options
    assert options["command"].text == "echo a\x0cb\u2028c"
    assert options["k"].text == "v" and options["j"].text == "w" and options["j"].line == 4


def test_env_expansions_wait_for_the_start(tmp_path):
    plans, warnings = build(tmp_path, """\
        [supervisord]
        environment=GREETING="hi %(ENV_WHO)s",TZ=UTC
        [program:a]
        command=/bin/app --who=%(ENV_WHO)s %(ENV_ARGS)s %(ENV_N)03d
        environment=PATH="/app:%(ENV_PATH)s",PLAIN=1
        directory=%(ENV_HOME)s/app
        """, {})
    run = run_lines(plans, "a")
    assert run[2].startswith("set -f")
    assert run[3] == 'cd "${HOME?}"/app || exit 111'
    assert 'export GREETING=\'hi \'"${WHO?}"' in run
    assert 'export PATH=/app:"${PATH?}"' in run
    assert run[-1] == 'exec /bin/app --who=${WHO?} ${ARGS?} "$(printf %03d "${N?}")"'
    env = plans["a"]["environment"].splitlines()
    assert env == ["SUPERVISOR_ENABLED=1", "SUPERVISOR_PROCESS_NAME=a",
                   "SUPERVISOR_GROUP_NAME=a", "TZ=UTC", "PLAIN=1"]


def test_numprocs_from_the_environment_and_environment_keys_as_env_x(tmp_path):
    """numprocs=%(ENV_X)s was fatal even when set; environment= keys expand later options."""
    plans, _ = build(tmp_path, """\
        [supervisord]
        environment=WORKERS=3
        [program:w]
        command=work
        environment=WHO=www-data
        process_name=%(program_name)s_%(process_num)02d
        numprocs=%(ENV_WORKERS)s
        user=%(ENV_WHO)s
        """, {})
    assert plans["w"]["instances"] == "3\n" and plans["w"]["user"] == "www-data\n"
    assert plans["w"]["user-env"] == "keep\n"
    assert plans["w"]["instance-names"] == "w_00\nw_01\nw_02\n"
    with pytest.raises(ConfigError) as caught:
        build(tmp_path, "[program:w]\ncommand=w\nnumprocs=%(ENV_NOPE)s\n", {})
    assert "ENV_NOPE" in caught.value.message()


def test_directory_defaults_to_supervisords(tmp_path):
    plans, _ = build(tmp_path, "[program:a]\ncommand=a\n[program:b]\ncommand=b\n"
                     "directory=/srv\n")
    assert run_lines(plans, "a")[3] == "cd / || exit 111"
    plans, _ = build(tmp_path, "[supervisord]\ndirectory=%(here)s\n[program:a]\ncommand=a\n")
    assert run_lines(plans, "a")[3] == "cd %s || exit 111" % tmp_path


@pytest.mark.parametrize("out, err, redirect, log", [
    ("/dev/stdout", "/dev/stderr", "", False),
    ("/dev/fd/1", "/dev/stdout", "2>&1", False),
    ("/dev/stderr", "/dev/stderr", ">&2", False),
    ("/dev/stdout", "NONE", "2>/dev/null", False),
    ("/var/log/a.log", "/dev/stderr", "", True),
    ("/dev/stdout", "AUTO", "3>&1 >&2 2>&3 3>&-", True),
])
def test_console_logging(tmp_path, out, err, redirect, log):
    plans, _ = build(tmp_path, "[program:a]\ncommand=a\nstdout_logfile=%s\n"
                     "stdout_logfile_maxbytes=0\nstderr_logfile=%s\nstderr_logfile_maxbytes=0\n"
                     % (out, err))
    run = run_lines(plans, "a")
    assert ("exec " + redirect in run) if redirect else not [l for l in run if l.startswith(
        "exec ") and l != "exec a"]
    assert ("log/run" in plans["a"]) == log


def test_a_log_path_becomes_a_link_to_current(tmp_path):
    plans, _ = build(tmp_path, "[program:a]\ncommand=a\nstdout_logfile=%s/a.log\n"
                     "stderr_logfile=%s/a.err\n" % (tmp_path, tmp_path))
    assert "exec " not in "\n".join(plans["a"]["run"].splitlines()[:-1])   # fd 2: log-stderr
    for sub, name in (("log", "a.log"), ("log-stderr", "a.err")):
        log = tmp_path / "svc" / sub
        os.makedirs(str(log))
        script = plans["a"][sub + "/run"]
        out = subprocess.run(["/bin/sh", "-c", script.replace("exec ", "exit 0 #", 1)],
                             cwd=str(log), stderr=subprocess.PIPE, universal_newlines=True,
                             timeout=10)
        assert os.readlink(str(tmp_path / name)) == str(log / "main" / "current")
        assert out.stderr == ""
    os.unlink(str(tmp_path / "a.log"))
    open(str(tmp_path / "a.log"), "w").close()         # a real file is never replaced
    out = subprocess.run(["/bin/sh", "-c", plans["a"]["log/run"].replace("exec ", "exit 0 #", 1)],
                         cwd=str(tmp_path / "svc" / "log"), stderr=subprocess.PIPE,
                         universal_newlines=True, timeout=10)
    assert not os.path.islink(str(tmp_path / "a.log"))
    assert "a.log: a file is in the way" in out.stderr


def test_eventlistener_and_fcgi_program(tmp_path):
    plans, warnings = build(tmp_path, """\
        [eventlistener:exit-on-fatal]
        command=python3 /x/kill_supervisor.py
        events=PROCESS_STATE_FATAL, PROCESS_STATE_EXITED
        [fcgi-program:php]
        command=php-cgi
        socket=unix:///run/php/%(program_name)s.sock
        socket_owner=www-data:www-data
        socket_mode=0660
        numprocs=2
        process_name=%(program_name)s-%(process_num)d
        """)
    last = run_lines(plans, "exit-on-fatal")[-1]
    assert last.endswith("/bin/pv-ctl listen --pool exit-on-fatal --events "
                         "PROCESS_STATE_FATAL,PROCESS_STATE_EXITED --buffer 10 -- python3 "
                         "/x/kill_supervisor.py")
    assert warnings == []
    assert plans["php"]["socket"] == ("unix:///run/php/php.sock\nowner www-data:www-data\n"
                                      "mode 0660\n")
    assert plans["php"]["instances"] == "2\n"
    with pytest.raises(ConfigError):
        build(tmp_path, "[eventlistener:x]\ncommand=x\n")


def test_procfile_formation_ports_and_env(tmp_path):
    path = write(tmp_path, "Procfile", "# comment\nweb: bin/web -p $PORT\n\nworker: bin/work\n")
    write(tmp_path, ".env", "export SECRET='a b'\nLEVEL=info\n# no\n")
    plans, _ = procfile.build(path, None, "web=2", 5000)
    files = {p.name: {k: v[0] for k, v in p.files.items()} for p in plans}
    assert sorted(files) == ["web.1", "web.2", "worker.1"]
    assert files["web.2"]["environment"] == ('SECRET="a b"\nLEVEL=info\nPORT=5001\nPS=web.2\n')
    assert "PORT=5100\n" in files["worker.1"]["environment"]
    assert files["web.1"]["run"].splitlines()[-1] == "exec /bin/sh -c 'bin/web -p $PORT'"
    assert files["web.1"]["group"] == "web\n"
    with pytest.raises(ValueError):
        procfile.parse_formation("db=1", ["web"])
    assert procfile.parse_formation("all=3", ["a", "b"]) == {"a": 3, "b": 3}
    with pytest.raises(ConfigError):
        procfile.parse("web bin/web\n", "Procfile")


def test_numprocs_logs_per_instance_unless_one_path_for_all(tmp_path):
    plans, _ = build(tmp_path, """\
        [program:own]
        command=w
        process_name=%(program_name)s_%(process_num)02d
        numprocs=2
        stdout_logfile=/var/log/own-%(process_num)02d.log
        [program:auto]
        command=w
        process_name=%(program_name)s_%(process_num)02d
        numprocs=2
        [program:shared]
        command=w
        process_name=%(program_name)s_%(process_num)02d
        numprocs=2
        stdout_logfile=/var/log/worker.log
        """)
    run = plans["own"]["log/run"]
    assert "instance-logs" in plans["own"] and "instance-logs" in plans["auto"]
    assert "mkdir -p ./main-\"$PV_INSTANCE\"" in run
    assert '/var/log/own-"$(printf %02d "$PV_INSTANCE")".log' in run
    assert "instance-logs" not in plans["shared"]
    assert plans["shared"]["log/run"].endswith(" ./main\n")


def test_supervisor_server_url_points_at_pv_http(tmp_path):
    path = write(tmp_path, "supervisord.conf", """\
        [unix_http_server]
        file=/run/supervisor.sock
        [program:a]
        command=a
        [program:b]
        command=b
        serverurl=http://127.0.0.1:9001
        """)
    plans, _ = importer.build(path, {}, scandir=str(tmp_path / "service"))
    env = {p.name: p.files["environment"][0].splitlines() for p in plans}
    assert env["a"][1] == "SUPERVISOR_SERVER_URL=unix://%s/.pv-http.sock" % (tmp_path / "service")
    assert env["b"][1] == "SUPERVISOR_SERVER_URL=http://127.0.0.1:9001"
    plans, _ = importer.build(write(tmp_path, "s2.conf", "[program:a]\ncommand=a\n"), {},
                              scandir=str(tmp_path / "service"))
    assert "SUPERVISOR_SERVER_URL" not in plans[0].files["environment"][0]
