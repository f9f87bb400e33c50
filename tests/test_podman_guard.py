"""The lock that lets an `alone` test run while no other podman test runs in any parallel worker."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.podman_guard import alone, shared


def test_an_alone_test_waits_for_running_ones_and_is_not_starved_by_new_ones(tmp_path: Path) -> None:
    order: list[str] = []
    first = shared(tmp_path)
    first.__enter__()  # a podman test running in another worker

    def run(name: str, lock, hold: float = 0.2) -> threading.Thread:
        def body() -> None:
            with lock(tmp_path):
                order.append(f"{name} in")
                time.sleep(hold)
                order.append(f"{name} out")
        thread = threading.Thread(target=body)
        thread.start()
        return thread

    waiting_alone = run("alone", alone)
    time.sleep(0.2)
    assert order == []  # it waits for the running test
    later = run("later", shared)  # a test that starts meanwhile waits behind it
    time.sleep(0.2)
    assert order == []
    first.__exit__(None, None, None)
    waiting_alone.join(5)
    later.join(5)
    assert order == ["alone in", "alone out", "later in", "later out"]


def test_shared_holders_run_together(tmp_path: Path) -> None:
    entered = threading.Event()

    def second() -> None:
        with shared(tmp_path):
            entered.set()

    with shared(tmp_path):
        thread = threading.Thread(target=second)
        thread.start()
        assert entered.wait(2)  # while the first still holds it
    thread.join(2)
