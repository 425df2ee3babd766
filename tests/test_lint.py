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


def probe(path: str, source: str) -> str:
    """Ruff's findings on ``source`` as if it were the file ``path`` of the tree."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--output-format", "concise",
         "--stdin-filename", path, "-"],
        cwd=ROOT, input=source, capture_output=True, text=True,
    )  # fmt: skip
    return result.stdout


def test_the_docstring_rules_are_on_for_the_packages_only():
    undocumented = '"""A module."""\n\n\ndef f(x):\n    return x\n'
    assert "D103" in probe("geo/probe.py", undocumented)
    assert "D103" not in probe("tests/probe.py", undocumented)
    # numpy convention: an imperative summary, then a blank line
    worded = '"""A module."""\n\n\ndef f(x):\n    """The value.\n    More."""\n    return x\n'
    found = probe("scoring/probe.py", worded)
    assert "D401" in found and "D205" in found


def test_ruff_format_leaves_the_tree_as_it_is():
    result = ruff("format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr
