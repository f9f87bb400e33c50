"""A Pod's expected part as data: a partial tree, matched field by field with the path of every difference
in the student's terms (graders/checks/expect.py spec_matches uses it; rubrics reach these names through
expect).

- Dicts match when every expected key matches (extra fields in the Pod are fine).
- Lists of named items (containers, ports, env, volumes, volumeMounts) match by name, in any order;
  an expected container is also found among initContainers (native sidecars live there).
- Images are normalised (nginx:1.25 = docker.io/library/nginx:1.25), quantities under requests and
  limits too (0.5 = 500m, 128Mi = 134217728); other scalars must be equal, type included ("80" is not 80).
- A Matcher stands for a rule rather than a value (e.g. a port given by number or by name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Mapping

from graders import images

NAMED_LISTS = ("containers", "initContainers", "ephemeralContainers", "ports", "env", "volumes", "volumeMounts")
QUANTITY_PARENTS = ("requests", "limits")


# -- quantities ---------------------------------------------------------------------------------------
_SUFFIXES = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
             "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
             "P": Decimal("1e15"), "E": Decimal("1e18"),
             "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30, "Ti": Decimal(2) ** 40,
             "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60}
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$")


def parse_quantity(value: Any) -> Decimal:
    """A Kubernetes quantity as a number: '500m' -> 0.5, '128Mi' -> 134217728, 0.5 (YAML float) -> 0.5.

    ValueError for anything the API server would refuse as a quantity."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{value!r} is not a quantity")
    match = _QUANTITY.match(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a quantity (e.g. 500m, 0.5, 128Mi)")
    number, exponent, suffix = match.groups()
    try:
        return Decimal(number) * (Decimal(10) ** int(exponent[1:]) if exponent else _SUFFIXES[suffix or ""])
    except InvalidOperation as error:
        raise ValueError(f"{value!r} is not a quantity") from error


# -- matching a partial tree ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Matcher:
    """An expected value given as a rule: `describe` is what the student reads after "expected"."""

    describe: str
    accepts: Callable[[Any], bool]
    shows: Callable[[Any], str] | None = None  # how to say what was found instead (default: the value)


@dataclass(frozen=True)
class Mismatch:
    path: str  # in the student's terms: spec.containers[0].resources.limits.cpu
    expected: str
    found: str

    def __str__(self) -> str:
        return f"{self.path}: expected {self.expected}; found {self.found}"


MISSING = object()


def mismatches(expected: Any, actual: Any, path: str = "") -> list[Mismatch]:
    """Where `actual` (a Pod, or part of one) differs from the partial tree `expected`."""
    return _match(expected, actual, path)


def _match(expected: Any, actual: Any, path: str) -> list[Mismatch]:
    if actual is MISSING:
        if isinstance(expected, Mapping) and expected:  # name the missing leaves: metadata.labels.app, not labels
            return _match(expected, {}, path)
        return [Mismatch(path, _show_expected(expected), "nothing: the field is missing")]
    if isinstance(expected, Matcher):
        if expected.accepts(actual):
            return []
        return [Mismatch(path, expected.describe, (expected.shows or _show)(actual))]
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return [Mismatch(path, "a mapping of fields", _show(actual))]
        found: list[Mismatch] = []
        for key, value in expected.items():
            if key in NAMED_LISTS and isinstance(value, list):
                found += _match_named(value, actual, key, path)
            else:
                found += _match(value, actual.get(key, MISSING), _join(path, key))
        return found
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [Mismatch(path, f"a list: {_show(expected)}", _show(actual))]
        if len(actual) != len(expected):
            return [Mismatch(path, _show(expected), _show(actual))]
        return [m for i, (e, a) in enumerate(zip(expected, actual, strict=True)) for m in _match(e, a, f"{path}[{i}]")]
    return _match_scalar(expected, actual, path)


def _match_named(expected: list[Any], actual: Mapping[str, Any], key: str, path: str) -> list[Mismatch]:
    """Items of a named list, found by name. An expected container may also be a native sidecar: an
    initContainer with restartPolicy Always, which runs beside the containers (Kubernetes 1.29+)."""
    places = [key, "initContainers"] if key == "containers" else [key]

    def candidates() -> list[tuple[str, int, Mapping[str, Any]]]:
        return [(place, index, have) for place in places for index, have in enumerate(items(actual.get(place)))
                if isinstance(have, Mapping) and (place == key or have.get("restartPolicy") == "Always")]

    found: list[Mismatch] = []
    for item in expected:
        name = item.get("name") if isinstance(item, Mapping) else None
        where = next(((place, index) for place, index, have in candidates() if have.get("name") == name), None)
        if where is None:
            names = [str(have.get("name")) for _, _, have in candidates()]
            found.append(Mismatch(_join(path, key), f"an entry named {name}",
                                  f"names {', '.join(names)}" if names else "no entries"))
            continue
        place, index = where
        found += _match(item, actual[place][index], f"{_join(path, place)}[{index}]")
    return found


def _match_scalar(expected: Any, actual: Any, path: str) -> list[Mismatch]:
    segments = path.split(".")
    leaf = segments[-1]
    if len(segments) > 1 and segments[-2] in QUANTITY_PARENTS:  # resources.limits.cpu, .requests.memory
        try:
            same = parse_quantity(actual) == parse_quantity(expected)
        except ValueError as error:
            return [Mismatch(path, str(expected), f"{_show(actual)}, which is not a quantity ({error})")]
        if same:
            return []
        return [Mismatch(path, f"{expected} (= {_plain(parse_quantity(expected))})",
                         f"{_show(actual)} (= {_plain(parse_quantity(actual))})")]
    if leaf == "image" and isinstance(actual, str) and isinstance(expected, str):
        return [] if images.familiar(actual) == images.familiar(expected) else [Mismatch(path, expected, _show(actual))]
    if type(actual) is type(expected) and actual == expected:
        return []
    if isinstance(expected, int) and isinstance(actual, str) and actual.strip() == str(expected):
        return [Mismatch(path, f"the number {expected}", f"the text {actual!r}: remove the quotes")]
    return [Mismatch(path, _show_expected(expected), _show(actual))]


def items(value: Any) -> list[Any]:
    """A list field's items; nothing when the field is not a list."""
    return value if isinstance(value, list) else []


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _show_expected(value: Any) -> str:
    if isinstance(value, Matcher):
        return value.describe
    return _show(value) if not isinstance(value, (Mapping, list)) else f"{value}"


def port_of(container: Mapping[str, Any], port: Any) -> int | None:
    """The port number a probe's `port` means in a container: a number, or the name of a containerPort."""
    if isinstance(port, int) and not isinstance(port, bool):
        return port
    for declared in items(container.get("ports")):
        if isinstance(declared, Mapping) and declared.get("name") == port:
            value = declared.get("containerPort")
            return value if isinstance(value, int) else None
    return None


def port_matcher(container: Mapping[str, Any], number: int) -> Matcher:
    """Accepts `number`, or the name of the container's port `number` (probes may use either)."""
    return Matcher(f"port {number}, or the name of the containerPort {number}",
                   lambda value: port_of(container, value) == number)


def declares_port(number: int) -> Matcher:
    """Accepts a container's `ports` list when one entry has containerPort `number`, named or not (a
    named port may still match by name elsewhere: port_matcher)."""
    def numbers(ports: Any) -> list[Any]:
        return [p.get("containerPort") for p in items(ports) if isinstance(p, Mapping)]

    return Matcher(f"a port with containerPort: {number}",
                   lambda ports: any(type(n) is int and n == number for n in numbers(ports)),
                   lambda ports: ", ".join(f"containerPort: {n!r}" for n in numbers(ports)) or "no ports")
