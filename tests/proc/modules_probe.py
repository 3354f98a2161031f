"""Run a bin/ command and write its sys.modules on demand (test_memory_set's probe).

    python3 -S modules_probe.py FIFO OUT bin/pv-run DIR

runs bin/pv-run DIR in this interpreter (as its ``python3 -S`` shim would) and
starts one thread that, each time a byte arrives on FIFO, writes the sorted
names in sys.modules to OUT (temp + rename).  The probe itself imports nothing
that the interpreter has not already loaded (os, sys, _thread), so what it
reports is what the command loaded; no debug hook in pv is needed.
"""

import _thread
import os
import sys


def serve(fifo, out):
    fd = os.open(fifo, os.O_RDWR)       # RDWR: never sees end of file
    while os.read(fd, 1):
        names = sorted(sys.modules)
        with open(out + ".tmp", "w") as f:
            f.write("\n".join(names) + "\n")
        os.replace(out + ".tmp", out)


def main():
    fifo, out, path = sys.argv[1:4]
    sys.argv = sys.argv[3:]
    _thread.start_new_thread(serve, (fifo, out))
    with open(path) as f:
        code = compile(f.read(), path, "exec")
    exec(code, {"__name__": "__main__", "__file__": path, "__builtins__": __builtins__})


main()
