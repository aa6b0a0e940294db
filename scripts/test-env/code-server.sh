#!/usr/bin/env bash
# Provide code-server (the VS Code workbench in a browser, with the real Node extension host) for
# the end-to-end tests in test/e2e/. Desktop VS Code cannot be downloaded on this machine.
#   code-server.sh           install code-server into ~/.cache/stack-doctor/code-server unless a
#                            verified install of the same version is there
#   code-server.sh --force   reinstall
# Prints the binary's path on stdout. Steps: /work/shared/notes/vscode-offline.md.
# Env: STACK_DOCTOR_CODE_SERVER_VERSION (default 4.100.3, the last release for Node 20).
set -euo pipefail
# shellcheck source=scripts/test-env/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VERSION="${STACK_DOCTOR_CODE_SERVER_VERSION:-4.100.3}"
DIR="$SD_CACHE/code-server"
BIN="$DIR/node_modules/.bin/code-server"
STAMP="$DIR/.complete-$VERSION"
FORCE=0
for a in "$@"; do
  case "$a" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) die "unknown argument '$a'" ;;
  esac
done

# code-server writes a default config on first start (and says so on stdout); keep that in the
# cache, not in ~/.config, and read the version from the line that starts with one.
installed_version() {
  { XDG_CONFIG_HOME="$DIR/.config" "$BIN" --version 2>/dev/null || true; } \
    | grep -Eo '^[0-9]+\.[0-9]+\.[0-9]+' | head -n 1
}

if (( FORCE == 0 )) && [[ -f "$STAMP" ]] && [[ "$(installed_version)" == "$VERSION" ]]; then
  log "code-server: reused $VERSION ($BIN)"
  echo "$BIN"; exit 0
fi

# Headers for the native modules VS Code rebuilds, and Debian's rg in place of @vscode/ripgrep's
# download (the code host it fetches from cannot be reached here).
missing=()
for p in libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config ripgrep; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if (( ${#missing[@]} )); then
  log "code-server: apt packages ${missing[*]}"
  apt_install "${missing[@]}"
fi
[[ -x /usr/bin/rg ]] || die "/usr/bin/rg is missing after installing ripgrep"

# A half-finished install is not trusted: start from an empty folder.
rm -rf "$DIR"
mkdir -p "$DIR"
cd "$DIR"
printf '{ "name": "stack-doctor-code-server", "private": true }\n' >package.json

log "code-server: npm install --ignore-scripts code-server@$VERSION"
# The package's postinstall would fetch a ripgrep binary from a code host; the steps below do
# its work offline instead.
run_logged code-server-npm npm install --no-audit --no-fund --ignore-scripts "code-server@$VERSION" \
  || die "npm install code-server@$VERSION failed"

CS="$DIR/node_modules/code-server"
VS="$CS/lib/vscode"
[[ -d "$VS" ]] || die "$VS is missing: the code-server package layout changed"

log "code-server: VS Code dependencies (lib/vscode)"
(cd "$VS" && run_logged code-server-vscode-npm npm install --no-audit --no-fund --omit=dev --ignore-scripts) \
  || die "npm install in lib/vscode failed"
mkdir -p "$VS/node_modules/@vscode/ripgrep/bin"
ln -sf /usr/bin/rg "$VS/node_modules/@vscode/ripgrep/bin/rg"

log "code-server: rebuilding native modules"
# node-pty's install script calls npx, and this machine's npm config answers no to npx prompts.
(cd "$VS" && npm_config_yes=true run_logged code-server-rebuild npm rebuild \
  kerberos @parcel/watcher node-pty @vscode/spdlog native-watchdog @vscode/deviceid) \
  || die "npm rebuild of VS Code's native modules failed"

# What code-server's postinstall would have done.
ln -sfn node_modules "$VS/node_modules.asar"
ln -sf code-linux.sh "$VS/bin/remote-cli/code-server"
ln -sf browser-linux.sh "$VS/bin/helpers/browser.sh"
log "code-server: built-in extensions' dependencies"
(cd "$VS/extensions" && run_logged code-server-extensions-npm npm install --no-audit --no-fund --omit=dev) \
  || die "npm install in lib/vscode/extensions failed"
# argon2 is hoisted next to code-server, so it is rebuilt from the top folder.
(cd "$DIR" && run_logged code-server-argon2 npm rebuild argon2) || die "npm rebuild argon2 failed"

got="$(installed_version)"
[[ "$got" == "$VERSION" ]] || die "code-server --version printed '${got:-nothing}', expected $VERSION"
touch "$STAMP"
log "code-server: installed $got ($BIN)"
echo "$BIN"
