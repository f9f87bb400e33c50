"""The layers stay visible: labs -> checks -> backends, and one module owns the Kubernetes client."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def modules(folder: str) -> list[Path]:
    return sorted((REPO / folder).rglob("*.py"))


def test_only_the_kube_package_imports_the_kubernetes_client() -> None:
    users = [p.relative_to(REPO).as_posix() for p in modules("graders")
             if any(name == "kubernetes" or name.startswith("kubernetes.") for name in imports(p))]
    assert users == [f"graders/backends/kube/{name}.py" for name in (
        "calls", "cluster", "connection", "errors", "evidence", "sandbox", "state")]


def test_checks_see_only_the_backend_interface() -> None:
    for path in modules("graders/checks"):
        backends = {name for name in imports(path) if name.startswith("graders.backends")}
        assert backends <= {"graders.backends.base"}, path


def test_labs_use_checks_not_backends() -> None:
    for path in sorted((REPO / "labs").glob("*/test_*.py")):
        assert not {name for name in imports(path) if name.startswith("graders.backends")}, path
