#!/usr/bin/env bash
# The README's first command: bring up the seed's broken stack, reproduce its three faults for
# real, and diagnose it.
#   npm run demo              reproduce and diagnose (installs what it needs)
#   npm run demo -- --down    stop the demo stack and remove its containers
# Env: STACK_DOCTOR_DEMO_DIR (default ~/.cache/stack-doctor/demo), MLFLOW_PORT (default 5000).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
demo_root="${STACK_DOCTOR_DEMO_DIR:-$HOME/.cache/stack-doctor/demo}"
demo="$demo_root/seed-stack"
export MLFLOW_PORT="${MLFLOW_PORT:-5000}"
say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

compose() { docker compose --project-directory "$demo" -f "$demo/compose.yaml" "$@"; }

if [[ "${1:-}" == "--down" ]]; then
    if [[ -d $demo ]]; then compose down --volumes --remove-orphans; fi
    echo "The demo stack is down. dockerd keeps running; stop it with: bash scripts/test-env/dockerd.sh stop"
    exit 0
fi

say "Installing what the demo needs (cached after the first run)"
cd "$repo"
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund
fi
node esbuild.mjs
bash scripts/test-env/dockerd.sh start
bash scripts/test-env/compose.sh
STACK_DOCTOR_MLFLOW_VERSIONS="2.22.0 3.17.2" bash scripts/test-env/images.sh python mlflow:2.22.0 mlflow:3.17.2
STACK_DOCTOR_MLFLOW_VERSIONS="3.17.2" bash scripts/test-env/venvs.sh
bash scripts/test-env/official-tags.sh 2.22.0 3.17.2

say "Laying out the seed stack in $demo"
if [[ -d $demo ]]; then compose down --volumes --remove-orphans >/dev/null 2>&1 || true; fi
rm -rf "$demo"
mkdir -p "$demo_root"
cp -a "$repo/examples/seed-stack" "$demo"
# The workspace's interpreter: the notebook runs with MLflow 3.17.2 from this venv.
ln -s "$HOME/.cache/stack-doctor/venvs/mlflow-3.17.2" "$demo/.venv"

say "Fault 1: the job starts before the server listens (connection refused)"
compose up -d
for _ in $(seq 1 60); do
    state="$(docker inspect -f '{{.State.Status}}' seed-stack-notebook-1 2>/dev/null || echo missing)"
    [[ $state == exited ]] && break
    sleep 1
done
docker logs --tail 3 seed-stack-notebook-1 2>&1 | sed 's/^/  notebook | /' >&2
for _ in $(seq 1 90); do
    curl -fsS "http://127.0.0.1:$MLFLOW_PORT/health" >/dev/null 2>&1 && break
    sleep 1
done

say "Fault 2: the MLflow 3 notebook writes ./mlruns directly; the 2.22.0 server now answers 500"
"$demo/.venv/bin/python" scripts/run-notebook.py "$demo/notebooks/train.ipynb" >&2
experiment="$(curl -s "http://127.0.0.1:$MLFLOW_PORT/api/2.0/mlflow/experiments/get-by-name?experiment_name=churn" \
    | sed -n 's/.*"experiment_id": *"\([0-9]*\)".*/\1/p')"
code="$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -d "{\"experiment_ids\":[\"$experiment\"],\"max_results\":10}" \
    "http://127.0.0.1:$MLFLOW_PORT/api/2.0/mlflow/runs/search" || true)"
echo "  POST /api/2.0/mlflow/runs/search on experiment churn ($experiment) → HTTP $code" >&2

say "Fault 3: the host folder behind ./mlruns is replaced; the container keeps the old one"
# What a sync client or a Windows host does to a bind-mounted folder: new folder, same contents.
mv "$demo/mlruns" "$demo/mlruns.replaced"
cp -a "$demo/mlruns.replaced" "$demo/mlruns"
"$demo/.venv/bin/python" scripts/run-notebook.py "$demo/notebooks/train.ipynb" >&2

say "Diagnosis"
set +e
node dist/cli.js diagnose "$demo"
status=$?
set -e
cat >&2 <<MSG

stack-doctor exited with $status (0 healthy, 1 problems found, 2 could not diagnose).
The stack is still up, so you can look around: http://127.0.0.1:$MLFLOW_PORT
Bring it down with:  npm run demo -- --down
MSG
[[ $status == 1 ]]
