#!/usr/bin/env python3
"""Runs a command and reports what it cost, from the kernel's accounting of
the finished child (wait4 rusage): CPU user and system seconds and peak
RSS. The command's output passes through; the figures go to the file named
by the first argument as JSON. Usage: cpu_of.py OUT.json cmd args..."""
import json
import os
import subprocess
import sys
import time

out, cmd = sys.argv[1], sys.argv[2:]
start = time.monotonic()
child = subprocess.Popen(cmd)
_, status, usage = os.wait4(child.pid, 0)
json.dump(
    {
        "user_s": usage.ru_utime,
        "system_s": usage.ru_stime,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "max_rss_kib": usage.ru_maxrss,
        "wall_s": time.monotonic() - start,
        "exit": os.waitstatus_to_exitcode(status),
    },
    open(out, "w"),
)
sys.exit(os.waitstatus_to_exitcode(status))
