"""`pip install` of the package into a fresh venv that uses the system's pyzmq and msgpack."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent


def test_pip_installs_the_package_into_a_venv_with_system_site_packages(tmp_path: Path) -> None:
    # Built from a copy: pip writes build files next to the sources it is given.
    source = tmp_path / "src"
    shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "--quiet", str(source)],
        capture_output=True, text=True, timeout=120,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    probe = subprocess.run(
        [str(python), "-c", "import ccmesh, zmq, msgpack; print(ccmesh.__file__, ccmesh.Client)"],
        capture_output=True, text=True, cwd=tmp_path, check=True,
    )
    assert probe.stdout.startswith(str(venv)), probe.stdout
    usage = subprocess.run([str(python), "-m", "ccmesh", "--help"], capture_output=True,
                           text=True, cwd=tmp_path)
    assert usage.returncode == 0 and "query" in usage.stdout
