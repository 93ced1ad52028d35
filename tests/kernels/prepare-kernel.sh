#!/usr/bin/env bash
# prepare-kernel.sh [--package NAME] CACHE_DIR
#
# Puts a bootable Debian 6.1 kernel into CACHE_DIR for run-in-guest.sh. The host's /boot and
# installed packages are never touched: the .deb is fetched with `apt-get download` and
# unpacked with `dpkg -x`.
#
# Package choice: --package NAME, else $VIGIL_KERNEL_PACKAGE, else the newest
# linux-image-6.1.<abi>-amd64 that apt-cache knows (plain flavour, not -rt/-cloud/-unsigned).
# `apt-get update` runs only when apt does not know any such package or the download fails.
#
# Idempotent: when CACHE_DIR/.complete exists (and names the requested package, if one was
# requested) nothing is done. Delete CACHE_DIR to pick up a newer kernel.
#
# CACHE_DIR afterwards:
#   vmlinux          uncompressed ELF kernel; qemu boots it directly through its PVH note,
#                    which skips the in-guest XZ decompression (about twice as fast under TCG)
#   vmlinuz          the original bzImage (fallback when vmlinux is missing)
#   config           the kernel's .config
#   kernel-release   e.g. 6.1.0-56-amd64 (what `uname -r` prints in the guest)
#   package          "NAME VERSION" of the .deb
#   modules/         lib/modules/<release>/ from the package, for run-in-guest.sh --module
#   .complete        stamp written last
set -euo pipefail

usage() { sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

package=${VIGIL_KERNEL_PACKAGE:-}
while (($#)); do
  case $1 in
    --package) package=${2:?--package needs a name}; shift 2 ;;
    --package=*) package=${1#*=}; shift ;;
    -h|--help) usage ;;
    --) shift; break ;;
    -*) echo "prepare-kernel: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
(($# == 1)) || usage
cache=$1
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

say() { echo "prepare-kernel: $*" >&2; }

stamp_ok() {
  [[ -f $cache/.complete && -f $cache/vmlinuz ]] || return 1
  [[ -z $package ]] && return 0
  [[ $(cut -d' ' -f1 "$cache/package") == "$package" ]]
}

if stamp_ok; then
  say "already present: $(cat "$cache/package") in $cache"
  exit 0
fi

# Two builds sharing a cache must not unpack into it at the same time.
exec 9>"$cache/.lock"
flock 9
if stamp_ok; then
  say "already present: $(cat "$cache/package") in $cache"
  exit 0
fi

newest_known() {
  apt-cache search --names-only '^linux-image-6\.1\.[0-9]+-[0-9]+-amd64$' 2>/dev/null |
    awk '{print $1}' | sort -V | tail -n1
}

has_candidate() {
  local c
  c=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
  [[ -n $c && $c != "(none)" ]]
}

updated=0
apt_update() {
  ((updated)) && return 0
  say "running apt-get update"
  apt-get update -qq >&2
  updated=1
}

if [[ -z $package ]]; then
  package=$(newest_known)
  if [[ -z $package ]]; then
    apt_update
    package=$(newest_known)
  fi
  [[ -n $package ]] || { say "apt knows no linux-image-6.1.*-amd64 package"; exit 1; }
elif ! has_candidate "$package"; then
  apt_update
fi
has_candidate "$package" || { say "apt has no installable candidate for $package"; exit 1; }

work=$(mktemp -d "$cache/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

download() { (cd "$work" && apt-get download "$package" >&2 2>"$work/apt.err"); }
say "downloading $package"
if ! download; then
  # A stale index points at a file the mirror no longer has; refresh once and retry.
  cat "$work/apt.err" >&2
  apt_update
  download || { cat "$work/apt.err" >&2; exit 1; }
fi
deb=$(ls "$work"/*.deb)
version=$(dpkg-deb -f "$deb" Version)

say "unpacking $(basename "$deb")"
dpkg -x "$deb" "$work/root"
rm -f "$deb"
release=$(ls "$work/root/lib/modules")
[[ $(wc -w <<<"$release") -eq 1 ]] || { say "expected one kernel release in the package, got: $release"; exit 1; }
[[ -f $work/root/boot/vmlinuz-$release ]] || { say "no boot/vmlinuz-$release in the package"; exit 1; }

# The bzImage carries the kernel as an XZ stream (Debian's CONFIG_KERNEL_XZ); decompress it
# to get the ELF vmlinux with the PVH entry note.
/usr/bin/env python3 - "$work/root/boot/vmlinuz-$release" "$work/vmlinux" <<'PY' || say "could not extract vmlinux; run-in-guest.sh will boot the bzImage"
import lzma, sys
src, dst = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
start = data.find(b"\xfd7zXZ\x00")
if start < 0:
    sys.exit("no XZ payload in " + src)
elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[start:])
if elf[:4] != b"\x7fELF":
    sys.exit("XZ payload is not an ELF image")
open(dst, "wb").write(elf)
PY

rm -rf "$cache/modules" "$cache/vmlinux" "$cache/.complete"
mv "$work/root/boot/vmlinuz-$release" "$cache/vmlinuz"
mv "$work/root/boot/config-$release" "$cache/config"
[[ -f $work/vmlinux ]] && mv "$work/vmlinux" "$cache/vmlinux"
mv "$work/root/lib/modules" "$cache/modules"
echo "$release" >"$cache/kernel-release"
echo "$package $version" >"$cache/package"
touch "$cache/.complete"
say "ready: $package $version (release $release) in $cache"
