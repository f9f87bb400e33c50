"""What the API server cannot even decode (400 Bad Request), beyond the schema's types: quantities.

A quantity field takes text or a number, so the schema accepts `cpu: 5x`; the decoder does not
(k8s.io/apimachinery pkg/api/resource/quantity.go, UnmarshalJSON and ParseQuantity), and the whole Pod
is refused before it is validated. The answer names no field; the grader does, and says how to write
the quantity.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from graders.validation.containers import items
from graders.validation.errors import Problem
from graders.validation.quantity import QuantityError, parse

CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def problems(pod: dict[str, Any]) -> list[Problem]:
    found = []
    spec = pod.get("spec")
    for where, raw in _quantities(spec if isinstance(spec, dict) else {}):
        try:
            parse(raw)
        except QuantityError as error:
            found.append((where, f"{error} (a cluster cannot decode this Pod: 400 Bad Request; {_hint(raw)})"))
    return found


def _quantities(spec: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for kind in CONTAINER_LISTS:
        for index, container in items(spec.get(kind)):
            yield from _resources(f"spec.{kind}[{index}].resources", container.get("resources"))
    yield from _resources("spec.resources", spec.get("resources"))
    for name, raw in _pairs(spec.get("overhead")):
        yield f"spec.overhead.{name}", raw
    for index, volume in items(spec.get("volumes")):
        empty_dir = volume.get("emptyDir")
        if isinstance(empty_dir, dict) and empty_dir.get("sizeLimit") is not None:
            yield f"spec.volumes[{index}].emptyDir.sizeLimit", empty_dir["sizeLimit"]


def _resources(where: str, found: Any) -> Iterator[tuple[str, Any]]:
    for kind in ("limits", "requests"):
        for name, raw in _pairs(found.get(kind) if isinstance(found, dict) else None):
            yield f"{where}.{kind}.{name}", raw


def _pairs(found: Any) -> list[tuple[Any, Any]]:
    return list(found.items()) if isinstance(found, dict) else []


def _hint(raw: Any) -> str:
    text = str(raw).strip()
    match = re.fullmatch(r"([0-9.]+)\s*([A-Za-z]+)", text)
    if match:
        number, unit = match.groups()
        if unit.lower() in ("kb", "mb", "gb", "tb"):
            upper = unit[0].upper()
            return f"write {number}{upper}i (in units of 1024) or {number}{upper} (of 1000), not {unit}"
        if unit.lower() in ("ki", "mi", "gi", "ti") and unit != unit[0].upper() + "i":
            return f"suffixes are case-sensitive: {number}{unit[0].upper()}i"
        if unit.lower() in ("core", "cores", "cpu", "cpus"):
            return f"CPU is a number of cores without a unit: {number}, or millicores such as 500m"
    if " " in text:
        return "no space between the number and its suffix, e.g. 128Mi"
    return "a quantity is a number with an optional suffix, e.g. 500m or 0.5 (CPU), 128Mi (memory)"
