"""One spelling of each fact: names on disk, control letters, usage lines.

Where a module outside the shared ones still spells a fact itself (the core
in lib/pv/supervise is being rewritten on another branch), the test pins the
two spellings together until it imports the shared one.
"""

import ast
import os

from pv import control, servicedir
from pv.ctl import add, ops, tail
from pv.log import logdir
from pv.supervise import scan, states

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CMD = os.path.join(TOP, "lib", "pv", "cmd")
# Every command prints its usage line through diag.usage.
USAGE_WRITERS_LEFT = set()


def test_scan_directory_entries_are_servicedir_s():
    assert (scan.SCAN_DIR, scan.SCAN_LOCK, scan.SCAN_CONTROL) == (
        servicedir.SCAN_DIR, servicedir.SCAN_LOCK, servicedir.SCAN_CONTROL)
    assert servicedir.SCAN_DIR.startswith(".")      # never taken for a service


def test_control_letters_are_control_s():
    assert (states.Event.UP, states.Event.DOWN, states.Event.ONCE, states.Event.EXIT) == (
        control.UP, control.DOWN, control.ONCE, control.EXIT)
    assert set(ops.VERB_LETTERS.values()) == {"u", "d", "du", "o"}
    assert ops.SIGNAL_NAMES["HUP"] == "h" and ops.SIGNAL_NAMES["KILL"] == "k"
    assert set(ops.SIGNAL_NAMES.values()) == set(control.SIGNAL_LETTERS)
    assert control.SCAN_RESCAN not in control.STATE_LETTERS


def test_log_directory_names_are_logdir_s():
    assert tail.CURRENT is logdir.CURRENT and tail.LOG_SUBDIR is add.LOG_SUBDIR
    assert add.log_script().endswith("./%s\n" % add.LOG_SUBDIR)


def _writes_usage_itself(path):
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    return any(isinstance(node, ast.Constant) and isinstance(node.value, str)
               and "%s: usage: " in node.value for node in ast.walk(tree))


def test_usage_lines_are_printed_by_diag_usage_only():
    writers = {name for name in os.listdir(CMD)
               if name.endswith(".py") and _writes_usage_itself(os.path.join(CMD, name))}
    assert writers == USAGE_WRITERS_LEFT
