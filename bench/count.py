#!/usr/bin/env python3
"""Counts the events vigild exported for one storm run.
usage: count.py EVENTS_JSON MODE STORM_PID [POLICY]"""
import json
import sys

path, mode, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
policy = sys.argv[4] if len(sys.argv) > 4 else None
n = 0
with open(path, errors="replace") as f:
    for line in f:
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if mode == "open":
            body = ev.get("process_tracepoint")
            if body and body.get("policy_name") == policy and body.get("process", {}).get("pid") == pid:
                n += 1
        elif mode == "exec":
            body = ev.get("process_exec")
            if body and body.get("parent", {}).get("pid") == pid:
                n += 1
print(n)
