#!/usr/bin/env bash
# Fast preflight (about a second): plays a trivial Pod with the grader's own image (busybox, a stand-in
# on the build machines) and removes it. On failure it says exactly what is missing (catatonit, runc,
# uidmap, containers.conf, the image) and exits non-zero. Run by scripts/setup-debian.sh; safe to run on
# its own. The image is graders/versions.py's, asked of $PYTHON, else .venv/bin/python, else python3.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}
python=${PYTHON:-$repo/.venv/bin/python}
[ -n "${PYTHON:-}" ] || [ -x "$python" ] || python=python3
if ! image=$(cd "$repo" && "$python" -m graders.versions grader-image); then
  echo "preflight: could not ask $python for the grader's image (above): set PYTHON to a Python with" \
       "requirements.txt installed, or run scripts/setup-debian.sh, which makes .venv" >&2
  exit 1
fi
name=k8s101-preflight-$$
work=$(mktemp -d)
trap 'podman pod rm --force --ignore -t 0 "$name" >/dev/null 2>&1; rm -rf "$work"' EXIT

missing=()
command -v podman >/dev/null || missing+=("podman (apt-get install podman)")
command -v runc >/dev/null || missing+=("runc (apt-get install runc): the runtime containers.conf names")
command -v newuidmap >/dev/null || missing+=("uidmap (apt-get install uidmap)")
[ -f "$CONTAINERS_CONF" ] || missing+=("the podman settings file CONTAINERS_CONF=$CONTAINERS_CONF")
if [ ${#missing[@]} -eq 0 ]; then
  podman image exists "$image" || missing+=("the image $image (bash scripts/build-standin-images.sh)")
fi
if [ ${#missing[@]} -eq 0 ]; then
  cat >"$work/pod.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $name
spec:
  restartPolicy: Never
  containers:
    - name: check
      image: $image
      command: ["true"]
YAML
  if ! output=$(podman kube play "$work/pod.yaml" 2>&1); then
    case "$output" in
      *catatonit*|*"pause image"*|*"pause binary"*)
        missing+=("catatonit (apt-get install catatonit): podman builds its pause image with it") ;;
      *newuidmap*|*newgidmap*) missing+=("uidmap (apt-get install uidmap)") ;;
      *rlimit*|*"hybrid mode"*)
        missing+=("podman settings for this machine: export CONTAINERS_CONF=$here/containers.conf") ;;
      *runc*|*"OCI runtime"*) missing+=("a working runc (apt-get install runc)") ;;
      *) missing+=("a working podman: podman kube play said: $(printf '%s' "$output" | grep -m3 -i error | tr '\n' ' ')") ;;
    esac
  fi
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "preflight: podman cannot run Pods here. Missing:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 1
fi
echo "preflight: podman plays Pods here"
