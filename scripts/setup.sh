#!/usr/bin/env bash
# Installs every Debian package vigil needs to build, test and run. Idempotent: packages that
# are already installed are not downloaded again, and nothing is done when all are present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache
  clang llvm libclang-rt-14-dev
  libbpf-dev bpftool libelf-dev zlib1g-dev systemtap-sdt-dev
  libboost-dev libboost-system-dev
  libtomlplusplus-dev libspdlog-dev libfmt-dev libyaml-cpp-dev catch2 nlohmann-json3-dev
  libjq-dev libonig-dev libssl-dev libre2-dev
  afl++
  iproute2 procps util-linux
  qemu-system-x86 busybox-static cpio python3
  containerd runc
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  python3-grpcio python3-grpc-tools python3-protobuf
  libnats-dev nats-server
  help2man lintian mmdebstrap systemd-container podman buildah uidmap catatonit
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "setup: missing packages (${missing[*]}); run as root to install them" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
