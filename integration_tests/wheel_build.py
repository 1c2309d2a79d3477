"""The connector's wheel, built from the repository as it stands, the way a release would build it.

The build runs on a copy of the files git knows (tracked, plus new files not ignored), so that
leftovers of earlier builds in the work tree (a stale build/lib would be packed into the wheel)
cannot make the wheel, and the build leaves nothing behind in the work tree.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import List

REPO = Path(__file__).resolve().parent.parent
DISTRIBUTION = "airbyte-source-meetlog"
BUILD_TIMEOUT_SECONDS = 300


def repository_files() -> List[Path]:
    """The work tree's files as git sees them (uncommitted edits included), relative to the repo."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True, timeout=60,
    ).stdout.decode()
    # --cached also names files deleted but not yet committed: those are not part of the tree.
    return sorted(Path(name) for name in listed.split("\0") if name and (REPO / name).is_file())


def build_wheel(work_dir: Path) -> Path:
    """Builds the wheel into work_dir/dist and returns its path.

    --no-build-isolation: the build uses the setuptools already in this environment (the CDK
    depends on it), so that building needs no download and no build dependency of its own.
    """
    source, dist = work_dir / "source", work_dir / "dist"
    for relative in repository_files():
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / relative, source / relative)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
         "--wheel-dir", str(dist), str(source)],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT_SECONDS,
    )
    assert built.returncode == 0, f"pip wheel failed (exit {built.returncode}):\n{built.stdout}\n{built.stderr[-3000:]}"
    wheels = sorted(dist.glob("*.whl"))
    assert len(wheels) == 1, f"expected one wheel in {dist}, found {[w.name for w in wheels]}"
    return wheels[0]
