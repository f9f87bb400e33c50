"""A lab's declaration: its id, the objects it asks for and its rubric of scored checks.

A lab's test file declares `lab = Lab(...)` and decorates one test per check:

    lab = Lab("1.1", "What is a Pod?", pods=["my-first-pod"], allows=Allowances(volumes={"emptyDir"}))

    @lab.check("first-pod-ready", points=15, title="my-first-pod is Running and Ready", section="part-1")
    def test_first_pod_ready(lab_run):
        pods.wait_running(lab_run, "my-first-pod")

Check ids are a contract: the report, GitHub Classroom and later labs refer to them. `allows` says what
a Pod may take from outside its spec (volume types, env sources, subPath) and which kinds the submission may
hold (default: the kinds the lab declares); the rest is refused offline.

`pods=[...]` is the shorthand for `objects=[("Pod", name), ...]`; a later chapter declares others too:

    Lab("2.1", "Services", pods=["web"], objects=[("Service", "web")])

A lab needs what its kinds need (`kind:Service`, see graders/capabilities.py) and what it names in
`needs`; a check may need more (`@lab.check(..., needs={"native-sidecars"})`). On a backend without it,
those checks are not graded, and the run says so before anything starts. A check may bound its own operations
(`@lab.check(..., timeouts={"exec": 30})`, graders/timeouts.py); the run's defaults bound the others.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence, TypeVar

import pytest

from graders import capabilities
from graders.policy import DEFAULT_ALLOWANCES, Allowances
from graders.timeouts import declared

F = TypeVar("F", bound=Callable[..., object])
MARKER = "grader_check"


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    points: int
    section: str = ""  # anchor in the lab's README that explains this part
    needs: frozenset[str] = frozenset()  # capabilities beyond the lab's own (see graders/capabilities.py)
    timeouts: tuple[tuple[str, float], ...] = ()  # its own, in place of the run's defaults (graders/timeouts.py)


@dataclass(frozen=True)
class ImageFacts:
    """What a lab knows of an image it asks for, so that failure hints can be specific without the
    graders knowing any image: the command it starts with, and the folders its program writes to."""

    command: tuple[str, ...] = ()  # ENTRYPOINT + CMD, e.g. ("nginx", "-g", "daemon off;")
    writes_to: tuple[str, ...] = ()  # folders it opens files in at start, e.g. ("/var/log/nginx",)


@dataclass(eq=False)  # identity: a Lab keys the results
class Lab:
    id: str
    title: str
    pods: Sequence[str] = ()  # shorthand for objects of kind Pod; after construction: every expected Pod
    readme: str = "README.md"
    allows: Allowances = DEFAULT_ALLOWANCES
    checks: list[Check] = field(default_factory=list)
    # Pod -> the containers the lesson asks for, so that a container written as a Pod of its own
    # (the misconception "a sidecar is its own Pod") is recognised and explained.
    containers: Mapping[str, Sequence[str]] = field(default_factory=dict)
    images: Mapping[str, ImageFacts] = field(default_factory=dict)  # image as the lab writes it -> facts
    objects: Sequence[tuple[str, str]] = ()  # (kind, name) the submission must hold, besides `pods`
    needs: Iterable[str] = frozenset()  # capabilities every check on the backend needs, besides the kinds'

    def __post_init__(self) -> None:
        expected = [("Pod", name) for name in self.pods] + [(kind, name) for kind, name in self.objects]
        self.objects = tuple(dict.fromkeys(expected))  # each (kind, name) once, in declared order
        self.pods = tuple(name for kind, name in self.objects if kind == "Pod")
        if not self.allows.kinds:  # by default a submission may hold the kinds the lab asks for
            self.allows = dataclasses.replace(self.allows, kinds=frozenset(kind for kind, _ in self.objects))
        self.needs = frozenset(self.needs) | {capabilities.kind(kind) for kind, _ in self.objects}
        _known(self.id, self.needs)

    def check(self, id: str, points: int, title: str, section: str = "",
              needs: Iterable[str] = (), timeouts: Mapping[str, float] | None = None) -> Callable[[F], F]:
        if any(existing.id == id for existing in self.checks):
            raise ValueError(f"lab {self.id}: check id {id!r} is declared twice")
        check = Check(id=id, title=title, points=points, section=section, needs=_known(self.id, frozenset(needs)),
                      timeouts=declared(self.id, id, timeouts or {}))
        self.checks.append(check)

        def decorate(test: F) -> F:
            return pytest.mark.grader_check(check=check, lab=self)(test)

        return decorate


def _known(lab: str, needs: frozenset[str]) -> frozenset[str]:
    unknown = capabilities.unknown(needs)
    if unknown:
        raise ValueError(f"lab {lab}: unknown capabilities {', '.join(unknown)}; graders/capabilities.py names them")
    return needs
