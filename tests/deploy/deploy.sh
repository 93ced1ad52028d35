#!/usr/bin/env bash
# The deploy tier: vigil as a user installs it. Builds the Debian packages, installs them into a
# fresh Debian 12 root filesystem booted with systemd (systemd-nspawn --boot), and checks that
#   - the service starts under systemd (Type=notify: `systemctl start` waits for READY=1) with
#     the installed plugins and no configuration of their directory;
#   - the installed `vigil` CLI reads events of a process started in the machine;
#   - the out-of-tree example plugin builds against the installed vigil-sdk package, is added
#     with a conf.d snippet and `systemctl reload vigil` loads it;
#   - removing the package stops vigild and leaves none of its BPF programs or links behind.
#
#   deploy.sh SOURCE_DIR BUILD_DIR
#
# The base root filesystem (mmdebstrap from Debian's archive, with the packages' dependencies
# and a compiler for the SDK check) is cached in BUILD_DIR/deploy-cache, keyed by its package
# list; a fresh copy is unpacked for every run.
set -euo pipefail
src=$(realpath "$1")
build=$(realpath "$2")
work=$build/deploy-test
cache=$build/deploy-cache
suite=bookworm
mirror=${VIGIL_DEBIAN_MIRROR:-http://deb.debian.org/debian}

say() { echo "deploy: $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work" "$cache"

# 1. The packages, from a packaging build inside the build tree.
"$src/deploy/debian/build-packages.sh" "$src" "$build/deploy-packaging" "$work/packages" >"$work/packages.log" 2>&1 ||
  { cat "$work/packages.log"; die "building the packages"; }
vigil_deb=$(ls "$work"/packages/vigil_*.deb)
sdk_deb=$(ls "$work"/packages/vigil-sdk_*.deb)

# 2. The base root filesystem: systemd, what the packages depend on, make for the SDK build.
depends() { dpkg-deb -f "$1" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*//; s/ //g' | grep -v '^$'; }
packages=$( (printf '%s\n' systemd systemd-sysv make; depends "$vigil_deb"; depends "$sdk_deb") | sort -u | paste -sd,)
key=$(printf '%s %s %s' "$suite" "$mirror" "$packages" | sha256sum | cut -c1-16)
base=$cache/rootfs-$key.tar
if [[ ! -f $base ]]; then
  say "creating the base root filesystem ($packages)"
  rm -rf "$cache"/rootfs-*
  # mmdebstrap picks the format from the name: it must end in .tar
  mmdebstrap --variant=apt --include="$packages" "$suite" "$base.partial.tar" "$mirror" >"$cache/mmdebstrap.log" 2>&1 ||
    { tail -20 "$cache/mmdebstrap.log"; die "mmdebstrap $suite from $mirror"; }
  mv "$base.partial.tar" "$base"
fi
root=$work/root
mkdir -p "$root"
tar -C "$root" -xf "$base"
mkdir -p "$root/root/pkgs"
cp "$vigil_deb" "$sdk_deb" "$root/root/pkgs/"
echo vigil-deploy-test >"$root/etc/hostname"

# 3. Boot it. The capabilities are the unit's bounding set (nspawn keeps fewer by default);
# bpf() and perf_event_open() pass nspawn's seccomp filter only when named; tracefs is the host's.
caps=CAP_BPF,CAP_PERFMON,CAP_SYS_RESOURCE,CAP_NET_ADMIN,CAP_SYS_PTRACE,CAP_DAC_READ_SEARCH,CAP_KILL,CAP_SYS_NICE
systemd-nspawn -q -D "$root" --boot --console=passive --register=no --keep-unit --machine="vigil-deploy-$$" \
  --capability="$caps" --system-call-filter="bpf perf_event_open" \
  --bind=/sys/kernel/tracing >"$work/nspawn.log" 2>&1 &
nspawn=$!
cleanup() {
  if kill -0 "$nspawn" 2>/dev/null; then
    [[ -n ${leader:-} ]] && kill -RTMIN+4 "$leader" 2>/dev/null # systemd: poweroff
    for _ in $(seq 50); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$nspawn" 2>/dev/null || true
  fi
}
trap cleanup EXIT

# The container's init: the first descendant of nspawn named systemd.
leader=
for _ in $(seq 100); do
  for p in $(cat /proc/"$nspawn"/task/*/children 2>/dev/null); do
    for q in "$p" $(cat /proc/"$p"/task/*/children 2>/dev/null); do
      [[ $(cat /proc/"$q"/comm 2>/dev/null) == systemd ]] && leader=$q
    done
  done
  [[ -n $leader ]] && break
  sleep 0.1
done
[[ -n $leader ]] || { cat "$work/nspawn.log"; die "the container did not start systemd"; }
in_machine() { nsenter -t "$leader" -m -u -i -n -p -r -w env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }
for _ in $(seq 150); do
  state=$(in_machine systemctl is-system-running 2>/dev/null || true)
  [[ $state == running || $state == degraded ]] && break
  sleep 0.2
done
[[ $state == running || $state == degraded ]] || { cat "$work/nspawn.log"; die "systemd in the container: $state"; }
say "booted ($state)"

# 4. Install: postinst enables and starts the service; Type=notify makes that wait for READY=1.
in_machine dpkg -i /root/pkgs/"$(basename "$vigil_deb")" >"$work/install.log" 2>&1 ||
  { cat "$work/install.log"; die "dpkg -i vigil"; }
journal() { in_machine journalctl -u vigil --no-pager -o cat; }
[[ $(in_machine systemctl is-active vigil) == active ]] || { journal; die "vigil.service is not active after install"; }
journal | grep -q 'vigild ready: 4 plugin(s) running' || { journal; die "vigild did not start its 4 plugins"; }
[[ $(in_machine systemctl show -p Type --value vigil) == notify ]] || die "vigil.service is not Type=notify"
# Log lines reach the journal with their priority (journald strips the "<6>" prefix it reads).
in_machine journalctl -u vigil -p 6..6 -o cat | grep -q '^\[host\] vigild ready' ||
  { journal; die "the ready line is not in the journal at priority info without a time stamp of its own"; }
say "installed, vigil.service active"

# The host PID of vigild and the BPF programs and links it holds (from its fdinfo, which names
# every BPF object behind an fd), to look for them again after removal.
vigild_pid() {
  local ns pid
  ns=$(readlink /proc/"$leader"/ns/pid)
  for pid in $(pgrep -x vigild); do
    [[ $(readlink /proc/"$pid"/ns/pid 2>/dev/null) == "$ns" ]] && echo "$pid"
  done
  return 0
}
pid=$(vigild_pid)
[[ -n $pid ]] || die "no vigild process in the container"
ids() { grep -h "^$1:" /proc/"$pid"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un; }

# 5. Events through the installed CLI.
in_machine vigil getevents --event-types process_exec --timeout 4 >"$work/events.json" 2>"$work/getevents.err" &
getevents=$!
sleep 1
in_machine /usr/bin/env sh -c 'exec /usr/bin/true deploy-marker'
wait "$getevents" || { cat "$work/getevents.err"; die "vigil getevents"; }
grep -q '"binary":"/usr/bin/true".*deploy-marker' "$work/events.json" ||
  { head -c 2000 "$work/events.json"; die "no process_exec of /usr/bin/true through vigil getevents"; }
say "vigil getevents reported the exec"

# 6. The SDK: the example plugin built against the installed vigil-sdk, added with a conf.d
# snippet, loaded by `systemctl reload vigil`.
in_machine dpkg -i /root/pkgs/"$(basename "$sdk_deb")" >>"$work/install.log" 2>&1 ||
  { cat "$work/install.log"; die "dpkg -i vigil-sdk"; }
in_machine sh -c 'cp -r /usr/share/doc/vigil-sdk/examples/plugin-out-of-tree /root/example &&
  cmake -S /root/example -B /root/example/build -DCMAKE_BUILD_TYPE=Release &&
  cmake --build /root/example/build &&
  install -D -m 0644 /root/example/build/libvigil_example.so /usr/lib/vigil-example/libvigil_example.so' \
  >"$work/sdk-build.log" 2>&1 || { tail -30 "$work/sdk-build.log"; die "building the example plugin against vigil-sdk"; }
cat >"$root/etc/vigil/conf.d/50-example.toml" <<'TOML'
[plugins.example]
library = "/usr/lib/vigil-example/libvigil_example.so"
[plugins.example.config]
label = "from-conf.d"
TOML
in_machine systemctl reload vigil
for _ in $(seq 50); do
  journal | grep -q 'example sensor attached' && break
  sleep 0.2
done
journal | grep -q 'example sensor attached' || { journal; die "the example plugin did not load on reload"; }
in_machine vigil sensors list >"$work/sensors.txt"
grep -q example "$work/sensors.txt" || { cat "$work/sensors.txt"; die "vigil sensors list does not show the example"; }
[[ $(vigild_pid) == "$pid" ]] || die "reload restarted vigild"
say "example plugin built against vigil-sdk and loaded by reload"

# 7. Remove: prerm stops vigild, which detaches everything it attached.
progs=$(ids prog_id)
links=$(ids link_id)
[[ -n $progs && -n $links ]] || die "found no BPF programs or links held by vigild (pid $pid)"
in_machine dpkg -r vigil-sdk vigil >"$work/remove.log" 2>&1 || { cat "$work/remove.log"; die "dpkg -r"; }
[[ -z $(vigild_pid) ]] || die "vigild still runs after the package was removed"
for id in $progs; do
  bpftool prog show id "$id" >/dev/null 2>&1 && die "BPF program $id of vigild is still loaded: $(bpftool prog show id "$id")"
done
for id in $links; do
  bpftool link show id "$id" >/dev/null 2>&1 && die "BPF link $id of vigild is still there: $(bpftool link show id "$id")"
done
say "removed: $(wc -w <<<"$progs") programs and $(wc -w <<<"$links") links of vigild are gone"
echo "PASS: installed, started under systemd, events read, SDK plugin loaded by reload, removed cleanly"
