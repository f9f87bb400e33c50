"""The grader's own process stays bounded, whatever a Pod prints, answers or leaves in its volume (issue 20, 2-3).

These test the bounds themselves, without podman: a program's output (bounded.py, what podman exec, logs and
the probe container go through), a volume's tree (volume_reader.py), the $(VAR) expansion (podman/play.py) and
the grader's caps on a Pod's size (graders/validation/caps.py). tests/test_untrusted_podman.py and the hostile
submissions of lab 1.1 test them on real Pods."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from graders.backends.podman import bounded, volume_reader
from graders.backends.podman import play as podman_play
from graders.validation import caps


def peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def test_a_program_that_prints_a_gigabyte_leaves_the_grader_its_bound_and_no_more() -> None:
    before = peak_kib()
    result = bounded.run(["head", "-c", "1000000000", "/dev/zero"], timeout=120, limit=10 * 1024)
    assert result.returncode == 0 and len(result.stdout) == 10 * 1024  # what a kubelet keeps of a probe's output
    assert result.dropped == 1000000000 - 10 * 1024  # type: ignore[attr-defined]
    assert peak_kib() - before < 64 * 1024  # KiB: the grader grew by less than 64 MiB for 1 GB printed


def test_the_tail_of_a_flood_is_kept_when_the_end_is_what_counts() -> None:
    script = "import sys\nfor i in range(200000): sys.stdout.write(f'line {i}\\n')"
    result = bounded.run([sys.executable, "-c", script], timeout=60, limit=1000, keep="tail")
    assert result.stdout.endswith("line 199999\n") and len(result.stdout) <= 1000


def test_a_program_that_outlives_its_time_is_killed_and_says_what_it_printed() -> None:
    began = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired) as raised:
        bounded.run(["sh", "-c", "echo started; exec sleep 30"], timeout=1, limit=1000)
    assert time.monotonic() - began < 5 and raised.value.output == "started\n"


def test_a_tree_thousands_deep_is_read_without_recursion_to_its_bounded_depth(tmp_path: Path) -> None:
    (tmp_path / "access.log").write_text("GET /?marker\n")
    fd = os.open(tmp_path, os.O_RDONLY)
    for _ in range(3000):  # deeper than Python's recursion limit, and than PATH_MAX allows by name
        os.mkdir("d", dir_fd=fd)
        inner = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    with open(os.open("deep.log", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as deep:
        deep.write("too deep to matter\n")
    os.close(fd)
    files = volume_reader.read_files(str(tmp_path), max_files=100, max_bytes=1024, timeout=10)
    assert files == {"access.log": "GET /?marker\n"}
    subprocess.run(["rm", "-rf", str(tmp_path)], check=True)  # shutil.rmtree would recurse as deep


def test_links_in_a_volume_are_never_followed_even_when_swapped_in_while_it_is_read(tmp_path: Path) -> None:
    (tmp_path / "access.log").write_text("ok\n")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("inside\n")
    (tmp_path / "self").symlink_to("/proc/self")
    (tmp_path / "environ").symlink_to("/proc/self/environ")
    stop = threading.Event()

    def swap() -> None:  # what the hostile sidecar does: the folder d becomes a link to /proc/self and back
        while not stop.is_set():
            os.rename(tmp_path / "d", tmp_path / "e")
            os.symlink("/proc/self", tmp_path / "d")
            os.unlink(tmp_path / "d")
            os.rename(tmp_path / "e", tmp_path / "d")

    swapper = threading.Thread(target=swap, daemon=True)
    swapper.start()
    try:
        for _ in range(200):
            files = volume_reader.read_files(str(tmp_path), max_files=100, max_bytes=1024, timeout=10)
            assert set(files) <= {"access.log", "d/f", "e/f"} and files["access.log"] == "ok\n"
            assert all(text == "inside\n" for name, text in files.items() if name != "access.log")
    finally:
        stop.set()
        swapper.join()


def test_an_expansion_bomb_is_refused_before_it_is_built() -> None:
    container = {"name": "c", "env": [{"name": "V0", "value": "bomb!"}] + [
        {"name": f"V{i}", "value": f"$(V{i - 1})" * 8} for i in range(1, 11)], "args": ["$(V10)"]}
    before, began = peak_kib(), time.monotonic()
    with pytest.raises(podman_play.TooLong) as raised:
        podman_play.expand_container(container)
    assert raised.value.where == "env V5" and time.monotonic() - began < 1 and peak_kib() - before < 16 * 1024
    fits = {"name": "c", "env": [{"name": "A", "value": "x" * 1000}, {"name": "B", "value": "$(A)" * 100}],
            "args": ["$(B)"]}
    podman_play.expand_container(fits)  # 100 KB: a program can still be started with it
    assert len(fits["args"][0]) == 100_000


def test_a_pod_above_the_graders_caps_is_refused_with_the_cap_named_as_the_graders() -> None:
    env = [{"name": f"E{j}", "value": "x"} for j in range(65)]
    many = {"spec": {"containers": [{"name": f"c{i}", "env": env} for i in range(9)],
                     "volumes": [{"name": f"v{i}", "emptyDir": {}} for i in range(9)]}}
    found = dict(caps.problems(many))
    assert found["spec.containers"].startswith("9 containers (initContainers included): at most 8 are graded "
                                               "(the grader's limit for one Pod, not a rule of Kubernetes)")
    assert found["spec.volumes"].startswith("9 volumes: at most 8")
    assert "65 env entries: at most 64 per container" in found["spec.containers[0].env"]
    assert caps.problems({"spec": {"containers": [{"name": "a"}, {"name": "b"}], "volumes": [{"name": "v"}]}}) == []
