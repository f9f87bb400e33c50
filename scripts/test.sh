#!/usr/bin/env bash
# Runs the project's own tests (after scripts/setup-debian.sh). Extra arguments go to pytest.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$repo/scripts/podman/containers.conf}"
exec .venv/bin/pytest "$@"
