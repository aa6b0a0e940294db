#!/usr/bin/env bash
# `npm run bench`: builds the CLI and the benchmarks, then runs them (or the ones named).
#   npm run bench            P2 (FileStore, no Docker) then P1 (live demo stack)
#   npm run bench -- p2      one of them
#   npm run bench -- p4      a 1 GiB artifact through ArtifactReader beside curl (MLflow 3.17.2)
#   npm run bench -- p5      extension activation time and bundle sizes
#   npm run bench -- p3      first runs of a 10k-run experiment: explorer vs the MLflow UI
#   npm run bench -- pmem    explorer memory: 100k runs and 1M metric points on a real MLflow 3
# Results: a table on stdout and bench/results/<name>.json.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
which=("${@:-p2 p1}")
read -r -a which <<<"${which[*]}"

node esbuild.mjs >/dev/null
# Bundled inside the repository (bench/results/ is gitignored) so that the bundle's external
# modules (ssh2, cpu-features) resolve from node_modules as the CLI's do.
out="$repo/bench/results/.build-$$"
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT
npx esbuild bench/p1Diagnose.ts bench/p2FileStore.ts bench/p3FirstRows.ts \
    bench/p4ArtifactStream.ts bench/explorerMemory.ts \
    --bundle --platform=node --target=node20 \
    --format=cjs --outdir="$out" --log-level=warning --external:ssh2 --external:cpu-features

for name in "${which[@]}"; do
    case "$name" in
        p1) STACK_DOCTOR_REPO="$repo" node "$out/p1Diagnose.js" ;;
        p2) STACK_DOCTOR_REPO="$repo" node "$out/p2FileStore.js" ;;
        p3) STACK_DOCTOR_REPO="$repo" node "$out/p3FirstRows.js" ;;
        p4) STACK_DOCTOR_REPO="$repo" node "$out/p4ArtifactStream.js" ;;
        p5) node bench/activation.mjs ;;
        pmem) STACK_DOCTOR_REPO="$repo" node "$out/explorerMemory.js" ;;
        *) echo "unknown benchmark: $name (p1, p2, p3, p4, p5, pmem)" >&2; exit 2 ;;
    esac
done
