#!/usr/bin/env bash
# run-in-guest.sh — run test binaries inside the kernel prepared by prepare-kernel.sh, under
# qemu TCG, and report their results on the host.
#
# usage: run-in-guest.sh --cache DIR --out DIR [OPTIONS] -- TEST [--- TEST]...
#
#   TEST := [--name=NAME] [--plain|--catch2] [--guest] [--cwd=DIR] [--timeout=SEC] BINARY [ARG]...
#     BINARY is copied into the guest at the same absolute path (so build-tree paths compiled
#     into tests keep working), with every shared library ldd lists for it.
#     --name=NAME   result name (default: basename of BINARY, made unique with -2, -3, ...)
#     --catch2      (default) Catch2 v2 binary: run with "-r junit -o <xml>", XML shipped back
#     --plain       any program: only its exit code and console output count
#     --guest       BINARY is a path inside the guest (e.g. a busybox applet); nothing copied
#     --cwd=DIR     working directory in the guest (default: BINARY's directory)
#     --timeout=SEC kill this binary after SEC seconds (default: --test-timeout)
#
# options:
#   --cache DIR         kernel cache made by prepare-kernel.sh (required)
#   --out DIR           results directory (required); this run's files in it are replaced:
#                         serial.log    the whole console (kernel log + test output)
#                         channel.log   the raw result channel
#                         logs/NAME.log console output of one binary
#                         junit/NAME.xml Catch2 JUnit report of one binary
#                         collected/    what --collect shipped back
#                         summary.txt   the summary printed at the end
#   --timeout SEC       wall-clock limit for the whole VM (default 600); qemu is killed after it
#   --test-timeout SEC  default per-binary limit inside the guest (default 0 = none)
#   --file SRC[:DEST]   copy a file (DEST defaults to SRC's absolute path); ELF files bring
#                       their shared libraries along, executable scripts their interpreter
#                       (bash, say; not an interpreter's own modules, e.g. python's stdlib)
#   --tree SRC[:DEST]   copy a directory recursively (symlinks followed), same library rule
#                       for every ELF file in it
#   --exclude PATTERN   leave out of every --tree what matches PATTERN (tar --exclude syntax,
#                       e.g. CMakeFiles)
#   --module NAME       insmod kernel module NAME (and what it depends on) before the tests
#   --env NAME=VALUE    environment for the tests
#   --pre CMD           guest shell command run before the tests (after mounts and modules)
#   --collect PATH      after the tests, ship guest file/dir PATH back into OUT/collected/
#   --mem MB            guest memory (default: 1024, or more for a big initramfs: the packed
#                       and the unpacked copy coexist while booting, and the initramfs
#                       filesystem may only fill half of the memory)
#   --smp N             guest CPUs (default 2)
#   --cpu MODEL         qemu CPU model (default qemu64,+rdrand: with RDRAND the guest's random
#                       pool is ready at boot, otherwise the first getrandom() waits ~1.3 s)
#   --append STR        extra kernel command line
#   --kernel vmlinux|vmlinuz  boot the extracted ELF via PVH (default when present) or the bzImage
#   --no-strip          copy ELF files as they are (default: --strip-debug on the copies)
#   --compress none|gzip initramfs compression (default none: faster under TCG)
#   --keep-work         keep OUT/work (rootfs tree and initramfs)
#   --verbose           stream the guest console while it runs
#
# Exit status: 0 when every binary reached its END marker with rc=0 (and, for Catch2 binaries,
# sent its JUnit XML) and the guest reached VIGIL-GUEST-DONE before the timeout; 1 otherwise;
# 2 for usage or setup errors. qemu's own exit status says nothing about the tests.
#
# The marker protocol is described in guest/init.
set -Eeuo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
trap 'echo "run-in-guest: internal error at line $LINENO: $BASH_COMMAND" >&2' ERR
die() { echo "run-in-guest: $*" >&2; exit 2; }
usage() { sed -n '2,/^set -Eeuo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

cache='' out='' vm_timeout=600 test_timeout=0 mem=auto smp=2 cpu=qemu64,+rdrand append='' kernel_kind=
strip=1 compress=none keep_work=0 verbose=0
files=() trees=() excludes=() modules=() envs=() pres=() collects=()

while (($#)); do
  case $1 in
    --cache) cache=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --timeout) vm_timeout=${2:?}; shift 2 ;;
    --test-timeout) test_timeout=${2:?}; shift 2 ;;
    --file) files+=("${2:?}"); shift 2 ;;
    --tree) trees+=("${2:?}"); shift 2 ;;
    --exclude) excludes+=("${2:?}"); shift 2 ;;
    --module) modules+=("${2:?}"); shift 2 ;;
    --env) envs+=("${2:?}"); shift 2 ;;
    --pre) pres+=("${2:?}"); shift 2 ;;
    --collect) collects+=("${2:?}"); shift 2 ;;
    --mem) mem=${2:?}; shift 2 ;;
    --smp) smp=${2:?}; shift 2 ;;
    --cpu) cpu=${2:?}; shift 2 ;;
    --append) append=${2:?}; shift 2 ;;
    --kernel) kernel_kind=${2:?}; shift 2 ;;
    --no-strip) strip=0; shift ;;
    --compress) compress=${2:?}; shift 2 ;;
    --keep-work) keep_work=1; shift ;;
    --verbose) verbose=1; shift ;;
    -h|--help) usage ;;
    --) shift; break ;;
    *) die "unknown option $1 (tests go after --)" ;;
  esac
