#!/usr/bin/env bash
# Checks the systemd units of config/systemd with `systemd-analyze verify`: copies whose
# ExecStart names the built programs (verify checks that they exist and are executable) and
# whose man: links resolve against the built man pages. Any message about our units fails,
# and so does a broker sandbox looser than its exposure budget (`systemd-analyze security`).
# Without systemd-analyze the test fails, unless CCMESH_SKIP_SYSTEMD=1 (then it skips: 77).
# Usage: systemd_units_test.sh SOURCE_DIR MAN_DIR PROGRAM_PATH...
set -euo pipefail
source_dir=$1
man_dir=$2
shift 2

if ! command -v systemd-analyze >/dev/null; then
  if [ "${CCMESH_SKIP_SYSTEMD:-0}" = 1 ]; then
    echo "skipped: CCMESH_SKIP_SYSTEMD=1 and systemd-analyze is not installed"
    exit 77
  fi
  echo "FAIL: systemd-analyze is not installed (package systemd), or set CCMESH_SKIP_SYSTEMD=1" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
units=()
for unit in "$source_dir"/config/systemd/*.service; do
  cp "$unit" "$work/"
  units+=("$work/$(basename "$unit")")
done
for program in "$@"; do
  sed -i "s|/usr/bin/$(basename "$program") |$program |" "${units[@]}"
done
if grep -n "^ExecStart=/usr/bin/" "${units[@]}"; then
  echo "FAIL: an ExecStart above names a program this test was not given" >&2
  exit 1
fi

# The package installs the man pages the units' Documentation= names; here they are the
# build's. Without help2man there are none, and only the links go unchecked.
man_check=(--man=yes)
if [ -f "$man_dir/ccmesh-broker.1.gz" ] && command -v man >/dev/null; then
  mkdir "$work/man"
  ln -s "$man_dir" "$work/man/man1"
  export MANPATH="$work/man"
else
  echo "note: no built man pages in $man_dir, or no man: Documentation= links unchecked"
  man_check=(--man=no)
fi

status=0
output=$(systemd-analyze verify "${man_check[@]}" "${units[@]}" 2>&1) || status=$?
echo "$output"
if [ "$status" -ne 0 ] || grep -q "ccmesh" <<<"$output"; then
  echo "FAIL: systemd-analyze verify (status $status) reported the problems above" >&2
  exit 1
fi

# The broker needs nothing but its sockets, /etc/ccmesh and its state directory: keep its
# sandbox tight (`systemd-analyze security` scores 0 safe .. 10 exposed; --threshold counts
# tenths).
if grep -q -- "--offline" <<<"$(systemd-analyze security --help)"; then
  systemd-analyze security --offline=true --threshold=30 "$work/ccmesh-broker.service" \
    >"$work/security.txt" 2>&1 || {
    cat "$work/security.txt"
    echo "FAIL: the broker's unit is exposed beyond 3.0 (systemd-analyze security above)" >&2
    exit 1
  }
  tail -1 "$work/security.txt"
fi
echo "ok: ${units[*]##*/}"
