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

# MLflow 2.x pins no upper bound on SQLAlchemy, and its SQL store fails to import with 2.1
# (`cannot import name 'FallbackAsyncAdaptedQueuePool'`), so a 2.x venv could not serve SQLite.
# The venvs get the last 2.0; the images keep what pip picks, as a user's `pip install` would.
extra_pins() { [[ $1 == 2.* ]] && echo 'sqlalchemy<2.1'; return 0; }
sqlalchemy_version() { "$1/bin/python" -c 'import importlib.metadata as m; print(m.version("sqlalchemy"))' 2>/dev/null; }
pins_hold() {
  [[ $1 == 2.* ]] || return 0
  [[ "$(sqlalchemy_version "$2")" == 2.0.* ]]
}
# The pinned wheels join the version's wheel set, downloaded once.
fetch_pins() {
  local v="$1" dir="$2" pins
  pins="$(extra_pins "$v")"; [[ -n $pins ]] || return 0
  [[ -f "$dir/.pins-complete" ]] && return 0
  PIP_FIND_LINKS='' run_logged "pip-download-pins-$v" "$SD_HOST_PYTHON" -m pip download \
    --disable-pip-version-check --python-version 3.11 --implementation cp --abi cp311 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any \
    --only-binary=:all: "$pins" -d "$dir" \
    || die "pip download $pins failed (see $SD_LOGS/pip-download-pins-$v.log)"
  touch "$dir/.pins-complete"
}

for v in "${versions[@]}"; do
  venv="$SD_CACHE/venvs/mlflow-$v"
  if (( RECREATE == 0 )) && [[ -f "$venv/.complete" ]] && [[ "$(venv_dist_version "$venv")" == "$v" ]]; then
    if ! pins_hold "$v" "$venv"; then
      wheels="$(wheels_for "$v")"; fetch_pins "$v" "$wheels"
      PIP_FIND_LINKS='' run_logged "venv-pins-$v" "$venv/bin/python" -m pip install \
        --disable-pip-version-check --no-cache-dir --no-index --find-links "$wheels" \
        "mlflow==$v" "$(extra_pins "$v")" \
        || die "pinning $(extra_pins "$v") in $venv failed (see $SD_LOGS/venv-pins-$v.log)"
      log "venv mlflow-$v: pinned $(extra_pins "$v") (now $(sqlalchemy_version "$venv"))"
    fi
    log "venv mlflow-$v: reused $venv (mlflow $v)"
    continue
  fi
  wheels="$(wheels_for "$v")"
  fetch_pins "$v" "$wheels"
  rm -rf "$venv"; mkdir -p "$(dirname "$venv")"
  log "venv mlflow-$v: creating $venv and installing from $wheels"
  run_logged "venv-$v" "$SD_HOST_PYTHON" -m venv "$venv" || die "python -m venv $venv failed"
  PIP_FIND_LINKS='' run_logged "venv-install-$v" "$venv/bin/python" -m pip install \
    --disable-pip-version-check --no-cache-dir --no-index --find-links "$wheels" "mlflow==$v" $(extra_pins "$v") \
    || die "pip install mlflow==$v into $venv failed (see $SD_LOGS/venv-install-$v.log)"
  got="$(venv_version "$venv")" || die "$venv: 'import mlflow' fails"
  [[ $got == "$v" ]] || die "$venv: mlflow.__version__ is '$got', expected $v"
  touch "$venv/.complete"
  log "venv mlflow-$v: ready, python -c 'import mlflow; print(mlflow.__version__)' -> $got ($(du -sh "$venv" | cut -f1))"
done