done
[[ -n $cache && -n $out ]] || usage
(($#)) || die "no test binaries given (after --)"
[[ $vm_timeout =~ ^[0-9]+$ && $test_timeout =~ ^[0-9]+$ ]] || die "timeouts are whole seconds"
[[ $compress == none || $compress == gzip ]] || die "--compress none|gzip"
[[ $mem == auto || $mem =~ ^[0-9]+$ ]] || die "--mem wants megabytes"
[[ $smp =~ ^[1-9][0-9]*$ ]] || die "--smp wants a CPU count"
[[ -f $cache/.complete ]] || die "$cache is not a prepared kernel cache (run prepare-kernel.sh $cache)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (package qemu-system-x86)"
busybox=$(command -v busybox) || die "busybox not found (package busybox-static)"
[[ $(ldd "$busybox" 2>&1) == *"not a dynamic executable"* ]] || die "$busybox is not static (package busybox-static)"
command -v cpio >/dev/null || die "cpio not found"

cache=$(cd "$cache" && pwd)
release=$(cat "$cache/kernel-release")
if [[ -z $kernel_kind ]]; then
  kernel_kind=vmlinuz
  [[ -f $cache/vmlinux ]] && kernel_kind=vmlinux
fi
kernel_image=$cache/$kernel_kind
[[ -f $kernel_image ]] || die "no $kernel_image"

mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/work" "$out/logs" "$out/junit" "$out/collected"
rm -f "$out/serial.log" "$out/channel.log" "$out/summary.txt" "$out/tests.txt"
work=$out/work
root=$work/rootfs
mkdir -p "$root" "$out/logs" "$out/junit" "$out/collected"

# ---------------------------------------------------------------------------------------------
# rootfs

# The guest mirrors the host's merged-/usr layout, so a library copied to the path ldd printed
# (/lib/x86_64-linux-gnu/...) and the same library reached through /usr/lib land on one file.
for d in bin sbin lib lib32 lib64 libx32; do
  if [[ -L /$d ]]; then
    target=$(readlink "/$d")
    mkdir -p "$root/${target#/}"
    ln -s "${target#/}" "$root/$d"
  fi
done
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib,usr/lib,etc,root,proc,sys,dev,tmp,run,vigil}

quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

declare -A copied=()

# elf_kind FILE -> "x86" for x86-64 executables and shared objects, "elf" for other ELF files
# (BPF objects, ...), "none" otherwise.
elf_kind() {
  local hdr
  hdr=$(od -An -tx1 -N20 "$1" 2>/dev/null | tr -d ' \n')
  [[ ${hdr:0:8} == 7f454c46 ]] || { echo none; return; }
  # e_type at byte 16 (2 = EXEC, 3 = DYN), e_machine at byte 18 (0x3e = x86-64), little endian.
  if [[ ${hdr:32:4} =~ ^0[23]00$ && ${hdr:36:4} == 3e00 ]]; then echo x86; else echo elf; fi
}

# add_libs FILE: copy every library ldd resolves for FILE (plus the dynamic loader) to the
# same path in the guest. ldd lists the transitive closure, so no recursion is needed.
add_libs() {
  local file=$1 line lib missing=()
  local lddout
  lddout=$(ldd "$file" 2>&1) || return 0 # static executables and non-loadable ELF files
  while IFS= read -r line; do
    case $line in
      *"=> not found"*) missing+=("${line%% =>*}") ;;
      *"=> /"*) lib=${line#*=> }; lib=${lib%% (*}; add_lib "$lib" ;;
      [[:space:]]/*) lib=${line#"${line%%[![:space:]]*}"}; lib=${lib%% (*}; add_lib "$lib" ;;
    esac
  done <<<"$lddout"
  ((${#missing[@]} == 0)) || die "$file needs libraries ldd cannot find:${missing[*]/#/ }"
}

add_lib() {
  local lib=$1
  [[ -n ${copied[$lib]:-} ]] && return 0
  copied[$lib]=1
  mkdir -p "$root$(dirname "$lib")"
  copy_elf "$lib" "$root$lib"
}

copy_elf() { # SRC DEST: dereferences SRC; strips debug info from x86-64 copies
  if ((strip)) && [[ $(elf_kind "$1") == x86 ]]; then
    strip --strip-debug -o "$2" "$1" 2>/dev/null || cp -L "$1" "$2"
    chmod --reference="$1" "$2"
  else
    cp -L --preserve=mode "$1" "$2"
  fi
}

split_spec() { # SRC[:DEST] -> src dest (dest defaults to the absolute path of SRC)
  local spec=$1
  if [[ $spec == *:/* ]]; then src=${spec%%:/*}; dest=/${spec#*:/}; else src=$spec dest=; fi
  [[ -e $src ]] || die "no such file or directory: $src"
  src=$(realpath -s "$src")
  [[ -n $dest ]] || dest=$src
}

# add_interpreter FILE: a script's interpreter comes along (with its libraries), except
# /bin/sh, which busybox provides. "#!/usr/bin/env NAME" ships the host's NAME.
add_interpreter() {
  local line interp
  IFS= read -r line <"$1" || true
  [[ $line == '#!'* ]] || return 0
  read -r interp line <<<"${line#'#!'}"
  if [[ $interp == */env ]]; then
    interp=${line%% *}
    [[ $interp == -* || -z $interp ]] && return 0
    interp=$(command -v "$interp") || die "$1 wants '$interp', which is not on this host's PATH"
  fi
  case $interp in
    /bin/sh|/usr/bin/sh|/bin/busybox|/usr/bin/busybox) return 0 ;;
  esac
  [[ -n ${copied[$interp]:-} || -e $root$interp ]] && return 0
  [[ -f $interp ]] || die "$1 wants interpreter $interp, which this host does not have"
  copied[$interp]=1
  add_file "$interp" "$interp"
}

