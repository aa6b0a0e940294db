#!/usr/bin/env bash
# The README's second command (`npm test`) and what CI runs: install, lint, typecheck, build,
# unit tests, then the real-component tests against a Docker Engine, MLflow servers and clients
# that this script sets up (cached between runs on the same machine).
#   npm test                  everything
#   npm test -- --unit        lint, typecheck, build and unit tests only
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
step() { printf '\n== %s (%ss)\n' "$*" "$SECONDS" >&2; }

step "Installing npm packages"
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund
fi

step "Lint and format check"
npx eslint .
npx prettier --check .

step "Typecheck"
npm run --silent typecheck

step "Build"
node esbuild.mjs

step "Unit tests"
node scripts/run-tests.mjs test/unit

if [[ "${1:-}" == "--unit" ]]; then exit 0; fi

step "Real components: Docker Engine, images, MLflow clients, Compose"
started_dockerd=0
if ! docker version >/dev/null 2>&1; then started_dockerd=1; fi
bash scripts/test-env/all.sh
# dockerd is the one long-running thing this script may start; stop it again on the way out.
if (( started_dockerd == 1 )); then trap 'bash scripts/test-env/dockerd.sh stop' EXIT; fi

step "Integration tests"
STACK_DOCTOR_REQUIRE_REAL=1 node scripts/run-tests.mjs test/integration
step "End-to-end tests: real VS Code (code-server) driven by chromium"
STACK_DOCTOR_REQUIRE_REAL=1 node scripts/run-tests.mjs test/e2e
step "Done"
