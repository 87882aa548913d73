#!/usr/bin/env bash
# Installs ccmesh the ways an operator or a C++ user would, and uses what was installed.
#
#   install_test.sh prefix BUILD_DIR SOURCE_DIR
#     `cmake --install` into a temporary prefix; a broker and a worker run from the installed
#     programs (the worker finds the installed mock CLI by itself); a program outside the
#     tree, built with find_package(ccmesh) (shared and static library) and with pkg-config,
#     queries a session through them.
#   install_test.sh deb BUILD_DIR SOURCE_DIR
#     CPack builds the Debian packages; as root they are installed with dpkg -i, the
#     installed files are checked, a broker and a worker run as the units would (user
#     ccmesh, /etc/ccmesh, /var/lib/ccmesh) and answer a query, then the packages are purged
#     (also when a check fails).
#     Without root, only the packages' contents and control files are checked.
#
# Every wait polls an observable condition under a deadline, and every long step has a
# timeout below ctest's, so the exit trap always runs: it stops every process started, by
# its pid, purges the packages if they are installed, and removes the temporary directory.
set -euo pipefail

mode=${1:?usage: install_test.sh prefix|deb BUILD_DIR SOURCE_DIR}
build_dir=$(realpath "${2:?build directory}")
source_dir=$(realpath "${3:?source directory}")
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build_dir/CMakeCache.txt")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ccmesh-install-test.XXXXXX")
pids=()         # processes this script started, stopped on exit
purge_debs=0    # 1 while the packages are installed on this machine

stop_pid() {  # stop_pid PID: SIGTERM, up to 10 s to exit, then SIGKILL
  local pid=$1 waited=0
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 200 ]; do
    sleep 0.05
    waited=$((waited + 1))
  done
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[i]}"; done
  wait 2>/dev/null || true
  if [ "$purge_debs" = 1 ]; then
    timeout 60 dpkg --purge ccmesh-dev ccmesh >"$tmp/purge-on-exit.log" 2>&1 ||
      echo "warning: dpkg --purge ccmesh-dev ccmesh failed" >&2
  fi
  if [ "$status" -ne 0 ]; then
    for log in "$tmp"/*.log; do
      [ -f "$log" ] || continue
      echo "--- $(basename "$log") (last lines)" >&2
      tail -n 30 "$log" >&2
    done
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

step() { echo "== $*"; }

# wait_for SECONDS WHAT COMMAND...: polls COMMAND until it succeeds, fails after SECONDS.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || fail "no $what within ${seconds}s"
    sleep 0.05
  done
}

alive() { kill -0 "$1" 2>/dev/null; }

# A ready file the broker wrote, or its death: whichever comes first.
broker_ready() {
  [ -s "$tmp/broker.ready" ] && return 0
  alive "$broker_pid" || fail "the installed broker exited before binding (broker.log)"
  return 1
}

worker_joined() {
  alive "$worker_pid" || fail "the installed worker exited (worker.log)"
  grep -q '"w-install"' <<<"$("$prefix/bin/ccmesh" --broker "$frontend" --timeout 2000 --json status)"
}

expect_files() {  # expect_files ROOT PATH...: each must exist under ROOT
  local root=$1 path
  shift
  for path in "$@"; do
    [ -e "$root/$path" ] || fail "$root/$path is missing"
  done
}

# Every "ccmesh/..." header an installed header includes is installed too.
check_header_closure() {
  local include_dir=$1 header included
  while IFS= read -r header; do
    while IFS= read -r included; do
      [ -f "$include_dir/$included" ] ||
        fail "installed ${header#"$include_dir"/} includes $included, which is not installed"
    done < <(sed -n 's/^#include "\(ccmesh\/[^"]*\)".*/\1/p' "$header")
  done < <(find "$include_dir/ccmesh" -name '*.hpp')
}

