"""Shared fixtures: synthetic projects and a way to run the CLI."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

# In-process runs lay pages out in the test's own process (no worker processes to fork and warm up
# for every compose): that halves a small compose's time. The tests that are about the workers (kill
# -9, SIGTERM, a dying worker, whole processes started as a user starts them) ask for them; set
# LAYOUT_WORKERS=2 to run every test through the workers.
os.environ.setdefault("LAYOUT_WORKERS", "1")

from layout.cli import app  # noqa: E402


@pytest.fixture
def run_cli(monkeypatch):
    """Run ``layout`` with arguments; return (exit code, stdout, stderr)."""

    def run(*args: str, root: Path | None = None) -> tuple[int, str, str]:
        argv = list(args)
        if root is not None:
            argv += ["--root", str(root)]
        result = CliRunner().invoke(app, argv, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return run
