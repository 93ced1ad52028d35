#!/usr/bin/env python3
"""report.py: turns one guest run (OUT/channel.log, OUT/serial.log) into per-binary results,
prints the summary and exits 0 only when the whole run passed. Called by run-in-guest.sh.

Inputs are the marker protocol written by guest/init. The channel (ttyS1) is authoritative for
rc values and files; the console (ttyS0) is only cut into per-binary logs and searched for
VIGIL-SKIP lines and kernel trouble.
"""
import argparse
import base64
import binascii
import io
import os
import re
import sys
import tarfile
import xml.etree.ElementTree as ET

SKIP_RE = re.compile(r"VIGIL-SKIP: (.+): missing kernel feature (.+?)\s*$")
KERNEL_TROUBLE_RE = re.compile(
    r"(BUG:|Oops|WARNING:|Kernel panic|general protection fault|segfault at|Out of memory"
    r"|Initramfs unpacking failed)")


def uptime(rest):
    m = re.search(r"\bt=([0-9.]+)", rest)
    return float(m.group(1)) if m else None


def safe_rel(rel):
    rel = os.path.normpath(rel)
    if rel.startswith("..") or os.path.isabs(rel):
        raise ValueError(f"refusing to write {rel!r} outside the results directory")
    return rel


class Channel:
    def __init__(self):
        self.begin = None          # (release, t)
        self.done = None           # t
        self.warnings = []
        self.tests = {}            # name -> {"begin": t, "end": t, "rc": int}
        self.files = {}            # rel -> bytes
        self.problems = []


def parse_channel(path):
    ch = Channel()
    try:
        lines = open(path, "rb").read().decode(errors="replace").replace("\r", "").split("\n")
    except OSError:
        lines = []
    file_rel, file_lines = None, []
    for line in lines:
        if file_rel is not None:
            if line == f"VIGIL-FILE-END {file_rel}":
                try:
                    ch.files[file_rel] = base64.b64decode("".join(file_lines), validate=False)
                except (binascii.Error, ValueError) as e:
                    ch.problems.append(f"file {file_rel}: bad base64 ({e})")
                file_rel, file_lines = None, []
            else:
                file_lines.append(line.strip())
            continue
        word, _, rest = line.partition(" ")
        if word == "VIGIL-GUEST-BEGIN":
            m = re.search(r"release=(\S+)", rest)
            ch.begin = (m.group(1) if m else "?", uptime(rest))
        elif word == "VIGIL-GUEST-WARN":
            ch.warnings.append(rest)
        elif word == "VIGIL-TEST-BEGIN":
            name = rest.split(" ")[0]
            ch.tests.setdefault(name, {})["begin"] = uptime(rest)
        elif word == "VIGIL-TEST-END":
            name = rest.split(" ")[0]
            m = re.search(r"\brc=(-?\d+)", rest)
            t = ch.tests.setdefault(name, {})
            t["end"] = uptime(rest)
            t["rc"] = int(m.group(1)) if m else None
        elif word == "VIGIL-FILE-BEGIN":
            file_rel, file_lines = rest.strip(), []
        elif word == "VIGIL-GUEST-DONE":
            ch.done = uptime(rest)
    if file_rel is not None:
        ch.problems.append(f"file {file_rel}: channel ended before VIGIL-FILE-END")
    return ch


def split_console(path):
    """Returns (all lines, {test name: its console lines})."""
    try:
        text = open(path, "rb").read().decode(errors="replace")
    except OSError:
        return [], {}
    lines = [l.rstrip("\r") for l in text.split("\n")]
    per_test, current = {}, None
    for line in lines:
        m = re.search(r"VIGIL-TEST-BEGIN (\S+)", line)
        if m:
            current = m.group(1)
            per_test[current] = []
            continue
        m = re.search(r"VIGIL-TEST-END (\S+)", line)
        if m and m.group(1) == current:
            current = None
            continue
        if current is not None:
            per_test[current].append(line)
    return lines, per_test


def parse_junit(data):
    """Returns ([(testcase name, failed, failure text)], all captured stdout/stderr text).
    Catch2 v2's JUnit reporter captures std::cout/std::cerr, both per test case and per suite,
    so VIGIL-SKIP lines printed through iostreams are found here rather than on the console."""
    root = ET.fromstring(data)
    cases = []
    for tc in root.iter("testcase"):
        bad = [c for c in tc if c.tag in ("failure", "error")]
        text = "\n".join(
            f"{c.get('type', c.tag)}: {c.get('message', '')}\n{(c.text or '').strip()}" for c in bad)
        cases.append((tc.get("name", "?"), bool(bad), text))
    captured = "\n".join(e.text or "" for e in root.iter() if e.tag in ("system-out", "system-err"))
    return cases, captured


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--tests", required=True)
    ap.add_argument("--release", required=True)
    ap.add_argument("--package", required=True)
    ap.add_argument("--wall", type=float, required=True)
    ap.add_argument("--timeout", type=int, required=True)
    ap.add_argument("--timed-out", type=int, required=True)
    ap.add_argument("--qemu-rc", type=int, required=True)
    a = ap.parse_args()

    expected = [l.split() for l in open(a.tests) if l.strip()]
    ch = parse_channel(os.path.join(a.out, "channel.log"))
    console, per_test_console = split_console(os.path.join(a.out, "serial.log"))

    for rel, data in ch.files.items():
        try:
            rel = safe_rel(rel)
        except ValueError as e:
            ch.problems.append(str(e))
            continue
        dest = os.path.join(a.out, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as f:
            f.write(data)
        if rel.startswith("collected/") and rel.endswith(".tar.gz"):
            with tarfile.open(fileobj=io.BytesIO(data)) as tf:
                target = dest[: -len(".tar.gz")]
                if hasattr(tarfile, "data_filter"):
                    tf.extractall(target, filter="data")
                else:
                    tf.extractall(target)
            os.unlink(dest)

    report, failed_any = [], False
    out = report.append
    boot = ch.begin[1] if ch.begin else None
    out(f"kernel matrix: guest {a.package} (uname -r {ch.begin[0] if ch.begin else '?'})")
    out(f"  wall {a.wall:.1f}s, guest boot to /init {boot if boot is not None else '?'}s, "
        f"guest done at {ch.done if ch.done is not None else '?'}s, timeout {a.timeout}s")
    for w in ch.warnings:
        out(f"  guest warning: {w}")
    problems = list(ch.problems)
    if a.timed_out:
        problems.append(f"guest did not reach VIGIL-GUEST-DONE within {a.timeout}s; qemu was killed")
    elif ch.done is None:
        problems.append(f"guest stopped without VIGIL-GUEST-DONE (qemu rc {a.qemu_rc}; "
                        "kernel panic or /init died? see serial.log)")
    if ch.begin is None:
        problems.append("guest never reached /init (no VIGIL-GUEST-BEGIN on the channel)")
    if any("Initramfs unpacking failed" in l for l in console):
        problems.append("the kernel could not unpack the initramfs (out of memory? try a larger --mem)")

    out("")
    out(f"  {'binary':34} {'result':8} {'rc':>4} {'cases':>6} {'pass':>5} {'fail':>5} "
        f"{'skip':>5} {'time':>7}")
    skips, details = [], []
    for name, kind in expected:
        t = ch.tests.get(name, {})
        log = per_test_console.get(name, [])
        with open(os.path.join(a.out, "logs", f"{name}.log"), "w") as f:
            f.write("\n".join(log) + ("\n" if log else ""))
        rc = t.get("rc")
        dur = (t["end"] - t["begin"]) if t.get("end") is not None and t.get("begin") is not None else None
        why = []
        if "begin" not in t:
            why.append("never started")
        elif "end" not in t:
            why.append("no VIGIL-TEST-END marker (crashed the guest, or hung until the timeout)")
        elif rc != 0:
            why.append(f"exit status {rc}")

        found = set()
        for line in log:
            m = SKIP_RE.search(line)
            if m:
                found.add((m.group(1).strip(), m.group(2).strip()))
        cases, captured = None, ""
        junit_path = os.path.join(a.out, "junit", f"{name}.xml")
        if kind == "catch2" and "end" in t:
            if not os.path.exists(junit_path):
                why.append("no JUnit XML came back")
            else:
                try:
                    cases, captured = parse_junit(open(junit_path, "rb").read())
                except ET.ParseError as e:
                    why.append("JUnit XML is empty (the binary did not finish)"
                               if os.path.getsize(junit_path) == 0 else f"JUnit XML does not parse: {e}")
        for line in captured.splitlines():
            m = SKIP_RE.search(line)
            if m:
                found.add((m.group(1).strip(), m.group(2).strip()))
        skip_names = {s for s, _ in found}

        def skipped(case):
            return any(case == s or case.startswith(s + "/") for s in skip_names)

        if cases is not None:
            n = len(cases)
            nfail = sum(1 for c in cases if c[1])
            nskip = sum(1 for c in cases if not c[1] and skipped(c[0]))
            counts = (str(n), str(n - nfail - nskip), str(nfail), str(nskip))
        else:
            counts = ("-", "-", "-", str(len(found)) if found else "-")
        result = "FAIL" if why else "ok"
        failed_any |= bool(why)
        out(f"  {name:34} {result:8} {'-' if rc is None else rc:>4} {counts[0]:>6} {counts[1]:>5} "
            f"{counts[2]:>5} {counts[3]:>5} {'-' if dur is None else f'{dur:.1f}s':>7}")
        for s, feat in sorted(found):
            skips.append(f"  {name}: {s}: {feat}")
        if why:
            d = [f"--- {name}: " + "; ".join(why)]
            for cname, bad, text in cases or []:
                if bad:
                    d.append(f"  failed: {cname}")
                    d.extend("    " + l for l in text.splitlines()[:20])
            if not cases or not any(c[1] for c in cases):
                tail = log[-60:]
                if tail:
                    d.append(f"  last {len(tail)} console lines (all in logs/{name}.log):")
                    d.extend("    " + l for l in tail)
            details.append("\n".join(d))

    out("")
    if skips:
        out("skipped for a missing feature:")
        report.extend(skips)
    else:
        out("skipped for a missing feature: none")
    trouble = [l for l in console if KERNEL_TROUBLE_RE.search(l)]
    if trouble:
        out(f"kernel log lines worth a look ({len(trouble)}, first 20):")
        report.extend("  " + l for l in trouble[:20])
    for d in details:
        out("")
        out(d)
    if problems:
        out("")
        report.extend("problem: " + p for p in problems)
    ok = not failed_any and not problems
    out("")
    out(f"kernel matrix {a.release}: {'PASS' if ok else 'FAIL'} — results in {a.out}")

    text = "\n".join(report) + "\n"
    with open(os.path.join(a.out, "summary.txt"), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
