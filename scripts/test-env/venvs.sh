#!/usr/bin/env bash
# Python virtualenvs with MLflow clients, one per version, at
# ~/.cache/stack-doctor/venvs/mlflow-<version>, installed offline from the wheel cache
# shared with images.sh (downloaded from PyPI on first use).
#   venvs.sh [VERSION...]      default: $STACK_DOCTOR_MLFLOW_VERSIONS (2.22.0 2.22.5 3.17.2)
#   venvs.sh --recreate ...    delete and recreate
# Env: STACK_DOCTOR_PYTHON  interpreter for the venvs (default python3; must be CPython 3.11,
#                           the wheels are cp311 manylinux x86_64)
set -euo pipefail
# shellcheck source=scripts/test-env/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RECREATE=0
versions=()
for a in "$@"; do
  case "$a" in
    --recreate) RECREATE=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) versions+=("$a") ;;
  esac
done
(( ${#versions[@]} )) || read -r -a versions <<<"$SD_MLFLOW_VERSIONS"

pyver="$("$SD_HOST_PYTHON" -c 'import sys;print("%d.%d" % sys.version_info[:2])')"
[[ $pyver == 3.11 ]] || die "$SD_HOST_PYTHON is Python $pyver; the cached wheels are for 3.11 (set STACK_DOCTOR_PYTHON)"

venv_version() { "$1/bin/python" -c 'import mlflow; print(mlflow.__version__)' 2>/dev/null; }
# cheap check for reuse (importing mlflow takes seconds); the import is verified at creation
venv_dist_version() { "$1/bin/python" -c 'import importlib.metadata as m; print(m.version("mlflow"))' 2>/dev/null; }

for v in "${versions[@]}"; do
  venv="$SD_CACHE/venvs/mlflow-$v"
  if (( RECREATE == 0 )) && [[ -f "$venv/.complete" ]] && [[ "$(venv_dist_version "$venv")" == "$v" ]]; then
    log "venv mlflow-$v: reused $venv (mlflow $v)"
    continue
  fi
  wheels="$(wheels_for "$v")"
  rm -rf "$venv"; mkdir -p "$(dirname "$venv")"
  log "venv mlflow-$v: creating $venv and installing from $wheels"
  run_logged "venv-$v" "$SD_HOST_PYTHON" -m venv "$venv" || die "python -m venv $venv failed"
  PIP_FIND_LINKS='' run_logged "venv-install-$v" "$venv/bin/python" -m pip install \
    --disable-pip-version-check --no-cache-dir --no-index --find-links "$wheels" "mlflow==$v" \
    || die "pip install mlflow==$v into $venv failed (see $SD_LOGS/venv-install-$v.log)"
  got="$(venv_version "$venv")" || die "$venv: 'import mlflow' fails"
  [[ $got == "$v" ]] || die "$venv: mlflow.__version__ is '$got', expected $v"
  touch "$venv/.complete"
  log "venv mlflow-$v: ready, python -c 'import mlflow; print(mlflow.__version__)' -> $got ($(du -sh "$venv" | cut -f1))"
done
