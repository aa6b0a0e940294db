# shellcheck shell=bash
# Shared helpers for scripts/test-env/*.sh. Source it; do not run it.
# Quiet by default: progress goes to stderr, one line per step. Set
# STACK_DOCTOR_VERBOSE=1 to see the full output of the underlying tools.

SD_CACHE="${STACK_DOCTOR_CACHE:-$HOME/.cache/stack-doctor}"
SD_LOGS="$SD_CACHE/logs"
SD_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034  # used by the scripts that source this file
SD_REPO="$(cd "$SD_HERE/../.." && pwd)"
# 2.22.0: last 2.x with the runs/search run_uuid TypeError (fixed in 2.22.1); 2.22.5: newest 2.x;
# 3.17.2: newest 3.x that PyPI can install (3.18.0 pins mlflow-tracing==3.18.0, which PyPI
# does not serve: its newest is 3.17.2).
# shellcheck disable=SC2034
SD_MLFLOW_VERSIONS="${STACK_DOCTOR_MLFLOW_VERSIONS:-2.22.0 2.22.5 3.17.2}"
# shellcheck disable=SC2034
SD_LABEL="org.stack-doctor.test=1"
mkdir -p "$SD_CACHE" "$SD_LOGS"

sd_name="$(basename "$0" .sh)"
log() { printf '[%s] %s\n' "$sd_name" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$sd_name" "$*" >&2; exit 1; }

# run_logged LOGNAME CMD... : run quietly, output to $SD_LOGS/LOGNAME.log;
# on failure show the tail of the log and return the command's status.
run_logged() {
  local name="$1"; shift
  local logf="$SD_LOGS/$name.log"
  if [[ "${STACK_DOCTOR_VERBOSE:-0}" == 1 ]]; then
    "$@" 2>&1 | tee "$logf" >&2
    return "${PIPESTATUS[0]}"
  fi
  local rc=0
  "$@" >"$logf" 2>&1 || rc=$?
  if (( rc != 0 )); then
    printf '[%s] command failed (exit %d): %s\n[%s] last lines of %s:\n' \
      "$sd_name" "$rc" "$*" "$sd_name" "$logf" >&2
    tail -n "${STACK_DOCTOR_TAIL:-12}" "$logf" | sed 's/^/    /' >&2
  fi
  return "$rc"
}

# apt_install PKG... : apt-get update (once per script run) then install.
_sd_apt_updated=0
apt_install() {
  if (( _sd_apt_updated == 0 )); then
    run_logged apt-update apt-get update || die "apt-get update failed"
    _sd_apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive run_logged "apt-install-$1" \
    apt-get install -y --no-install-recommends "$@" || die "apt-get install $* failed"
}

docker_ready() { docker version >/dev/null 2>&1; }
need_docker() {
  docker_ready || die "Docker Engine does not answer; run scripts/test-env/dockerd.sh start"
}
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# python3 used on the host to download wheels / create client venvs.
SD_HOST_PYTHON="${STACK_DOCTOR_PYTHON:-python3}"

# wheels_for VERSION : ensure a complete wheel set for mlflow==VERSION
# (cp311, manylinux x86_64; sdists are turned into wheels on the host).
# Prints the directory on stdout.
wheels_for() {
  local v="$1" dir="$SD_CACHE/wheels/mlflow-$1"
  if [[ -f "$dir/.complete" ]]; then
    log "wheels mlflow==$v: cached ($(ls "$dir"/*.whl | wc -l) wheels in $dir)"
    echo "$dir"; return 0
  fi
  # another process may be filling the same dir (all.sh runs steps in parallel)
  mkdir -p "$dir"
  exec {lockfd}>"$dir.lock"
  flock "$lockfd"
  if [[ ! -f "$dir/.complete" ]]; then
    log "wheels mlflow==$v: downloading from PyPI into $dir"
    # PIP_FIND_LINKS from the environment would let pip pick up unrelated local files
    PIP_FIND_LINKS='' run_logged "pip-download-$v" "$SD_HOST_PYTHON" -m pip download \
      --disable-pip-version-check \
      --python-version 3.11 --implementation cp --abi cp311 \
      --platform manylinux_2_36_x86_64 --platform manylinux_2_34_x86_64 \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
      --platform manylinux2014_x86_64 --platform manylinux1_x86_64 --platform any \
      --only-binary=:all: \
      "mlflow==$v" -d "$dir" \
      || { local why; why="$(grep -o 'No matching distribution found for .*' "$SD_LOGS/pip-download-$v.log" | head -1)"
           die "pip download mlflow==$v failed${why:+: $why (PyPI does not serve it)} (see $SD_LOGS/pip-download-$v.log)"; }
    touch "$dir/.complete"
    log "wheels mlflow==$v: $(ls "$dir"/*.whl | wc -l) wheels, $(du -sh "$dir" | cut -f1)"
  else
    log "wheels mlflow==$v: cached (filled by a parallel step)"
  fi
  flock -u "$lockfd"; exec {lockfd}>&-
  echo "$dir"
}

# timing helper: time_step NAME CMD...
time_step() {
  local name="$1"; shift
  local t0 t1 rc=0
  t0=$(date +%s.%N)
  "$@" || rc=$?
  t1=$(date +%s.%N)
  printf '[%s] step %-8s %s in %.1fs\n' "$sd_name" "$name" \
    "$([[ $rc == 0 ]] && echo "done" || echo "FAILED(exit $rc)")" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" >&2
  return "$rc"
}
