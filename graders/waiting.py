"""Polling with a deadline, chainsaw style: retry until the probe is satisfied, then report the
last thing observed rather than "deadline exceeded"."""

from __future__ import annotations

from typing import Callable, TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

T = TypeVar("T")


class NotYet(Exception):
    """Raised by a probe that is not satisfied yet; carries what it observed, in the student's terms."""

    def __init__(self, observed: str) -> None:
        super().__init__(observed)
        self.observed = observed


class NoAnswer(NotYet):
    """Not yet, and nothing answered the request at all (connection refused, timed out)."""


class Settled(Exception):
    """The probe got an answer that will not change by waiting (a 200 with another page: the server has
    served what it serves): the wait ends at once with it, and it is reported as the last thing observed."""

    def __init__(self, observed: str) -> None:
        super().__init__(observed)
        self.observed = observed


def until(probe: Callable[[], T], timeout: float, longest_wait: float = 1.0) -> T:
    """Call probe until it returns; NotYet retries (the last one is re-raised at the deadline).

    Any other exception (CheckFailed for a state that cannot improve, InfraError) ends the wait at once.
    Waits start at 50 ms and grow to `longest_wait` (1 s), so a fast cluster is answered fast.
    """
    retrying = Retrying(
        stop=stop_after_delay(timeout),
        wait=wait_exponential(multiplier=0.05, max=longest_wait),
        retry=retry_if_exception_type(NotYet),
        reraise=True,
    )
    return retrying(probe)
