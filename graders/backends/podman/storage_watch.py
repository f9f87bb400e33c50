"""The local storage a container writes into its own filesystem (its writable layer), watched as a kubelet does.

Nothing else bounds it on podman: 6 GB written to /tmp of a container (no volume) landed on the grading
machine's disk. A kubelet measures each container's writable layer and logs and evicts the Pod, at once (grace 0),
when one passes its ephemeral-storage limit (k8s.io/kubernetes pkg/kubelet/eviction/eviction_manager.go:
localStorageEviction, containerEphemeralStorageLimitEviction; the Pod's phase becomes Failed with reason
Evicted). Here every container gets such a limit (EPHEMERAL_STORAGE_LIMIT, as a LimitRange's default would
give one on a cluster; its log is bounded on its own), a thread measures the writable layers (podman's overlay
upper folders, on the host) every WATCH_EVERY seconds, and a Pod with a container over its limit is evicted:
the caller stops it and reports it as a kubelet would. A layer of more than MAX_ENTRIES files counts as over.
"""

from __future__ import annotations

import os
import stat
import threading
from typing import Callable

EPHEMERAL_STORAGE_LIMIT = 512 * 1024**2  # bytes a container may write into its own filesystem
WATCH_EVERY = 0.5  # seconds between two measures (a kubelet's housekeeping: 10 s; a write of 1 GB/s is quicker)
MAX_ENTRIES = 100_000  # files and folders of a writable layer counted at most


def usage(folder: str, limit: int = EPHEMERAL_STORAGE_LIMIT) -> int:
    """Bytes of disk used under folder (its files' blocks, links not followed), counted until `limit` is
    passed; more than `limit` when it holds more than MAX_ENTRIES entries."""
    total, entries, stack = 0, 0, [folder]
    while stack and total <= limit:
        try:
            with os.scandir(stack.pop()) as found:
                for entry in found:
                    entries += 1
                    if entries > MAX_ENTRIES:
                        return limit + 1
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue  # gone meanwhile
                    total += info.st_blocks * 512
                    if stat.S_ISDIR(info.st_mode):
                        stack.append(entry.path)
        except OSError:
            continue
    return total


class Watcher:
    """Measures the writable layers it is told about; calls evict(pod, container, used) once per Pod over the limit."""

    def __init__(self, evict: Callable[[str, str, int], None], limit: int = EPHEMERAL_STORAGE_LIMIT) -> None:
        self.evict, self.limit = evict, limit
        self.layers: dict[tuple[str, str], str] = {}  # (Pod, container) -> its writable layer's host folder
        self.evicted: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, pod: str, container: str, folder: str) -> None:
        if not folder or self.layers.get((pod, container)) == folder:
            return
        self.layers[(pod, container)] = folder
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="k8s101-storage-watch", daemon=True)
            self._thread.start()

    def forget(self, pod: str) -> None:
        for key in [key for key in list(self.layers) if key[0] == pod]:
            self.layers.pop(key, None)

    def check(self) -> None:
        """One round of measures (the thread's, and a test's)."""
        for (pod, container), folder in list(self.layers.items()):
            if pod in self.evicted:
                continue
            used = usage(folder, self.limit)
            if used > self.limit:
                self.evicted.add(pod)
                self.evict(pod, container, used)

    def _run(self) -> None:
        while not self._stop.wait(WATCH_EVERY):
            try:
                self.check()
            except Exception:  # noqa: BLE001 - a watcher that dies silently would leave the disk unbounded
                continue

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
