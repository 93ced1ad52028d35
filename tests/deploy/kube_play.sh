#!/usr/bin/env bash
# The DaemonSet's pod spec run for real with `podman kube play` (Debian's podman 4.3 plays Pods,
# not DaemonSets: the pod template is taken out of deploy/kubernetes/vigil.yaml as a Pod, with
# its ConfigMaps, the policies one given an example policy). vigild in it must load the policy,
# report a process started on the host, and stop on SIGTERM within the grace period.
#   kube_play.sh SOURCE_DIR WORK_DIR IMAGE
set -euo pipefail
src=$(realpath "$1")
work=$2
image=$3
mkdir -p "$work"
pod=vigil-kube-play-$$

python3 - "$src/deploy/kubernetes/vigil.yaml" "$work/pod.yaml" "$image" "$pod" <<'PY'
import os, sys, yaml
manifest, out, image, name = sys.argv[1:5]
docs = [d for d in yaml.safe_load_all(open(manifest)) if d]
ds = next(d for d in docs if d["kind"] == "DaemonSet")
spec = ds["spec"]["template"]["spec"]
for c in spec["containers"]:
    c["image"] = image
# A hostPath this machine does not have (no containerd running here) is left out, and said so.
missing = [v["name"] for v in spec["volumes"] if "hostPath" in v and not os.path.exists(v["hostPath"]["path"])]
for m in missing:
    print(f"kube_play: no {m} hostPath on this machine, left out", file=sys.stderr)
spec["volumes"] = [v for v in spec["volumes"] if v["name"] not in missing]
for c in spec["containers"]:
    c["volumeMounts"] = [m for m in c["volumeMounts"] if m["name"] not in missing]
# podman has no service accounts or priority classes
for k in ("serviceAccountName", "priorityClassName", "affinity"):
    spec.pop(k, None)
pod = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": name, "labels": ds["spec"]["template"]["metadata"]["labels"]}, "spec": spec}
cms = [d for d in docs if d["kind"] == "ConfigMap"]
# One policy in the policies ConfigMap: it must load from policy_dir.
policy = os.path.join(os.path.dirname(manifest), "../../examples/policies/openat-tracepoint.yaml")
next(c for c in cms if c["metadata"]["name"] == "vigil-policies")["data"] = {"openat-etc.yaml": open(policy).read()}
with open(out, "w") as f:
    yaml.safe_dump_all(cms + [pod], f)
PY

# podman raises the open-file and process limits to its own maximum by default; a machine (or an outer
# container, as on the CI runners) with lower hard limits refuses that: ask for ones that fit.
cat >"$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=8192:8192", "nproc=4096:4096"]
CONF
export CONTAINERS_CONF=$work/containers.conf

cleanup() { podman kube down "$work/pod.yaml" >/dev/null 2>&1 || true; }
trap cleanup EXIT
podman kube play "$work/pod.yaml" >"$work/play.log" 2>&1 || { cat "$work/play.log"; echo "FAIL: podman kube play"; exit 1; }
ctr=$pod-vigild
for _ in $(seq 300); do
  podman logs "$ctr" 2>&1 | grep -q 'vigild ready' && break
  sleep 0.2
done
podman logs "$ctr" >"$work/vigild.log" 2>&1 || true
grep -q 'vigild ready' "$work/vigild.log" || { tail -30 "$work/vigild.log"; echo "FAIL: vigild not ready in the pod"; exit 1; }
grep -q 'policies.d/openat-etc.yaml: policy openat-etc loaded' "$work/vigild.log" ||
  { grep '\[policy\]' "$work/vigild.log"; echo "FAIL: the policy of the policies ConfigMap did not load"; exit 1; }

# A process on the host, outside the pod: its exec must be in the pod's JSON events.
sh -c 'exec /usr/bin/true kube-play-marker' &
host_pid=$!
wait "$host_pid"
for _ in $(seq 50); do
  podman logs "$ctr" 2>/dev/null | grep -q "kube-play-marker" && break
  sleep 0.2
done
podman logs "$ctr" >"$work/vigild.log" 2>&1 || true
grep '"process_exec"' "$work/vigild.log" | grep "kube-play-marker" | grep -q "\"pid\":$host_pid[,}]" ||
  { tail -20 "$work/vigild.log"; echo "FAIL: no process_exec of the host's pid $host_pid in the pod's events"; exit 1; }

# SIGTERM (podman stop) must end vigild well within the grace period.
start=$(date +%s%N)
podman stop -t 30 "$ctr" >/dev/null
ms=$(( ($(date +%s%N) - start) / 1000000 ))
code=$(podman inspect -f '{{.State.ExitCode}}' "$ctr")
podman logs "$ctr" >"$work/vigild.log" 2>&1 || true
grep -q 'stopped in' "$work/vigild.log" || { tail -20 "$work/vigild.log"; echo "FAIL: vigild did not stop cleanly"; exit 1; }
((ms < 30000)) && [[ $code == 0 ]] || { echo "FAIL: stop took $ms ms, exit code $code"; exit 1; }
echo "PASS: pod spec played by podman, host exec (pid $host_pid) reported, stopped in $ms ms"