run_prefix() {
  prefix=$tmp/prefix
  step "cmake --install into a temporary prefix"
  timeout 60 cmake --install "$build_dir" --prefix "$prefix" >"$tmp/install.log"
  local libdir
  libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$build_dir/CMakeCache.txt")
  expect_files "$prefix" \
    bin/ccmesh-broker bin/ccmesh-worker bin/ccmesh bin/ccmesh-mock-cli \
    "$libdir/libccmesh-client.a" "$libdir/libccmesh-client.so" \
    "$libdir/libccmesh-client.so.${version%.*}" "$libdir/libccmesh-client.so.$version" \
    include/ccmesh/client/client.hpp include/ccmesh/common/version.hpp \
    "$libdir/cmake/ccmesh/ccmesh-config.cmake" "$libdir/cmake/ccmesh/ccmesh-config-version.cmake" \
    "$libdir/pkgconfig/ccmesh-client.pc" \
    share/ccmesh/broker.conf share/ccmesh/sessions.conf share/ccmesh/worker.conf \
    share/doc/ccmesh/README.md share/doc/ccmesh/OPERATIONS.md \
    share/man/man1/ccmesh.1.gz share/man/man1/ccmesh-broker.1.gz \
    share/man/man1/ccmesh-worker.1.gz share/man/man1/ccmesh-mock-cli.1.gz \
    share/bash-completion/completions/ccmesh \
    lib/systemd/system/ccmesh-broker.service lib/systemd/system/ccmesh-worker.service
  local programs
  programs=$(find "$prefix/bin" -mindepth 1 -printf '%f\n' | LC_ALL=C sort | tr '\n' ' ')
  [ "$programs" = "ccmesh ccmesh-broker ccmesh-mock-cli ccmesh-worker " ] ||
    fail "bin/ holds '$programs', not exactly the four programs"
  [ ! -e "$prefix/etc" ] || fail "cmake --install wrote etc/ (only the package has /etc/ccmesh)"
  readelf -d "$prefix/$libdir/libccmesh-client.so.$version" |
    grep -q "SONAME.*libccmesh-client.so.${version%.*}" || fail "wrong SONAME"
  check_header_closure "$prefix/include"
  if grep -rn '#include "[^c]' "$prefix/include/ccmesh"; then
    fail "an installed header includes a private header"
  fi
  [ "$("$prefix/bin/ccmesh" --version)" = "ccmesh $version" ] || fail "ccmesh --version"
  [ "$("$prefix/bin/ccmesh-mock-cli" --version)" = "ccmesh-mock-cli $version" ] ||
    fail "ccmesh-mock-cli --version"

  step "a broker and a worker from the installed programs"
  "$prefix/bin/ccmesh-broker" --frontend 'tcp://127.0.0.1:*' --backend 'tcp://127.0.0.1:*' \
    --ready-file "$tmp/broker.ready" --sessions "$prefix/share/ccmesh/sessions.conf" \
    --http 127.0.0.1:0 \
    --log-level debug >"$tmp/broker.log" 2>&1 &
  broker_pid=$!
  pids+=("$broker_pid")
  wait_for 20 "ready file from the broker" broker_ready
  frontend=$(sed -n 's/^frontend=//p' "$tmp/broker.ready")
  backend=$(sed -n 's/^backend=//p' "$tmp/broker.ready")
  mkdir -p "$tmp/home"
  # No --cli: the worker runs the ccmesh-mock-cli installed beside it.
  HOME=$tmp/home CLAUDE_CONFIG_DIR=$tmp/home/.claude \
    "$prefix/bin/ccmesh-worker" --broker "$backend" --id w-install --log-level debug \
    >"$tmp/worker.log" 2>&1 &
  worker_pid=$!
  pids+=("$worker_pid")
  wait_for 20 "worker w-install in the broker's status" worker_joined

  step "the worker runs the installed mock CLI"
  local cli_pid cli_exe
  cli_pid=$("$prefix/bin/ccmesh" --broker "$frontend" --timeout 20000 query assistant /pid)
  [[ "$cli_pid" =~ ^[0-9]+$ ]] || fail "/pid answered '$cli_pid'"
  cli_exe=$(readlink "/proc/$cli_pid/exe")
  [ "$cli_exe" = "$prefix/bin/ccmesh-mock-cli" ] ||
    fail "the worker runs $cli_exe, not the installed mock CLI"

  step "a program built with find_package(ccmesh $version) queries a session"
  timeout 60 cmake -S "$source_dir/tests/install/consumer" -B "$tmp/consumer" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >"$tmp/consumer-configure.log"
  timeout 120 cmake --build "$tmp/consumer" -j2 >"$tmp/consumer-build.log"
  # grep reads ldd's whole answer from a string: `ldd | grep -q` under pipefail fails
  # whenever grep stops reading before ldd has written its last line.
  grep -q "$prefix/$libdir/libccmesh-client.so" <<<"$(ldd "$tmp/consumer/ccmesh-consumer")" ||
    fail "ccmesh-consumer does not load the installed libccmesh-client.so"
  if grep -q libccmesh-client <<<"$(ldd "$tmp/consumer/ccmesh-consumer-static")"; then
    fail "ccmesh-consumer-static loads libccmesh-client.so"
  fi
  local exe answer
  for exe in ccmesh-consumer ccmesh-consumer-static; do
    answer=$(timeout 60 "$tmp/consumer/$exe" "$frontend" assistant "hello from $exe")
    grep -qx "version $version" <<<"$answer" || fail "$exe: $answer"
    grep -qx "worker w-install" <<<"$answer" || fail "$exe: $answer"
    grep -qx "answer turn [0-9]*: hello from $exe" <<<"$answer" || fail "$exe: $answer"
  done

  step "the same program built with pkg-config"
  local flags
  flags=$(PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig" pkg-config --cflags --libs ccmesh-client)
  # shellcheck disable=SC2086  # the flags are words
  timeout 120 c++ -std=c++20 -O1 -o "$tmp/consumer-pc" "$source_dir/tests/install/consumer/main.cpp" \
    $flags -Wl,-rpath,"$prefix/$libdir"
  answer=$(timeout 60 "$tmp/consumer-pc" "$frontend" assistant "hello from pkg-config")
  grep -qx "answer turn [0-9]*: hello from pkg-config" <<<"$answer" ||
    fail "pkg-config build: $answer"
  [ "$(PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig" pkg-config --modversion ccmesh-client)" = \
    "$version" ] || fail "pkg-config --modversion ccmesh-client"
  echo "PASS: prefix install, find_package and pkg-config consumers"
}

has_transcript_file() {
  [ -n "$(find /var/lib/ccmesh/transcripts -type f -print -quit 2>/dev/null)" ]
}

deb_field() { dpkg-deb -f "$1" "$2"; }

run_deb() {
  step "cpack builds the Debian packages"
  timeout 120 cpack --config "$build_dir/CPackConfig.cmake" -B "$tmp/packages" >"$tmp/cpack.log" 2>&1 ||
    fail "cpack failed (cpack.log)"
  local deb=$tmp/packages/ccmesh_${version}_amd64.deb
  local dev=$tmp/packages/ccmesh-dev_${version}_amd64.deb
  if [ ! -f "$deb" ] || [ ! -f "$dev" ]; then
    fail "no ${deb##*/} and ${dev##*/}: $(ls "$tmp/packages")"
  fi

  dpkg-deb -c "$deb" >"$tmp/contents.log"
  local path
  for path in ./usr/bin/ccmesh-broker ./usr/bin/ccmesh-worker ./usr/bin/ccmesh \
    ./usr/bin/ccmesh-mock-cli "./usr/lib/libccmesh-client.so.$version" \
    ./etc/ccmesh/broker.conf ./etc/ccmesh/sessions.conf ./etc/ccmesh/worker.conf \
    ./usr/lib/systemd/system/ccmesh-broker.service ./usr/lib/systemd/system/ccmesh-worker.service \
    ./usr/share/man/man1/ccmesh.1.gz ./usr/share/doc/ccmesh/README.md; do
    grep -q " $path\( \|$\)" "$tmp/contents.log" || fail "${deb##*/} lacks $path"
  done
  dpkg-deb -c "$dev" >"$tmp/dev-contents.log"
  for path in ./usr/include/ccmesh/client/client.hpp ./usr/lib/libccmesh-client.a \
    ./usr/lib/cmake/ccmesh/ccmesh-config.cmake ./usr/lib/pkgconfig/ccmesh-client.pc; do
    grep -q " $path\( \|$\)" "$tmp/dev-contents.log" || fail "${dev##*/} lacks $path"
  done
  local depends
  depends=$(deb_field "$deb" Depends)
  for package in libzmq5 adduser; do
    grep -q "\b$package\b" <<<"$depends" || fail "${deb##*/} does not depend on $package: $depends"
  done
  dpkg-deb --info "$deb" conffiles >"$tmp/conffiles.log"
  grep -qx /etc/ccmesh/broker.conf "$tmp/conffiles.log" || fail "broker.conf is no conffile"
  echo "packages: ${deb##*/} ${dev##*/}; Depends: $depends"

  if [ "$(id -u)" -ne 0 ]; then
    echo "PASS (contents only): dpkg -i needs root, this test runs as $(id -un)"
    return 0
  fi

  step "dpkg -i, the installed programs and files, dpkg --purge"
  purge_debs=1
  timeout 60 dpkg -i "$deb" "$dev" >"$tmp/dpkg-install.log" 2>&1 || fail "dpkg -i failed (dpkg-install.log)"
  [ "$(/usr/bin/ccmesh --version)" = "ccmesh $version" ] || fail "/usr/bin/ccmesh --version"
  [ "$(/usr/bin/ccmesh-broker --version)" = "ccmesh-broker $version" ] ||
    fail "/usr/bin/ccmesh-broker --version"
  getent passwd ccmesh >/dev/null || fail "no ccmesh user"
  [ "$(stat -c %U /var/lib/ccmesh)" = ccmesh ] || fail "/var/lib/ccmesh is not the ccmesh user's"
  grep -qx "data-dir = /var/lib/ccmesh" /etc/ccmesh/broker.conf ||
    fail "/etc/ccmesh/broker.conf has no data-dir"
  grep -qx "sessions = /etc/ccmesh/sessions.conf" /etc/ccmesh/broker.conf ||
    fail "/etc/ccmesh/broker.conf does not name /etc/ccmesh/sessions.conf"
  # The units are installed, neither enabled nor started.
  [ -f /usr/lib/systemd/system/ccmesh-broker.service ] || fail "no ccmesh-broker.service"
  if ls /etc/systemd/system/*.wants/ccmesh-* >/dev/null 2>&1; then
    fail "a ccmesh unit is enabled"
  fi
  [ "$(PKG_CONFIG_PATH=/usr/lib/pkgconfig pkg-config --modversion ccmesh-client)" = "$version" ] ||
    fail "pkg-config finds no ccmesh-client $version under /usr"
  # The installed broker and worker run as the units would: user ccmesh, HOME and data-dir
  # /var/lib/ccmesh, the files of /etc/ccmesh; only their fixed ports are replaced by
  # wildcard ones. setpriv and env exec, so each pid is the program's own.
  local as_ccmesh=(setpriv --reuid ccmesh --regid ccmesh --init-groups env HOME=/var/lib/ccmesh)
  local run=/var/lib/ccmesh/install-test  # writable by ccmesh; the purge deletes it
  "${as_ccmesh[@]}" mkdir -p "$run"
  "${as_ccmesh[@]}" /usr/bin/ccmesh-broker --config /etc/ccmesh/broker.conf \
    --frontend 'tcp://127.0.0.1:*' --backend 'tcp://127.0.0.1:*' --http 127.0.0.1:0 \
    --ready-file "$run/broker.ready" >"$tmp/broker.log" 2>&1 &
  broker_pid=$!
  pids+=("$broker_pid")
  ln -s "$run/broker.ready" "$tmp/broker.ready"
  wait_for 20 "ready file from the packaged broker" broker_ready
  frontend=$(sed -n 's/^frontend=//p' "$tmp/broker.ready")
  backend=$(sed -n 's/^backend=//p' "$tmp/broker.ready")
  prefix=/usr
  "${as_ccmesh[@]}" /usr/bin/ccmesh-worker --config /etc/ccmesh/worker.conf \
    --broker "$backend" --id w-install >"$tmp/worker.log" 2>&1 &
  worker_pid=$!
  pids+=("$worker_pid")
  wait_for 20 "the packaged worker in the broker's status" worker_joined
  local answer cli_pid
  answer=$(/usr/bin/ccmesh --broker "$frontend" --timeout 20000 query code_reviewer "hello")
  [[ "$answer" =~ ^turn\ [0-9]+:\ hello$ ]] || fail "the packaged cluster answered '$answer'"
  cli_pid=$(/usr/bin/ccmesh --broker "$frontend" --timeout 20000 query code_reviewer /pid)
  [ "$(readlink "/proc/$cli_pid/exe")" = /usr/bin/ccmesh-mock-cli ] ||
    fail "the packaged worker does not run /usr/bin/ccmesh-mock-cli"
  [ "$(stat -c %U "/proc/$cli_pid")" = ccmesh ] || fail "the CLI does not run as ccmesh"
  wait_for 20 "a transcript file in the data-dir /var/lib/ccmesh" has_transcript_file
  stop_pid "$worker_pid"
  stop_pid "$broker_pid"

  timeout 60 dpkg --purge ccmesh-dev ccmesh >"$tmp/dpkg-purge.log" 2>&1 || fail "dpkg --purge failed"
  purge_debs=0
  for path in /usr/bin/ccmesh /usr/bin/ccmesh-broker /etc/ccmesh /var/lib/ccmesh \
    /usr/lib/systemd/system/ccmesh-broker.service /usr/include/ccmesh; do
    [ ! -e "$path" ] || fail "$path is left after dpkg --purge"
  done
  echo "PASS: dpkg -i, installed ccmesh $version, dpkg --purge"
}

case "$mode" in
  prefix) run_prefix ;;
  deb) run_deb ;;
  *) fail "unknown mode $mode" ;;
esac
