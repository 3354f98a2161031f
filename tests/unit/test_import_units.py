"""pv-ctl import: supervisord.conf parsing and the option -> file mapping, no processes."""

import os
import textwrap

import pytest

from pv.importer import plan as importer
from pv.importer import write as importer_write
from pv.importer.ini import ConfigError, parse_text

# The [program:x] section example of Supervisor's docs (configuration.rst),
# every option at the value the docs show.
SUPERVISOR_DOCS_SAMPLE = """\
[program:cat]
command=/bin/cat
process_name=%(program_name)s
numprocs=1
directory=/tmp
umask=022
priority=999
autostart=true
autorestart=unexpected
startsecs=10
startretries=3
exitcodes=0
stopsignal=TERM
stopwaitsecs=10
stopasgroup=false
killasgroup=false
user=chrism
redirect_stderr=false
stdout_logfile=/a/path
stdout_logfile_maxbytes=1MB
stdout_logfile_backups=10
stdout_capture_maxbytes=1MB
stdout_events_enabled=false
stderr_logfile=/a/path
stderr_logfile_maxbytes=1MB
stderr_logfile_backups=10
stderr_capture_maxbytes=1MB
stderr_events_enabled=false
environment=A="1",B="2"
serverurl=AUTO
"""


def write(directory, name, text):
    path = os.path.join(str(directory), name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(textwrap.dedent(text))
    return path


def build(tmp_path, text, environ=None, name="supervisord.conf"):
    plans, warnings = importer.build(write(tmp_path, name, text), environ or {})
    return {p.name: {k: v[0] for k, v in p.files.items()} for p in plans}, warnings


def warned(warnings, line):
    return [w[2] for w in warnings if w[1] == line]


def test_the_supervisor_docs_sample_maps_every_option(tmp_path):
    plans, warnings = build(tmp_path, SUPERVISOR_DOCS_SAMPLE)
    files = plans["cat"]
    assert files["run"].splitlines()[3:] == ["cd /tmp || exit 111", "exec 2>&1", "exec /bin/cat"]
    assert files["umask"] == "0022\n" and files["user"] == "chrism\n"
    assert files["restart"] == "on-failure\n" and files["exit-codes"] == "0\n"
    assert files["start-secs"] == "10\n" and files["max-retries"] == "3\n"
    assert files["retry-delay"] == "linear 1\n" and "priority" not in files
    assert files["down-signal"] == "TERM\n" and files["timeout-kill"] == "10000\n"
    assert files["environment"] == ("SUPERVISOR_ENABLED=1\nSUPERVISOR_PROCESS_NAME=cat\n"
                                    "SUPERVISOR_GROUP_NAME=cat\nA=1\nB=2\n")
    assert "-tt -s 1048576 -n 10 ./main" in files["log/run"]
    assert "mkdir -p ./main" in files["log/run"]
    assert not {"down", "instances", "group"} & set(files)
    text = " | ".join(w[2] for w in warnings)
    for option in ("stopasgroup=false", "killasgroup=false",
                   "cannot map stdout_capture_maxbytes=1MB", "cannot map stderr_capture_maxbytes"):
        assert option in text
    # options at Supervisor's default change nothing and pass silently
    assert "priority" not in text and "events_enabled" not in text and "serverurl" not in text
    assert [w[2].split("=")[0] for w in warnings if w[3:] == ("lost",)] == [
        "cannot map stdout_capture_maxbytes", "cannot map stderr_capture_maxbytes"]
    assert [w[1] for w in warnings] == sorted(w[1] for w in warnings)


def test_autostart_autorestart_and_exitcodes(tmp_path):
    plans, _ = build(tmp_path, """\
        [program:a]
        command=x
        autostart=false
        autorestart=true
        [program:b]
        command=x
        autorestart=false
        exitcodes=0,2, 3
        stopsignal=hup
        stopwaitsecs=0
        """)
    assert plans["a"]["down"] == "" and plans["a"]["restart"] == "always\n"
    assert "exit-codes" not in plans["a"]
    assert plans["b"]["restart"] == "never\n" and plans["b"]["exit-codes"] == "0 2 3\n"
    assert plans["b"]["down-signal"] == "HUP\n" and plans["b"]["timeout-kill"] == "0\n"


def test_command_is_split_without_a_shell_and_requoted(tmp_path):
    plans, _ = build(tmp_path, """\
        [program:q]
        command=/usr/bin/printf "%%s and $HOME" 'it''s' a\\ b ; comment
        """)
    last = plans["q"]["run"].splitlines()[-1]
    assert last == "exec /usr/bin/printf '%s and $HOME' its 'a b'"


def test_environment_quoting_and_supervisord_defaults(tmp_path):
    plans, warnings = build(tmp_path, """\
        [supervisord]
        environment=LANG=C,PATH="/usr/bin:/bin"
        umask=077
        user=nobody
        [program:e]
        command=x
        environment=PATH="/opt/bin",MSG="a \\"quoted\\" $word",EMPTY="",TABS='a	b',1BAD=x
        """, {"HOME": "/home/u"})
    env = plans["e"]["environment"].splitlines()
    assert env[3:] == ["LANG=C", "PATH=/opt/bin", 'MSG="a \\"quoted\\" \\$word"', 'EMPTY=""',
                   'TABS="a\tb"']
    assert plans["e"]["umask"] == "0077\n" and plans["e"]["user"] == "nobody\n"
    assert any("1BAD" in w[2] for w in warnings)


def test_expansions_here_env_program_and_group_names(tmp_path):
    plans, _ = build(tmp_path, """\
        [group:g]
        programs=p
        [program:p]
        command=echo %(program_name)s %(group_name)s %(here)s %(ENV_HOME)s 100%%
        user=%(ENV_WHO)s
        """, {"HOME": "/home/u", "WHO": "www"})
    # ENV_X in the command is expanded when the service starts; elsewhere now
    assert plans["p"]["run"].splitlines()[-1] == "exec echo p g %s ${HOME?} 100%%" % tmp_path
    assert plans["p"]["user"] == "www\n"
    assert plans["p"]["group"] == "g\n"


def test_numprocs_becomes_instances_and_process_num_pv_instance(tmp_path):
    plans, warnings = build(tmp_path, """\
        [program:w]
        command=worker --port 80%(process_num)02d --id %(process_num)d
        process_name=%(program_name)s_%(process_num)02d
        numprocs=4
        environment=PORT="80%(process_num)02d",FIXED=1
        [program:v]
        command=worker %(process_num)s
        process_name=v%(process_num)d
        numprocs=2
        numprocs_start=10
        user=u%(process_num)d
        """)
    assert plans["w"]["instances"] == "4\n"
    run = plans["w"]["run"].splitlines()
    assert run[-1] == ('exec worker --port 80"$(printf %02d "$PV_INSTANCE")" '
                       '--id "$PV_INSTANCE"')
    assert 'export PORT=80"$(printf %02d "$PV_INSTANCE")"' in run
    assert 'export SUPERVISOR_PROCESS_NAME=w_"$(printf %02d "$PV_INSTANCE")"' in run
    assert plans["w"]["environment"].splitlines()[-1] == "FIXED=1"
    assert plans["w"]["instance-names"] == "w_00\nw_01\nw_02\nw_03\n"
    assert plans["v"]["instance-names"] == "v10\nv11\n"
    assert plans["v"]["run"].splitlines()[-1] == 'exec worker "$((PV_INSTANCE + 10))"'
    assert plans["v"]["user"] == "u10\n"
    assert any("process_num" in w[2] and "user" in w[2] for w in warnings)
    assert not [w for w in warnings if "process_name" in w[2]]


def test_log_destinations(tmp_path):
    plans, warnings = build(tmp_path, """\
        [program:none]
        command=x
        stdout_logfile=NONE
        stderr_logfile=/dev/null
        [program:outonly]
        command=x
        stderr_logfile=NONE
        stdout_logfile_backups=0
        [program:erronly]
        command=x
        stdout_logfile=/dev/null
        stderr_logfile_maxbytes=2KB
        [program:merged]
        command=x
        redirect_stderr=true
        stderr_logfile=/x
        """)
    assert "log/run" not in plans["none"] and "exec >/dev/null 2>&1" in plans["none"]["run"]
    assert "exec 2>/dev/null" in plans["outonly"]["run"]
    assert "-s 52428800 -n 1 " in plans["outonly"]["log/run"]
    assert "exec 2>&1 >/dev/null" in plans["erronly"]["run"]
    assert "-s 2048 -n 10 " in plans["erronly"]["log/run"]
    assert "exec 2>&1" in plans["merged"]["run"]
    assert any("stderr_logfile is not used" in w[2] for w in warnings)
    assert not any("not a [program:x] option" in w[2] for w in warnings)
    assert any("keeps at least one" in w[2] for w in warnings)


def test_ignored_sections_each_named_with_their_line(tmp_path):
    _, warnings = build(tmp_path, """\
        [unix_http_server]
        file=/tmp/s.sock
        [inet_http_server]
        port=9001
        [supervisorctl]
        serverurl=unix:///tmp/s.sock
        [rpcinterface:supervisor]
        supervisor.rpcinterface_factory = x
        [eventlistener:mem]
        command=memmon
        events=TICK_60
        [fcgi-program:f]
        command=f
        socket=unix:///run/f.sock
        [program:p]
        command=p
        frobnicate=1
        """)
    lines = {w[1]: w[2] for w in warnings}
    assert sorted(lines) == [1, 3, 5, 7, 17]
    assert not [w for w in warnings if len(w) > 3]
    assert lines[17].startswith("ignoring frobnicate")


def test_nested_includes_relative_to_the_including_file(tmp_path):
    write(tmp_path, "etc/conf.d/web.conf", """\
        [include]
        files = more/*.ini
        [program:web]
        command=web %(here)s
        """)
    write(tmp_path, "etc/conf.d/more/db.ini", "[program:db]\ncommand=db\n")
    write(tmp_path, "etc/conf.d/more/z.ini", "[group:all-of-it]\nprograms=web,db\n")
    main = write(tmp_path, "etc/supervisord.conf", """\
        [include]
        files = conf.d/*.conf nothing/*.conf
        """)
    plans, warnings = importer.build(main, {})
    assert [p.name for p in plans] == ["web", "db"]
    web = {k: v[0] for k, v in plans[0].files.items()}
    assert web["run"].endswith("exec web %s\n" % os.path.join(str(tmp_path), "etc", "conf.d"))
    assert web["group"] == "all-of-it\n"
    assert any("nothing/*.conf matches no file" in w[2] for w in warnings)


@pytest.mark.parametrize("text, line, reason", [
    ("command=x\n", 1, "no [section] header"),
    ("[program:a]\ncommand=x\nautostart=maybe\n", 3, "autostart: not a boolean"),
    ("[program:a]\ncommand='x\n", 2, "command: unbalanced quotes"),
    ("[program:a]\nautostart=true\n", 1, "has no command"),
    ("[program:a]\ncommand=x %(nope)s\n", 2, "%(nope) cannot be expanded"),
    ("[program:a]\ncommand=x 5%\n", 2, "a lone %"),
    ("[program:a]\ncommand=x\nstartsecs=soon\n", 3, "startsecs: not a number"),
    ("[program:a]\ncommand=x\nnumprocs=0\n", 3, "numprocs: must be at least 1"),
    ("[program:a]\ncommand=x\nstopsignal=NOPE\n", 3, "no such signal"),
    ("[program:a]\ncommand=x\numask=999\n", 3, "umask: not an octal number"),
    ("[program:a]\ncommand=x\nexitcodes=0,x\n", 3, "exitcodes: not a list"),
    ("[program:a]\ncommand=x\nautorestart=sometimes\n", 3, "autorestart: must be"),
    ("[program:a]\ncommand=x\nenvironment=A=1,B\n", 3, "environment: not a list"),
    ("[program:a]\ncommand=x\nstdout_logfile_maxbytes=lots\n", 3, "not a size"),
    ("[program:a:b]\ncommand=x\n", 1, "cannot be a service name"),
    ("[group:g]\nprograms=a\n", 2, "no [program:a]"),
])
def test_malformed_files_name_file_and_line(tmp_path, text, line, reason):
    path = write(tmp_path, "bad.conf", text)
    with pytest.raises(ConfigError) as caught:
        importer.build(path, {})
    assert caught.value.path == path and caught.value.line == line
    assert reason in caught.value.message(), caught.value.message()
    assert caught.value.message().startswith("unable to import %s: line %d: " % (path, line))


def test_an_include_loop_is_an_error(tmp_path):
    write(tmp_path, "b.conf", "[include]\nfiles=a.conf\n")
    path = write(tmp_path, "a.conf", "[include]\nfiles=b.conf\n")
    with pytest.raises(ConfigError):
        importer.build(path, {})


def test_parser_rules_follow_configparser():
    sections = parse_text("; c\n# c\n[program:x]\nCommand : a ;b\n  c#d ; e\nk=v;not-a-comment\n"
                          "[program:x]\nk=later\n", "f")
    options = sections["program:x"].options
    assert options["command"].text == "a\nc#d" and options["command"].line == 4
    assert options["k"].text == "later" and options["k"].line == 8


def apply(tmp_path, text):
    path = write(tmp_path, "supervisord.conf", text)
    plans, _ = importer.build(path, {})
    return {o.name: (o.change, o.files) for o in importer_write.apply(str(tmp_path / "sv"),
                                                                      plans)}


def mtimes(directory):
    found = {}
    for root, _, files in os.walk(directory):
        for name in files:
            path = os.path.join(root, name)
            found[path] = os.stat(path).st_mtime_ns
    return found


def test_reimport_changes_only_what_changed(tmp_path):
    text = "[program:a]\ncommand=a\nautostart=false\n[program:b]\ncommand=b\n"
    assert apply(tmp_path, text) == {"a": ("added", []), "b": ("added", [])}
    sv = str(tmp_path / "sv")
    os.makedirs(os.path.join(sv, "a", "supervise"))
    before = mtimes(sv)
    os.utime(sv, ns=(1, 1))  # to see that nothing is created either
    assert apply(tmp_path, text) == {"a": ("unchanged", []), "b": ("unchanged", [])}
    assert mtimes(sv) == before and os.stat(sv).st_mtime_ns == 1
    outcome = apply(tmp_path, text.replace("autostart=false", "startsecs=3"))
    assert outcome["a"] == ("changed", ["start-secs", "down"]) and outcome["b"][0] == "unchanged"
    after = mtimes(sv)
    assert [p for p in after if after[p] != before.get(p)] == [os.path.join(sv, "a",
                                                                           "start-secs")]
    assert os.path.isdir(os.path.join(sv, "a", "supervise"))
    outcome = apply(tmp_path, "[program:a]\ncommand=a\nstartsecs=3\n")
    assert outcome["b"] == ("gone", [])


def test_a_directory_not_imported_from_this_file_is_left_alone(tmp_path):
    sv = tmp_path / "sv"
    os.makedirs(str(sv / "a"))
    write(sv / "a", "run", "#!/bin/sh\nexec mine\n")
    assert apply(tmp_path, "[program:a]\ncommand=a\n")["a"][0] == "skipped"
    assert open(str(sv / "a" / "run")).read() == "#!/bin/sh\nexec mine\n"


def test_removed_services_are_found_by_their_marker(tmp_path):
    from pv.ctl.reread import running_names
    scan = str(tmp_path / "service")
    proc = tmp_path / "proc"
    for pid, env in (("10", "PV_SERVICE=%s/gone\0A=b" % scan), ("11", "PV_SERVICE=%s/log\0"
                                                                    % (scan + "/web")),
                     ("12", "PV_SERVICE=/elsewhere/x\0"), ("13", "PV_SERVICE=%s/.tmp\0" % scan)):
        os.makedirs(str(proc / pid))
        write(proc / pid, "environ", env)
    os.makedirs(str(proc / "self"))
    assert running_names(scan, str(proc)) == {"gone", "web"}
