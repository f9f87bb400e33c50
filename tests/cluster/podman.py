"""Running podman from the event loop: one call, its exit status and output, bounded in time."""

from __future__ import annotations

import asyncio
import os
import tempfile

NOISE = ("failed to connect to syslog",)


async def podman(*args: str, timeout: float = 60) -> tuple[int, str, str]:
    """Run `podman ARGS`; (exit status, stdout, stderr). A hung podman counts as a failure (124)."""
    process = await asyncio.create_subprocess_exec(
        "podman", *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=os.environ.copy(),
        cwd=tempfile.gettempdir())  # conmon inherits it and writes an `oom` file there: never the repository
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        return 124, "", f"podman {' '.join(args)} did not finish within {timeout:g} s"
    except asyncio.CancelledError:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    return process.returncode or 0, out.decode(errors="replace"), strip_noise(err.decode(errors="replace"))


def strip_noise(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith(NOISE))


async def remove_pods(names: list[str], attempts: int = 3) -> list[str]:
    """Remove pods with their containers at once; `pod rm --force` can return while a restarting
    container keeps its pod, so check and try again. Returns the pods still there. Stopped first: as
    graders/backends/podman/cleanup.py's remove_pods says, that is ten times faster with podman 4.3."""
    for _ in range(attempts):
        if not names:
            break
        await podman("pod", "stop", "--ignore", "-t", "0", *names)
        await podman("pod", "rm", "--force", "--ignore", "-t", "0", *names)
        names = [name for name in names if (await podman("pod", "exists", name))[0] == 0]
    return names
