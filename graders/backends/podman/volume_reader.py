"""Reading the files of a Pod's volume from the host, while the Pod's containers may change it under the grader.

The folder belongs to the grader, but what is in it belongs to the Pod: a container can nest folders thousands
deep (os.walk recursed into a RecursionError), or swap a folder for a link to /proc/self between the grader's
listing and its read (a path opened by name then led into the grader's own /proc). So nothing is opened by a
path: each folder and file is opened relative to its parent's file descriptor (openat) with O_NOFOLLOW, so a
link is never followed, wherever it appears and whenever it was put there; folders are walked with an explicit
stack, at most MAX_DEPTH deep and MAX_ENTRIES entries in all; only regular files are read (never a FIFO, a
device or a link), at most `max_bytes` of each (its end), and a file that cannot be read is left out.
"""

from __future__ import annotations

import os
import stat
import time

MAX_DEPTH = 16  # folders below the volume's own
MAX_ENTRIES = 10_000  # names looked at in all
DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY


def read_files(root: str, max_files: int, max_bytes: int, timeout: float) -> dict[str, str]:
    """Relative path -> the last max_bytes of each regular file under root (at most max_files of them, in
    sorted order, within `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    files: dict[str, str] = {}
    seen = 0
    root_fd = os.open(root, DIRECTORY)
    stack: list[tuple[int, str, int]] = [(root_fd, "", 0)]  # (folder's fd, its relative path, its depth)
    try:
        while stack:
            folder_fd, prefix, depth = stack.pop()
            try:
                names = sorted(os.listdir(folder_fd))
            except OSError:
                names = []
            folders = []
            for name in names:
                seen += 1
                if seen > MAX_ENTRIES or len(files) >= max_files or time.monotonic() > deadline:
                    os.close(folder_fd)
                    return files
                text = _read_tail(folder_fd, name, max_bytes)
                if text is not None:
                    files[prefix + name] = text
                elif depth < MAX_DEPTH:
                    folders.append(name)
            for name in reversed(folders):  # depth first, in sorted order
                try:
                    stack.append((os.open(name, DIRECTORY, dir_fd=folder_fd), f"{prefix}{name}/", depth + 1))
                except OSError:
                    continue  # not a folder (a link, a file), or gone meanwhile
            os.close(folder_fd)
    finally:
        for folder_fd, _, _ in stack:
            os.close(folder_fd)
    return files


def _read_tail(folder_fd: int, name: str, max_bytes: int) -> str | None:
    """The end of a regular file named `name` in the folder, never following a link nor blocking on a FIFO;
    None for anything else (a folder, a link, a FIFO) or when it cannot be read."""
    try:
        fd = os.open(name, FILE, dir_fd=folder_fd)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        os.lseek(fd, max(0, info.st_size - max_bytes), os.SEEK_SET)
        return os.read(fd, max_bytes).decode("utf-8", "replace")
    except OSError:
        return None
    finally:
        os.close(fd)
