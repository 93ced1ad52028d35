#!/usr/bin/env bash
# Builds the Debian packages vigil and vigil-sdk from SOURCE_DIR in BUILD_DIR (a build of its
# own: prefix /usr, no tests, the system files on) and copies them to OUT_DIR.
#   build-packages.sh SOURCE_DIR BUILD_DIR OUT_DIR
set -euo pipefail
src=$(realpath "$1")
build=$(realpath -m "$2")
out=$(realpath -m "$3")
mkdir -p "$build" "$out"
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DVIGIL_BUILD_TESTS=OFF -DVIGIL_INSTALL_SYSTEM_FILES=ON >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
cmake --build "$build"
# dpkg-shlibdeps computes the vigil package's Depends from the libraries it links.
rm -f "$build"/*.deb
(cd "$build" && cpack -G DEB >"$build/cpack.log" 2>&1) || { cat "$build/cpack.log"; exit 1; }
rm -f "$out"/*.deb
cp "$build"/vigil_*.deb "$build"/vigil-sdk_*.deb "$out/"
ls "$out"/*.deb