add_file() { # SRC DEST
  local src=$1 dest=$2
  [[ -f $src ]] || die "not a file: $src"
  mkdir -p "$root$(dirname "$dest")"
  copy_elf "$src" "$root$dest"
  case $(elf_kind "$src") in
    x86) add_libs "$src" ;;
    none) if [[ -x $src ]]; then add_interpreter "$src"; fi ;;
  esac
  return 0
}

add_tree() { # SRC DEST
  local src=$1 dest=$2 f
  [[ -d $src ]] || die "not a directory: $src"
  mkdir -p "$root$dest"
  # tar rather than cp for --exclude; -h follows symlinks so nothing dangles in the guest.
  tar -C "$src" -chf - ${excludes[@]+"${excludes[@]/#/--exclude=}"} . | tar -C "$root$dest" -xf -
  while IFS= read -r -d '' f; do
    case $(elf_kind "$f") in
      x86)
        if ((strip)); then strip --strip-debug "$f" 2>/dev/null || true; fi
        add_libs "$src${f#"$root$dest"}"
        ;;
      none) if [[ -x $f ]]; then add_interpreter "$f"; fi ;;
    esac
  done < <(find "$root$dest" -type f -print0)
  return 0
}

for spec in ${files[@]+"${files[@]}"}; do split_spec "$spec"; add_file "$src" "$dest"; done
for spec in ${trees[@]+"${trees[@]}"}; do split_spec "$spec"; add_tree "$src" "$dest"; done

