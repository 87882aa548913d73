#!/usr/bin/env bash
# Installs a pinned Claude Code CLI (npm package @anthropic-ai/claude-code) into
# .tools/claude/ of the project, for the end-to-end tests and benchmarks. Nothing is
# installed globally. Idempotent: exits at once when that version is already there.
# Prints the path of the `claude` binary on stdout (progress goes to stderr).
#
# Environment: CCMESH_CLAUDE_VERSION overrides the pinned version; CCMESH_TOOLS_DIR the
# folder (default: <project>/.tools).
set -euo pipefail
cd "$(dirname "$0")/.."

version=${CCMESH_CLAUDE_VERSION:-2.1.330}
prefix=${CCMESH_TOOLS_DIR:-$PWD/.tools}/claude
binary=$prefix/node_modules/.bin/claude

installed_version() {
  [ -x "$binary" ] || return 1
  "$binary" --version 2>/dev/null | awk 'NR == 1 { print $1 }'
}

if [ "$(installed_version || true)" = "$version" ]; then
  echo "$binary"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "installing npm (needed once to fetch the Claude Code CLI)" >&2
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq >&2
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends nodejs npm >&2
fi

echo "installing @anthropic-ai/claude-code@$version into $prefix" >&2
mkdir -p "$prefix"
# The package is a thin wrapper whose install step links the platform's native binary
# (an optional dependency) over bin/claude.exe; it runs on any Node that npm runs on.
npm install --prefix "$prefix" --no-audit --no-fund --no-save --loglevel=error \
  --engine-strict=false "@anthropic-ai/claude-code@$version" >&2

if [ "$(installed_version || true)" != "$version" ]; then
  # npm versions that hold install scripts back leave the placeholder in place: link the
  # native binary ourselves.
  package=$prefix/node_modules/@anthropic-ai/claude-code
  (cd "$package" && node install.cjs) >&2 || true
fi

got=$(installed_version || true)
if [ "$got" != "$version" ]; then
  echo "error: $binary reports version '${got:-none}', expected $version" >&2
  exit 1
fi
echo "$binary"
