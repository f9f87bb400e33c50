#!/usr/bin/env bash
# Times the instructor's re-grade (python -m graders.regrade) of 8 exported student repositories on
# podman, with --jobs 1 and then --jobs 4, and prints both wall times, their ratio, and the CPU seconds
# each used (the re-grade and every process it started): on a machine shared with other work the wall
# time moves with their load, the CPU seconds much less, so compare those between two versions.
# Target (issue 10): --jobs 4 takes at most about half the time of --jobs 1 on the 2-core build machines.
# Usage: bash scripts/benchmark-regrade.sh [PYTHON]   (default: .venv/bin/python; the graders must be installed)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
python=${1:-$repo/.venv/bin/python}
export CONTAINERS_CONF="${CONTAINERS_CONF:-$repo/scripts/podman/containers.conf}"
work=$(mktemp -d -t regrade-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

# 8 students: 4 full marks, 4 typical mistakes (each grading run does the same podman work either way)
variants=(reference reference reference reference image-typo missing-label wrong-mount-path sidecar-exits)
for i in "${!variants[@]}"; do
  student="$work/class/student-$i"
  (cd "$repo" && "$python" -m graders.export "$student" >/dev/null)
  cp "$repo/tests/submissions/1.1/${variants[$i]}"/*.yaml "$student/labs/1.1/"
done

declare -A wall cpu
TIMEFORMAT='%R %U %S'
for jobs in 1 4; do
  status=0
  { time (cd "$repo" && "$python" -m graders.regrade "$work/class" --lab 1.1 --backend podman --jobs "$jobs" \
       --out "$work/out-$jobs" > "$work/log-$jobs" 2>&1) ; } 2> "$work/time-$jobs" || status=$?
  tail -1 "$work/log-$jobs"
  if [ "$status" -ne 0 ]; then  # say why: an infrastructure error on a loaded machine, or a broken backend
    grep -E "^\[|stopped|error" "$work/log-$jobs" | grep -v " graded " || true
    echo "the re-grade with --jobs $jobs exited with status $status"; exit 1
  fi
  read -r real user sys < "$work/time-$jobs"
  wall[$jobs]=$real
  cpu[$jobs]=$("$python" -c 'import sys; print(f"{float(sys.argv[1]) + float(sys.argv[2]):.1f}")' "$user" "$sys")
done
cmp -s "$work/out-1/gradebook.csv" "$work/out-4/gradebook.csv" || { echo "the two gradebooks differ"; exit 1; }
"$python" -c 'import sys; one, four = float(sys.argv[1]), float(sys.argv[2])
print(f"--jobs 1: {one:.1f} s ({sys.argv[3]} CPU-seconds)\n--jobs 4: {four:.1f} s ({sys.argv[4]} CPU-seconds)\n"
      f"ratio {four / one:.2f} (target: at most about 0.5)")' "${wall[1]}" "${wall[4]}" "${cpu[1]}" "${cpu[4]}"