# ---------------------------------------------------------------------------------------------
# tests -> /vigil/plan.sh

plan=$root/vigil/plan.sh
{
  echo "# generated by run-in-guest.sh"
  for e in ${envs[@]+"${envs[@]}"}; do
    [[ $e == [A-Za-z_]*=* ]] || die "--env wants NAME=VALUE, got $e"
    echo "export $(quote "$e")"
  done
} >"$plan"

if ((${#modules[@]})); then
  moddir=$cache/modules/$release
  # Prints module paths (relative to moddir) in load order, dependencies first.
  mods=$("$here/lib/moddeps.py" "$moddir" "${modules[@]}") || die "cannot resolve modules: ${modules[*]}"
  while IFS= read -r m; do
    mkdir -p "$root/lib/modules/$release/$(dirname "$m")"
    cp "$moddir/$m" "$root/lib/modules/$release/$m"
    echo "insmod $(quote "/lib/modules/$release/$m") || warn $(quote "insmod $m failed")" >>"$plan"
  done <<<"$mods"
fi
for p in ${pres[@]+"${pres[@]}"}; do
  echo "sh -c $(quote "$p") || warn $(quote "pre command failed: $p")" >>"$plan"
done

declare -A names=()
names_in_order=()
parse_test() { # one TEST spec
  local name='' kind=catch2 guest=0 cwd='' tmo=$test_timeout bin
  while (($#)) && [[ $1 == --* ]]; do
    case $1 in
      --name=*) name=${1#*=} ;;
      --plain) kind=plain ;;
      --catch2) kind=catch2 ;;
      --guest) guest=1 ;;
      --cwd=*) cwd=${1#*=} ;;
      --timeout=*) tmo=${1#*=} ;;
      *) die "unknown test option $1" ;;
    esac
    shift
  done
  (($#)) || die "a test spec has no binary"
  [[ $tmo =~ ^[0-9]+$ ]] || die "--timeout= wants whole seconds"
  bin=$1
  shift
  if ((guest)); then
    : # looked up in the guest's PATH when it runs
  else
    [[ -f $bin && -x $bin ]] || die "not an executable file: $bin"
    bin=$(realpath -s "$bin")
    add_file "$bin" "$bin"
  fi
  [[ -n $name ]] || name=$(basename "$bin")
  name=${name//[^A-Za-z0-9._-]/_}
  if [[ -n ${names[$name]:-} ]]; then
    local i=2
    while [[ -n ${names[$name-$i]:-} ]]; do ((i++)); done
    name=$name-$i
  fi
  names[$name]=1
  names_in_order+=("$name")
  if [[ -z $cwd ]]; then
    if [[ $bin == /* ]]; then cwd=$(dirname "$bin"); else cwd=/tmp; fi
  fi
  local line a
  line="vigil_test $(quote "$name") $kind $(quote "$cwd") $tmo $(quote "$bin")"
  for a in "$@"; do line+=" $(quote "$a")"; done
  echo "$line" >>"$plan"
  echo "$name $kind" >>"$out/tests.txt"
}

spec=()
for arg in "$@" ---; do
  if [[ $arg == --- ]]; then
    ((${#spec[@]})) || die "empty test spec (two --- in a row?)"
    parse_test "${spec[@]}"
    spec=()
  else
    spec+=("$arg")
  fi
done

i=0
for c in ${collects[@]+"${collects[@]}"}; do
  i=$((i + 1))
  echo "vigil_collect $i $(quote "$c")" >>"$plan"
done

# busybox last: its applets never replace a file that was copied in.
cp "$busybox" "$root/usr/bin/busybox"
while IFS= read -r applet; do
  [[ -e $root/$applet || -L $root/$applet ]] || ln -s /usr/bin/busybox "$root/$applet"
done < <("$busybox" --list-full)
# bpftool feature probe and config-reading feature probes look for /boot/config-$(uname -r).
mkdir -p "$root/boot"
cp "$cache/config" "$root/boot/config-$release"
cp "$here/guest/init" "$root/init"
chmod 0755 "$root/init"

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
printf '127.0.0.1 localhost vigil-guest\n::1 localhost ip6-localhost\n' >"$root/etc/hosts"
printf 'passwd: files\ngroup: files\nhosts: files\n' >"$root/etc/nsswitch.conf"

# Same loader configuration as the host, so libraries resolve the same way in the guest.
cp /etc/ld.so.conf "$root/etc/ld.so.conf"
[[ -d /etc/ld.so.conf.d ]] && cp -r /etc/ld.so.conf.d "$root/etc/"
if ! ldconfig -r "$root" 2>"$work/ldconfig.err"; then
  # Not root (ldconfig -r chroots): fall back to a search path made of every library directory.
  libdirs=$(for l in "${!copied[@]}"; do dirname "$l"; done | sort -u | paste -sd:)
  echo "export LD_LIBRARY_PATH=$(quote "$libdirs")" | cat - "$plan" >"$plan.new" && mv "$plan.new" "$plan"
fi

initrd=$work/initramfs.cpio
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$initrd"
if [[ $compress == gzip ]]; then gzip -1 "$initrd"; initrd=$initrd.gz; fi
initrd_mb=$(du -m "$initrd" | cut -f1)
if [[ $mem == auto ]]; then
  unpacked_mb=$(du -sm "$root" | cut -f1)
  mem=$((unpacked_mb * 2 + initrd_mb + 512))
  ((mem >= 1024)) || mem=1024
fi

# ---------------------------------------------------------------------------------------------
# boot

qemu=(qemu-system-x86_64 -accel tcg -cpu "$cpu" -m "$mem" -smp "$smp" -no-reboot -nodefaults -no-user-config
  -display none -monitor none
  -serial "file:$out/serial.log" -serial "file:$out/channel.log"
  -kernel "$kernel_image" -initrd "$initrd"
  -append "console=ttyS0 lsm=lockdown,capability,bpf panic=-1 $append")

echo "run-in-guest: booting $release ($kernel_kind, initramfs ${initrd_mb} MB, ${mem} MB RAM, ${#names_in_order[@]} binaries, timeout ${vm_timeout}s)" >&2
start=$(date +%s.%N)
: >"$out/serial.log"
tail_pid=
if ((verbose)); then tail -n +1 -f "$out/serial.log" >&2 & tail_pid=$!; fi
timeout -k 5 "$vm_timeout" "${qemu[@]}" </dev/null >"$work/qemu.out" 2>&1 &
qemu_pid=$!
trap 'kill "$qemu_pid" 2>/dev/null; [[ -n $tail_pid ]] && kill "$tail_pid" 2>/dev/null' INT TERM
qemu_rc=0
wait "$qemu_pid" || qemu_rc=$?
trap - INT TERM
[[ -n $tail_pid ]] && { sleep 0.2; kill "$tail_pid" 2>/dev/null || true; }
wall=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

timed_out=0
((qemu_rc == 124 || qemu_rc == 137)) && timed_out=1
if ((qemu_rc != 0 && !timed_out)); then
  echo "run-in-guest: qemu exited with $qemu_rc:" >&2
  cat "$work/qemu.out" >&2
fi

rc=0
"$here/lib/report.py" --out "$out" --tests "$out/tests.txt" --release "$release" \
  --package "$(cat "$cache/package")" --wall "$wall" --timeout "$vm_timeout" \
  --timed-out "$timed_out" --qemu-rc "$qemu_rc" || rc=$?

((keep_work)) || rm -rf "$work"
exit "$rc"
