#!/usr/bin/env bash
# Builds the container image IMAGE (default localhost/vigil:VERSION) from the vigil .deb with
# buildah, on a Debian 12 base made locally by mmdebstrap from Debian's archive: nothing is
# pulled from a registry. The base holds only what the vigil package depends on and is cached
# in CACHE_DIR, keyed by that list.
#   build-image.sh VIGIL_DEB CACHE_DIR [IMAGE]
set -euo pipefail
here=$(dirname "$(realpath "$0")")
deb=$(realpath "$1")
cache=$2
version=$(dpkg-deb -f "$deb" Version)
image=${3:-localhost/vigil:$version}
mirror=${VIGIL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$cache"

packages=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*//; s/ //g' | grep -v '^$' | sort -u | paste -sd,)
key=$(printf 'bookworm %s %s' "$mirror" "$packages" | sha256sum | cut -c1-16)
base=$cache/image-base-$key.tar
if [[ ! -f $base ]]; then
  rm -rf "$cache"/image-base-*
  # minbase without apt's caches and docs: the image carries the agent, not a distribution.
  mmdebstrap --variant=minbase --include="$packages" --dpkgopt=path-exclude=/usr/share/doc/* \
    --dpkgopt=path-include=/usr/share/doc/*/copyright --dpkgopt=path-exclude=/usr/share/man/* \
    bookworm "$base.partial.tar" "$mirror" >"$cache/image-base.log" 2>&1 ||
    { tail -20 "$cache/image-base.log"; echo "build-image: mmdebstrap failed" >&2; exit 1; }
  mv "$base.partial.tar" "$base"
fi

ctr=$(buildah from scratch)
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
buildah add "$ctr" "$base" / >/dev/null
buildah copy "$ctr" "$deb" /tmp/vigil.deb >/dev/null
# dpkg, not apt: every dependency is in the base already, and nothing is downloaded here.
buildah run "$ctr" -- sh -c 'dpkg -i /tmp/vigil.deb && rm /tmp/vigil.deb && rm -rf /var/lib/apt/lists/*' >/dev/null
buildah copy "$ctr" "$here/vigild.toml" /etc/vigil/vigild.toml >/dev/null
buildah config --entrypoint '["/usr/sbin/vigild"]' --cmd '["--config", "/etc/vigil/vigild.toml"]' \
  --stop-signal SIGTERM --label org.opencontainers.image.title=vigil \
  --label org.opencontainers.image.version="$version" "$ctr"
buildah commit --rm "$ctr" "$image" >/dev/null
trap - EXIT
echo "$image"
