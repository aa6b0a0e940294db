#!/usr/bin/env bash
# Set up everything the real-component tests need, reusing whatever is cached:
#   1. dockerd.sh start   Docker Engine (background dockerd)
#   2. compose.sh         Compose plugin built with Go    } in parallel: the Go build is CPU-bound,
#   3. images.sh          local images                    } the image step mostly network/disk
#   4. venvs.sh           MLflow client venvs (after images: same wheel cache)
#   all.sh --v1           also install Debian's docker-compose v1
# Prints the time each step took; a second run takes seconds.
set -euo pipefail
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

time_step compose "$SD_HERE/compose.sh" &
compose_pid=$!

rc=0
time_step images "$SD_HERE/images.sh" || rc=$?
if (( rc == 0 )); then
  time_step venvs "$SD_HERE/venvs.sh" || rc=$?
fi
crc=0
wait "$compose_pid" || crc=$?
if (( WITH_V1 )); then time_step compose1 "$SD_HERE/compose.sh" --v1 || rc=$?; fi

total="$(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')"
if (( rc != 0 || crc != 0 )); then
  die "test environment incomplete after ${total}s (images/venvs exit $rc, compose exit $crc)"
fi
log "test environment ready in ${total}s"
