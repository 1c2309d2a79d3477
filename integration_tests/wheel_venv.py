"""A virtual environment that holds the built wheel and its PyPI dependencies, nothing else.

Installing the CDK and its dependencies into a new environment takes a minute or two, so the
environment is kept (git-ignored, under .cache/wheel-venv/) and keyed by what decides its
dependencies: setup.py and the Python that runs it. The wheel itself is always installed afresh
(--force-reinstall --no-deps), so the connector's files in it are always this build's.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List

from integration_tests.wheel_build import REPO

CACHE_ROOT = REPO / ".cache" / "wheel-venv"
INSTALL_TIMEOUT_SECONDS = 900  # a cold install downloads the CDK and about 80 dependencies
COMPLETE_MARKER = ".complete"


@dataclass(frozen=True)
class WheelVenv:
    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def console_script(self) -> Path:
        return self.path / "bin" / "source-meetlog"

    def purelib(self) -> Path:
        """The environment's site-packages, as its own Python reports it."""
        answer = run_checked([str(self.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=self.path)
        return Path(answer.strip()).resolve()


def isolated_environment(**extra: str) -> Dict[str, str]:
    """This process's environment without what would put another environment or the repository
    on the new environment's sys.path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    return {**env, **extra}


def run_checked(command: List[str], cwd: Path, timeout: float = 120) -> str:
    """cwd: a directory outside the work tree (`python -c` puts the working directory on sys.path)."""
    finished = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=isolated_environment())
    assert finished.returncode == 0, f"`{' '.join(command)}` failed (exit {finished.returncode}):\n{finished.stderr[-3000:]}"
    return finished.stdout


def environment_key() -> str:
    """setup.py names the dependencies; the interpreter decides which builds of them install."""
    digest = hashlib.sha256((REPO / "setup.py").read_bytes())
    digest.update(json.dumps([sys.version, sys.platform, os.path.realpath(sys.base_prefix)]).encode())
    return digest.hexdigest()[:16]


@contextmanager
def wheel_venv(wheel: Path) -> Iterator[WheelVenv]:
    """The cached environment with `wheel` freshly installed in it, held under a lock so that
    two test runs in one checkout do not install into it at once."""
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    with open(CACHE_ROOT / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        venv = WheelVenv(CACHE_ROOT / environment_key())
        if not (venv.path / COMPLETE_MARKER).exists():
            # Other keys are environments of an older setup.py: keep one, not one per edit.
            for stale in CACHE_ROOT.iterdir():
                if stale.is_dir():
                    shutil.rmtree(stale)
            run_checked([sys.executable, "-m", "venv", str(venv.path)], cwd=CACHE_ROOT)
            # The wheel and, from the package index, the dependencies its metadata names.
            run_checked([str(venv.python), "-m", "pip", "install", "--quiet", str(wheel)], cwd=venv.path,
                        timeout=INSTALL_TIMEOUT_SECONDS)
            (venv.path / COMPLETE_MARKER).write_text(f"dependencies of setup.py as of key {venv.path.name}\n")
        else:
            run_checked([str(venv.python), "-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps", str(wheel)],
                        cwd=venv.path)
        yield venv
