#!/usr/bin/env bash
# Installs the Debian packages ccmesh builds and tests with. Idempotent: does nothing when
# everything is already present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  cppzmq-dev libzmq3-dev libmsgpack-cxx-dev libspdlog-dev libfmt-dev
  libboost-program-options-dev libgtest-dev libgmock-dev nlohmann-json3-dev
  libcpp-httplib-dev libbenchmark-dev procps iproute2
  prometheus-cpp-dev  # the metrics the broker and workers serve
  prometheus  # the monitoring tests: promtool checks the metrics, a real server scrapes them
  help2man  # the man pages, written at build time from each program's --help
  file  # CPack (scripts/package.sh) finds the shared objects dpkg-shlibdeps reads
  iptables  # the fault tests cut one direction of a link between network namespaces
  clang libclang-rt-14-dev  # the fuzzers (scripts/fuzz.sh): clang and libFuzzer
  chromium chromium-driver python3-selenium  # the status page's browser test
  systemd  # the units' test: systemd-analyze verify
  python3-zmq python3-msgpack  # the Python package (client/python) and its examples
  curl                         # the demo's HTTP API call
  etcd-server  # high availability: brokers elect their leader through etcd (tests, demo-ha)
  python3-pytest python3-venv python3-setuptools python3-pip  # its tests: pytest, pip into a venv
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
