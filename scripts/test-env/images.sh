#!/usr/bin/env bash
# Build (and cache by tag) the local images used by the real-component tests.
#   images.sh                 build every image that is missing
#   images.sh busybox python mlflow:2.22.0 ...   build only these
#   images.sh --rebuild ...   rebuild even when the tag exists
# Env:
#   STACK_DOCTOR_USE_REGISTRY=1   first try the official images (ghcr.io/mlflow/mlflow:v<ver>,
#                                 python:3.11-bookworm, busybox:1) with a short timeout,
#                                 falling back to the local build
#   STACK_DOCTOR_PULL_TIMEOUT     seconds for that pull (default 15)
#   STACK_DOCTOR_DEBIAN_MIRROR    mirror for debootstrap (default: the host's apt source)
#   STACK_DOCTOR_MLFLOW_VERSIONS  default "2.22.0 2.22.5 3.17.2" (3.18.0 is not installable from PyPI)
set -euo pipefail
# shellcheck source=scripts/test-env/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUSYBOX_TAG="stack-doctor/busybox:1"
PYTHON_TAG="stack-doctor/python:3.11-bookworm"
ROOTFS="$SD_CACHE/debootstrap/bookworm-minbase"
DOCKERFILE_DIR="$SD_REPO/test/fixtures/images/mlflow"
REBUILD=0

image_size() { docker image inspect --format '{{.Size}}' "$1" | awk '{printf "%.0f MB", $1/1e6}'; }

# try_registry OFFICIAL LOCALTAG : pull OFFICIAL and retag it (with our label) as LOCALTAG.
try_registry() {
  [[ "${STACK_DOCTOR_USE_REGISTRY:-0}" == 1 ]] || return 1
  local official="$1" tag="$2" t="${STACK_DOCTOR_PULL_TIMEOUT:-15}"
  log "$tag: trying docker pull $official (timeout ${t}s)"
  local plog="$SD_LOGS/pull-${tag//[\/:]/_}.log" rc=0
  timeout --kill-after=5 "$t" docker pull "$official" >"$plog" 2>&1 || rc=$?
  if (( rc != 0 )); then
    local why; why="$(tail -n 1 "$plog" | cut -c1-160)"
    (( rc == 124 )) && why="timed out after ${t}s"
    log "$tag: pull of $official failed ($why); falling back to the local build"
    return 1
  fi
  printf 'FROM %s\nLABEL org.stack-doctor.test="1" org.stack-doctor.source="%s"\n' "$official" "$official" \
    | run_logged "retag-${tag//[\/:]/_}" docker build -q -t "$tag" - \
    || die "could not relabel $official as $tag"
  log "$tag: built from registry image $official ($(image_size "$tag"))"
}

skip_if_cached() {
  if (( REBUILD == 0 )) && image_exists "$1"; then
    log "$1: reused cached image ($(image_size "$1"))"
    return 0
  fi
  return 1
}

build_busybox() {
  skip_if_cached "$BUSYBOX_TAG" && return 0
  try_registry "busybox:1" "$BUSYBOX_TAG" && return 0
  local bb=/bin/busybox
  if [[ ! -x $bb ]] || ! file -b "$bb" 2>/dev/null | grep -q 'statically linked'; then
    log "installing busybox-static (apt)"
    apt_install busybox-static
  fi
  local root; root="$(mktemp -d "$SD_CACHE/busybox-root.XXXXXX")"
  mkdir -p "$root"/{bin,etc,tmp,root,var/www,proc,sys,dev}
  chmod 1777 "$root/tmp"
  cp "$bb" "$root/bin/busybox"
  local applet
  for applet in $("$root/bin/busybox" --list); do
    [[ $applet == busybox ]] || ln -s busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  tar --numeric-owner -C "$root" -c . | run_logged import-busybox docker import \
    --change "LABEL $SD_LABEL" --change 'ENV PATH=/bin' --change 'CMD ["sh"]' \
    - "$BUSYBOX_TAG" || die "docker import of $BUSYBOX_TAG failed"
  rm -rf "$root"
  log "$BUSYBOX_TAG: built from $bb ($("$bb" 2>&1 | head -1 | cut -d' ' -f1-2), $(image_size "$BUSYBOX_TAG"))"
}

# The Debian mirror the host's apt uses for bookworm (deb822 or one-line sources).
host_debian_mirror() {
  if [[ -n "${STACK_DOCTOR_DEBIAN_MIRROR:-}" ]]; then echo "$STACK_DOCTOR_DEBIAN_MIRROR"; return; fi
  local f uri=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    uri="$(awk 'BEGIN{RS=""} /(^|\n)Suites:[^\n]*[ \t]bookworm([ \t]|\n|$)/ && /(^|\n)Types:[^\n]*deb([ \t]|\n|$)/ {
             if (match($0, /(^|\n)URIs:[ \t]*[^ \t\n]+/)) { s=substr($0,RSTART,RLENGTH); sub(/.*URIs:[ \t]*/,"",s); print s; exit } }' "$f")"
    [[ -n $uri ]] && break
  done
  if [[ -z $uri ]]; then
    uri="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | sed -E 's/\[[^]]*\]//' | awk '$1=="deb" && $3=="bookworm" {print $2; exit}')"
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

