"""Finding the labs of a repository and their rubrics, outside pytest (workflow generator, export)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from graders.lab import Lab


def discover_labs(repo: Path) -> list[tuple[Path, Lab]]:
    """Each lab folder under labs/ with the Lab its test file declares, in lab order."""
    found = []
    for test_file in sorted((repo / "labs").glob("*/test_*.py")):
        spec = importlib.util.spec_from_file_location(f"_lab_{test_file.parent.name.replace('.', '_')}", test_file)
        if spec is None or spec.loader is None:  # not importable as Python source: no lab there
            continue
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        lab = getattr(module, "lab", None)
        if isinstance(lab, Lab):
            found.append((test_file.parent, lab))
    return sorted(found, key=lambda item: [int(part) if part.isdigit() else part for part in item[1].id.split(".")])
