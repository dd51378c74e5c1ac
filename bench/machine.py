"""What the benchmarks share about the machine: its CPU's name, a free port, CPU time of
processes (Linux /proc). Imported by the scripts beside it, which run as ``python bench/X.py``."""

import contextlib
import os
import platform
import socket
import time
import urllib.request
from pathlib import Path


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat(pid: int | str) -> list[str]:
    """The fields of /proc/PID/stat after the command name (which may hold spaces)."""
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def _cpu(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` so far."""
    return _cpu(_stat(pid))


def descendants(root: int) -> list[int]:
    """``root`` and every process below it (a server's workers), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int(_stat(entry.name)[1])
        except OSError:  # the process ended meanwhile
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def tree_cpu_seconds(root: int) -> float:
    """User and system CPU time of ``root`` and its descendants so far."""
    total = 0.0
    for pid in descendants(root):
        with contextlib.suppress(OSError):  # ended meanwhile
            total += cpu_seconds(pid)
    return total


def wait_until_serving(port: int, *, answers: int = 4, pause: float = 0.5) -> None:
    """Until the server on ``port`` has answered ``answers`` requests (each of granian's
    workers one at least), or two minutes: a loaded machine takes a while."""
    deadline, answered = time.monotonic() + 120, 0
    while answered < answers and time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5).close()
            answered += 1
        except OSError:
            time.sleep(pause)
