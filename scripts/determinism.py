"""Determinism: grade the same submissions N times on podman and tabulate the scores.

    python scripts/determinism.py [--runs 10] [VARIANT ...]
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT = ["reference", "sidecar-exits", "sidecar-silent", "image-typo"]


def grade(variant: str, report: Path) -> tuple[int, tuple[str, ...]]:
    subprocess.run([sys.executable, "-m", "pytest", "labs/1.1", "--backend", "podman", "--submission",
                    str(REPO / "tests" / "submissions" / "1.1" / variant), "--grade-report", str(report), "-q"],
                   cwd=REPO, capture_output=True, text=True)
    grade = json.loads(report.read_text())
    return grade["score"], tuple(c["id"] for c in grade["checks"] if c["status"] != "passed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("variants", nargs="*", default=DEFAULT)
    args = parser.parse_args()
    print("| submission | runs | scores seen | failed checks seen | same every run |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        for variant in args.variants:
            seen = collections.Counter(grade(variant, Path(work, "r.json")) for _ in range(args.runs))
            scores = ", ".join(f"{score} ×{count}" for (score, _), count in seen.items())
            failed = "; ".join(", ".join(f) or "none" for (_, f) in seen)
            print(f"| {variant} | {args.runs} | {scores} | {failed} | {'yes' if len(seen) == 1 else 'NO'} |")


if __name__ == "__main__":
    main()
