#!/usr/bin/env bash
# Start/stop/query a local Docker Engine for the real-component tests.
#   dockerd.sh start    start dockerd in the background unless `docker version` already answers
#   dockerd.sh stop     stop the dockerd that THIS script started (pidfile); never any other
#   dockerd.sh status   say whether the engine answers and who started it
# Env: STACK_DOCTOR_DOCKERD_TIMEOUT (seconds to wait for readiness, default 60)
set -euo pipefail
# shellcheck source=scripts/test-env/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PIDFILE="$SD_CACHE/dockerd.pid"
LOGFILE="$SD_CACHE/dockerd.log"
SOCK="unix:///var/run/docker.sock"
TIMEOUT="${STACK_DOCTOR_DOCKERD_TIMEOUT:-60}"

our_pid() {
  # prints the pid if the pidfile names a live dockerd process
  [[ -f "$PIDFILE" ]] || return 1
  local pid; pid="$(cat "$PIDFILE")"
  [[ -n "$pid" && -d "/proc/$pid" ]] || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == dockerd ]] || return 1
  echo "$pid"
}

server_version() { docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null; }

cmd_start() {
  if docker_ready; then
    if pid="$(our_pid)"; then
      log "reused: dockerd already running (pid $pid, started by this script), engine $(server_version)"
    else
      log "reused: a Docker Engine already answers (not started by this script), engine $(server_version)"
    fi
    return 0
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    log "dockerd not found: installing docker.io with apt-get"
    apt_install docker.io
    command -v dockerd >/dev/null 2>&1 || die "docker.io installed but dockerd still not on PATH"
  fi
  if pid="$(our_pid)"; then
    log "dockerd pid $pid (ours) is alive but does not answer yet; waiting for it"
  else
    rm -f "$PIDFILE"
    log "starting dockerd --host $SOCK (log $LOGFILE)"
    # setsid: own session, so it outlives this shell and is not hit by its job control
    setsid dockerd --host "$SOCK" >>"$LOGFILE" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$PIDFILE"
  fi
  local waited=0
  until docker_ready; do
    if [[ ! -d "/proc/$pid" ]]; then
      rm -f "$PIDFILE"
      tail -n 20 "$LOGFILE" | sed 's/^/    /' >&2
      die "dockerd (pid $pid) exited during startup; see $LOGFILE"
    fi
    if (( waited >= TIMEOUT * 4 )); then
      tail -n 20 "$LOGFILE" | sed 's/^/    /' >&2
      die "dockerd (pid $pid) did not answer 'docker version' within ${TIMEOUT}s; see $LOGFILE"
    fi
    sleep 0.25; waited=$((waited + 1))
  done
  log "started: dockerd pid $pid ready after $(awk -v w="$waited" 'BEGIN{print w/4}')s, engine $(server_version)"
}

cmd_stop() {
  local pid
  if ! pid="$(our_pid)"; then
    rm -f "$PIDFILE"
    if docker_ready; then
      log "nothing to stop: the running Docker Engine was not started by this script (left alone)"
    else
      log "nothing to stop: no dockerd started by this script is running"
    fi
    return 0
  fi
  log "stopping dockerd pid $pid"
  kill -TERM "$pid"
  for _ in $(seq 1 120); do
    [[ -d "/proc/$pid" ]] || break
    sleep 0.25
  done
  if [[ -d "/proc/$pid" ]]; then
    die "dockerd pid $pid still running 30s after SIGTERM; see $LOGFILE"
  fi
  rm -f "$PIDFILE"
  log "stopped dockerd pid $pid"
}

cmd_status() {
  local pid=""
  pid="$(our_pid)" || pid=""
  if docker_ready; then
    if [[ -n "$pid" ]]; then
      echo "running: engine $(server_version), dockerd pid $pid started by this script (pidfile $PIDFILE)"
    else
      echo "running: engine $(server_version), not started by this script"
    fi
  elif [[ -n "$pid" ]]; then
    echo "starting or hung: dockerd pid $pid (ours) does not answer; log $LOGFILE"
    return 1
  else
    echo "stopped: no Docker Engine answers on $SOCK"
    return 3
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
