#!/usr/bin/env python3
"""Counts the events vigild exported for one storm run, in the export file and the files it
rotated into (EVENTS_JSON.1, .2, ...).
usage: count.py EVENTS_JSON MODE STORM_PID [POLICY]
  MODE open:    process_tracepoint events of POLICY from STORM_PID
  MODE connect: process_socket connect events from STORM_PID
  MODE exec:    process_exec events whose parent is STORM_PID"""
import glob
import json
import sys


def matches(ev, mode, pid, policy):
    if mode == "open":
        body = ev.get("process_tracepoint")
        return bool(body) and body.get("policy_name") == policy and body.get("process", {}).get("pid") == pid
    if mode == "connect":
        body = ev.get("process_socket")
        return bool(body) and body.get("op") == "connect" and body.get("process", {}).get("pid") == pid
    if mode == "exec":
        body = ev.get("process_exec")
        return bool(body) and body.get("parent", {}).get("pid") == pid
    raise SystemExit(f"count.py: unknown mode {mode}")


def main():
    path, mode, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
    policy = sys.argv[4] if len(sys.argv) > 4 else None
    n = 0
    for name in [path] + sorted(glob.glob(glob.escape(path) + ".*")):
        with open(name, errors="replace") as f:
            for line in f:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                n += matches(ev, mode, pid, policy)
    print(n)


main()
