#!/usr/bin/env bash
# The container image built from the packages (deploy/container/build-image.sh, base cached in
# BUILD_DIR/deploy-cache) and the DaemonSet's pod spec played with podman (kube_play.sh).
#   image.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$(realpath "$1")
build=$(realpath "$2")
work=$build/deploy-image
rm -rf "$work"
mkdir -p "$work"
"$src/deploy/debian/build-packages.sh" "$src" "$build/deploy-packaging" "$work/packages" >"$work/packages.log" 2>&1 ||
  { cat "$work/packages.log"; echo "FAIL: building the packages"; exit 1; }
image=localhost/vigil-test:$$
"$src/deploy/container/build-image.sh" "$work"/packages/vigil_*.deb "$build/deploy-cache" "$image" >"$work/image.log" 2>&1 ||
  { tail -30 "$work/image.log"; echo "FAIL: building the image"; exit 1; }
trap 'podman rmi -f "$image" >/dev/null 2>&1 || true' EXIT
echo "image $image built"
"$src/tests/deploy/kube_play.sh" "$src" "$work/kube" "$image"
