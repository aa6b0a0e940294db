#!/usr/bin/env bash
# Set up everything the real-component tests need, reusing whatever is cached:
#   1. dockerd.sh start   Docker Engine (background dockerd)
#   2a. compose.sh        Compose plugin built with Go   } lane A, in parallel with lane B: the Go
#   2b. venvs.sh          MLflow client venvs            } build is CPU-bound, lane B mostly
#   3.  images.sh         local images                   } network and disk (shared wheel cache)
#   all.sh --v1           also install Debian's docker-compose v1
# Prints the time each step took; a second run takes seconds.
set -euo pipefail
# shellcheck source=scripts/test-env/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WITH_V1=0
for a in "$@"; do
  case "$a" in
    --v1) WITH_V1=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) die "unknown argument '$a'" ;;
  esac
done

t_start=$(date +%s.%N)
time_step dockerd "$SD_HERE/dockerd.sh" start

# lane A: the CPU-bound Go build, then the client venvs; lane B: the images.
# Both lanes share the wheel cache (downloads are locked per version in lib.sh).
( crc=0
  time_step compose "$SD_HERE/compose.sh" || crc=$?
  vrc=0
  time_step venvs "$SD_HERE/venvs.sh" || vrc=$?
  exit $(( crc ? 10 + vrc : vrc )) ) &
lane_a=$!

rc=0
time_step images "$SD_HERE/images.sh" || rc=$?
time_step vscode bash -c '"$1/chromium.sh" && "$1/code-server.sh"' _ "$SD_HERE" >/dev/null || rc=$?
arc=0
wait "$lane_a" || arc=$?
crc=$(( arc >= 10 ? 1 : 0 )); vrc=$(( arc % 10 ))
(( vrc == 0 )) || rc=$vrc
if (( WITH_V1 )); then time_step compose1 "$SD_HERE/compose.sh" --v1 || rc=$?; fi

total="$(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')"
if (( rc != 0 || crc != 0 )); then
  die "test environment incomplete after ${total}s (images or venvs exit $rc, compose failed: $crc)"
fi
log "test environment ready in ${total}s"
