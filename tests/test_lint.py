"""The lint rules, including ruff's docstring rules (``D``, numpy convention), hold on the tree.

``make lint`` runs the same two commands; this puts them in ``make test`` so CI checks them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True
    )


def test_ruff_check_passes_with_the_docstring_rules():
    result = ruff("check", "--output-format", "concise", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_docstring_rules_are_on_for_the_packages():
    result = ruff("check", "--show-settings", "geo/db.py")
    assert result.returncode == 0, result.stderr
    assert "pydocstyle" in result.stdout and "numpy" in result.stdout.lower()
    assert "D103" in result.stdout  # undocumented public function


def test_ruff_format_leaves_the_tree_as_it_is():
    result = ruff("format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr
