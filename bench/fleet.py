#!/usr/bin/env python3
"""vigil's fleet benchmark: events/s into a JetStream cluster with acks, and the time from
`vigil fleet policy add` to the policy active on every node.

usage: fleet.py BUILD_DIR [--events N] [--nodes N] [--replicas N] [--json FILE]

  throughput  one vigild with the nats exporter (replicas 3 on a three-server cluster on
              127.0.0.1) and the JSON file, an open storm of N opens under a posting policy:
              events/s acknowledged by the stream (from the first to the last event stored),
              vigild's CPU seconds per 1000 events, and the same storm with the JSON file alone
  policy      N vigild nodes with fleet_policies: ms from `vigil fleet policy add` returning to
              every node's verdict "loaded" in the status bucket (5 rounds, median)
Needs root, nats-server and the nats plugin; takes about a minute. Target (issue 21): at least
200 000 events/s from one vigild.
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

POLICY = """apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: {name}
spec:
  tracepoints:
  - subsystem: syscalls
    event: sys_enter_openat
    args:
    - index: 6
      type: string
    selectors:
    - matchArgs:
      - index: 6
        operator: Prefix
        values:
        - {prefix}
"""


def die(msg):
    print(f"fleet bench: {msg}", file=sys.stderr)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """Three nats-server processes with JetStream, each with its own ports and store."""

    def __init__(self, work):
        self.work, self.procs = work, []
        self.ports = [(free_port(), free_port()) for _ in range(3)]

    def start(self):
        for i, (port, cport) in enumerate(self.ports):
            routes = "\n".join(f"    nats-route://127.0.0.1:{c}" for j, (_, c) in enumerate(self.ports) if j != i)
            conf = os.path.join(self.work, f"s{i}.conf")
            with open(conf, "w") as f:
                f.write(f"server_name: s{i}\nlisten: 127.0.0.1:{port}\n"
                        f"jetstream {{\n  store_dir: \"{self.work}/s{i}\"\n}}\n"
                        f"cluster {{\n  name: bench\n  listen: 127.0.0.1:{cport}\n  routes: [\n{routes}\n  ]\n}}\n")
            log = open(os.path.join(self.work, f"s{i}.log"), "w")
            self.procs.append(subprocess.Popen(["nats-server", "-c", conf], stdout=log, stderr=log))
        time.sleep(3)  # routes up and a meta leader elected

    def urls(self):
        return [f"nats://127.0.0.1:{p}" for p, _ in self.ports]

    def stop(self):
        for p in self.procs:
            p.kill()
            p.wait()


class Vigild:
    def __init__(self, build, work, name, nats_toml, policy_dir=None):
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir, exist_ok=True)
        self.config = os.path.join(self.dir, "vigild.toml")
        with open(self.config, "w") as f:
            f.write(f"[agent]\nplugin_dir = \"{build}/plugins\"\nnode_name = \"{name}\"\n")
            if policy_dir:
                f.write(f"policy_dir = \"{policy_dir}\"\n")
            f.write(f"[output]\nstdout = \"none\"\n[api]\nsocket = \"{self.dir}/vigil.sock\"\n"
                    "[plugins.tracepoint]\nlibrary = \"libvigil_tracepoint.so\"\n")
            if nats_toml:
                f.write(f"[plugins.nats]\nlibrary = \"libvigil_nats.so\"\n[plugins.nats.config]\n{nats_toml}")
        self.log = os.path.join(self.dir, "vigild.log")
        self.p = subprocess.Popen([f"{build}/bin/vigild", "--config", self.config, "--output", "none",
                                   "--export-file", os.path.join(self.dir, "events.json")],
                                  stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        t0 = time.monotonic()
        while "vigild ready" not in open(self.log).read():
            if self.p.poll() is not None or time.monotonic() - t0 > 30:
                die(f"vigild {name} did not start:\n" + open(self.log).read())
            time.sleep(0.1)

    def cpu_seconds(self):
        with open(f"/proc/{self.p.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=30)


def throughput(build, work, urls, events, replicas):
    target = os.path.join(work, "target")
    open(target, "w").close()
    pdir = os.path.join(work, "policies")
    os.makedirs(pdir, exist_ok=True)
    with open(os.path.join(pdir, "open.yaml"), "w") as f:
        f.write(POLICY.format(name="bench-open", prefix=target))
    results = {}
    for arm, nats in (("file", None), ("nats", f"servers = {json.dumps(urls)}\nreplicas = {replicas}\nbuffer_mb = 512\n")):
        v = Vigild(build, work, f"bench-{arm}", nats, pdir)
        if nats:
            t0 = time.monotonic()
            while "publishing to stream" not in open(v.log).read() and time.monotonic() - t0 < 20:
                time.sleep(0.1)
        cpu0, t0 = v.cpu_seconds(), time.monotonic()
        subprocess.run([f"{build}/bench/storm", "open", str(events), target], check=True,
                       stdout=subprocess.DEVNULL)
        exported = 0
        while time.monotonic() - t0 < 120:  # until the file has them all
            exported = sum(1 for _ in open(os.path.join(v.dir, "events.json")))
            if exported >= events:
                break
            time.sleep(0.2)
        if nats:  # and until the stream acknowledged them
            while time.monotonic() - t0 < 180:
                status = json.loads(subprocess.run([f"{build}/bin/vigil", "--socket", f"{v.dir}/vigil.sock",
                                                    "status", "-o", "json"], capture_output=True,
                                                   text=True).stdout or "{}")
                out = [o for o in status.get("outputs", []) if o.get("name") == "plugin:nats"]
                if out and out[0].get("delivered", 0) >= events and out[0].get("pending", 1) == 0:
                    break
                time.sleep(0.1)
        took = time.monotonic() - t0
        cpu = v.cpu_seconds() - cpu0
        v.stop()
        results[arm] = {"events": events, "seconds": round(took, 2), "events_per_s": round(events / took),
                        "cpu_ms_per_1000": round(cpu * 1e6 / events, 2)}
        print(f"{arm:5} {events} events in {took:.2f} s: {events / took:,.0f}/s, "
              f"vigild CPU {cpu * 1e6 / events:.2f} ms per 1000 events")
    return results


def policy_latency(build, work, urls, nodes):
    vs = [Vigild(build, work, f"node-{i}", f"servers = {json.dumps(urls)}\nreplicas = 3\nfleet_policies = true\n")
          for i in range(nodes)]
    for v in vs:  # every node watching before the first add
        t0 = time.monotonic()
        while "fleet policies: watching bucket" not in open(v.log).read() and time.monotonic() - t0 < 20:
            time.sleep(0.1)
    times = []
    for r in range(5):
        name = f"bench-fleet-{r}"
        path = os.path.join(work, f"{name}.yaml")
        with open(path, "w") as f:
            f.write(POLICY.format(name=name, prefix="/nonexistent/vigil-bench/"))
        subprocess.run([f"{build}/bin/vigil", "fleet", "policy", "add", path, "--nats", urls[0]], check=True,
                       stdout=subprocess.DEVNULL)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 30:
            rows = json.loads(subprocess.run([f"{build}/bin/vigil", "fleet", "policy", "list", "-o", "json",
                                              "--nats", urls[0]], capture_output=True, text=True).stdout or "[]")
            if sum(1 for x in rows if x["policy"] == name and x["state"] == "loaded") == nodes:
                break
        times.append((time.monotonic() - t0) * 1000)
    for v in vs:
        v.stop()
    med = statistics.median(times)
    print(f"policy add to loaded on {nodes} nodes: median {med:.0f} ms (rounds: "
          + ", ".join(f"{t:.0f}" for t in times) + ")")
    return {"nodes": nodes, "median_ms": round(med), "rounds_ms": [round(t) for t in times]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build")
    ap.add_argument("--events", type=int, default=500000)
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--replicas", type=int, default=3, help="the event stream's replicas (default 3)")
    ap.add_argument("--json", help="write the results here as JSON")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    if os.geteuid() != 0 or not shutil.which("nats-server") or not os.path.exists(f"{build}/plugins/libvigil_nats.so"):
        die("needs root, nats-server and the nats plugin")
    work = tempfile.mkdtemp(prefix="vigil-fleet-bench-")
    cluster = Cluster(work)
    try:
        cluster.start()
        res = {"throughput": throughput(build, work, cluster.urls(), a.events, a.replicas),
               "policy": policy_latency(build, work, cluster.urls(), a.nodes)}
        rate = res["throughput"]["nats"]["events_per_s"]
        print(f"target >= 200000 events/s into JetStream: {'met' if rate >= 200000 else 'NOT met'} ({rate:,}/s)")
        if a.json:
            with open(a.json, "w") as f:
                json.dump(res, f, indent=1)
    finally:
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
