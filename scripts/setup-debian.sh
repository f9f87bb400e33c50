#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, as root, to run the graders on podman and the project's tests:
# podman and its configuration, stand-in images built from Debian packages, a Python venv in .venv.
# A preflight plays a trivial Pod and names what is missing; then the reference solution of lab 1.1 is
# graded once, as a smoke test. Safe to run again.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
export CONTAINERS_CONF="$repo/scripts/podman/containers.conf"

# chromium: the tests render the re-grade's summary.html in a real headless browser (tests/browser.py)
packages=(podman catatonit runc debootstrap busybox-static uidmap chromium)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# First: the scripts below ask the graders (python -m graders.versions) which images the labs declare.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
echo "setup: Python packages"
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt

echo "setup: stand-in images ($(.venv/bin/python -m graders.versions images | paste -sd ' '))"
bash scripts/build-standin-images.sh

echo "setup: preflight (play a trivial Pod, then remove it)"
bash scripts/podman/preflight.sh  # says what is missing (catatonit, runc, uidmap, containers.conf) and stops

echo "setup: grading the reference solution of lab 1.1 on podman"
.venv/bin/pytest labs/1.1 --backend podman --submission tests/submissions/1.1/reference -q
