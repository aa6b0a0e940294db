#!/usr/bin/env bash
# Give the locally built MLflow images the official names the example compose files use
# (ghcr.io/mlflow/mlflow:v<version>), unless those images are already there or can be pulled.
#   official-tags.sh 2.22.0 3.18.0
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
for version in "$@"; do
    official="ghcr.io/mlflow/mlflow:v$version"
    if docker image inspect "$official" >/dev/null 2>&1; then
        log "$official: present"
        continue
    fi
    if timeout --kill-after=5 "${STACK_DOCTOR_PULL_TIMEOUT:-15}" docker pull -q "$official" >/dev/null 2>&1; then
        log "$official: pulled"
        continue
    fi
    docker image inspect "stack-doctor/mlflow:$version" >/dev/null 2>&1 \
        || die "stack-doctor/mlflow:$version is not built; run scripts/test-env/images.sh mlflow:$version"
    docker tag "stack-doctor/mlflow:$version" "$official"
    log "$official: no registry reachable; tagged the local build stack-doctor/mlflow:$version"
done
