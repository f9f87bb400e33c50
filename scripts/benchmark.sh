#!/usr/bin/env bash
# Times a grading run of lab 1.1 on podman against bare podman doing the same work (see benchmark.py).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$repo/scripts/podman/containers.conf}"
exec "$repo/.venv/bin/python" "$repo/scripts/benchmark.py" "$@"