build_python_base() {
  skip_if_cached "$PYTHON_TAG" && return 0
  try_registry "python:3.11-bookworm" "$PYTHON_TAG" && return 0
  command -v debootstrap >/dev/null 2>&1 || { log "installing debootstrap (apt)"; apt_install debootstrap; }
  if [[ -f "$ROOTFS.complete" && -x "$ROOTFS/usr/bin/python3" ]]; then
    log "debootstrap rootfs: reused $ROOTFS"
  else
    local mirror; mirror="$(host_debian_mirror)"
    rm -rf "$ROOTFS" "$ROOTFS.complete"
    mkdir -p "$(dirname "$ROOTFS")"
    log "debootstrap --variant=minbase bookworm from $mirror into $ROOTFS (about a minute)"
    run_logged debootstrap debootstrap --variant=minbase \
      --include=python3,python3-venv,ca-certificates bookworm "$ROOTFS" "$mirror" \
      || die "debootstrap failed (see $SD_LOGS/debootstrap.log and $ROOTFS/debootstrap/debootstrap.log)"
    # keep the rootfs small: no downloaded .debs, no apt lists (apt-get update works in containers)
    rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/tmp/*
    touch "$ROOTFS.complete"
  fi
  local pyver; pyver="$(chroot "$ROOTFS" python3 -c 'import platform;print(platform.python_version())')"
  tar --numeric-owner -C "$ROOTFS" -c . | run_logged import-python docker import \
    --change "LABEL $SD_LABEL" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
    --change 'CMD ["python3"]' - "$PYTHON_TAG" || die "docker import of $PYTHON_TAG failed"
  log "$PYTHON_TAG: imported from $ROOTFS (python $pyver, $(image_size "$PYTHON_TAG"))"
}

build_mlflow() {
  local v="$1" tag="stack-doctor/mlflow:$1"
  skip_if_cached "$tag" && return 0
  try_registry "ghcr.io/mlflow/mlflow:v$v" "$tag" && return 0
  image_exists "$PYTHON_TAG" || build_python_base
  local wheels; wheels="$(wheels_for "$v")"
  local ctx; ctx="$(mktemp -d "$SD_CACHE/build-ctx.XXXXXX")"
  # hard links when possible (same filesystem), copies otherwise
  cp -al "$wheels" "$ctx/wheels" 2>/dev/null || cp -a "$wheels" "$ctx/wheels"
  rm -f "$ctx/wheels/.complete"
  cp "$DOCKERFILE_DIR/Dockerfile" "$ctx/Dockerfile"
  log "$tag: docker build --network host (pip install --no-index from $(ls "$ctx/wheels" | wc -l) wheels)"
  local rc=0
  # the legacy builder: dockerd 20.10 here, and no buildx plugin is needed
  DOCKER_BUILDKIT=0 run_logged "build-mlflow-$v" docker build --network host --force-rm \
    --build-arg "BASE=$PYTHON_TAG" --build-arg "MLFLOW_VERSION=$v" \
    --label "$SD_LABEL" -t "$tag" "$ctx" || rc=$?
  rm -rf "$ctx"
  (( rc == 0 )) || die "docker build of $tag failed (see $SD_LOGS/build-mlflow-$v.log)"
  # the first build stage is left as a dangling image; drop dangling images with our label only
  docker image prune -f --filter "label=$SD_LABEL" >/dev/null 2>&1 || true
  local got; got="$(docker run --rm "$tag" python3 -c 'import mlflow;print(mlflow.__version__)')"
  [[ "$got" == "$v" ]] || die "$tag: mlflow.__version__ is '$got', expected $v"
  log "$tag: built, mlflow $got ($(image_size "$tag"))"
}

targets=()
for a in "$@"; do
  case "$a" in
    --rebuild) REBUILD=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) targets+=("$a") ;;
  esac
done
(( ${#targets[@]} )) || { targets=(busybox python); for v in $SD_MLFLOW_VERSIONS; do targets+=("mlflow:$v"); done; }

need_docker
# fetch the wheels of every requested MLflow in the background while the base is built
declare -a fetch_pids=()
for t in "${targets[@]}"; do
  if [[ $t == mlflow:* ]] && { (( REBUILD )) || ! image_exists "stack-doctor/$t"; } \
     && [[ "${STACK_DOCTOR_USE_REGISTRY:-0}" != 1 ]]; then
    wheels_for "${t#mlflow:}" >/dev/null &
    fetch_pids+=($!)
  fi
done
for t in "${targets[@]}"; do
  case "$t" in
    busybox) build_busybox ;;
    python) build_python_base ;;
    mlflow:*) build_mlflow "${t#mlflow:}" ;;
    *) die "unknown image '$t' (busybox, python, mlflow:<version>)" ;;
  esac
done
for p in "${fetch_pids[@]}"; do wait "$p" || die "a wheel download failed"; done
# images replaced by --rebuild are left dangling: drop those that carry our label
docker image prune -f --filter "label=$SD_LABEL" >/dev/null 2>&1 || true
log "images ready: $(docker images --filter "label=$SD_LABEL" --format '{{.Repository}}:{{.Tag}}' | sort | tr '\n' ' ')"
