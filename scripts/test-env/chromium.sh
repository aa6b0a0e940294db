#!/usr/bin/env bash
# Provide Debian's chromium for the end-to-end tests (driven by playwright-core, whose own
# browser download cannot be reached from here). Prints the binary's path on stdout.
set -euo pipefail
# shellcheck source=scripts/test-env/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BIN=/usr/bin/chromium
if [[ -x "$BIN" ]] && v="$("$BIN" --version 2>/dev/null)"; then
  log "chromium: reused $v"
  echo "$BIN"; exit 0
fi
log "chromium: installing Debian's chromium (apt)"
apt_install chromium
v="$("$BIN" --version 2>/dev/null)" || die "$BIN --version failed after installing chromium"
log "chromium: installed $v"
echo "$BIN"
