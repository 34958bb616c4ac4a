"""The documentation builds from the docstrings with warnings as errors: a broken reference fails the suite."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO


def _build(config_dir, site) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable, "-m", "mkdocs", "build", "--strict",
            "--config-file", str(config_dir / "mkdocs.yml"), "-d", str(site),
        ],
        capture_output=True,
        text=True,
        cwd=config_dir,
        timeout=300,
    )  # fmt: skip


@pytest.fixture
def docs_copy(tmp_path):
    pytest.importorskip("mkdocstrings", reason="pip install mkdocs mkdocstrings[python]")
    shutil.copy(REPO / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(REPO / "docs", tmp_path / "docs")
    (tmp_path / "autocnn").symlink_to(REPO / "autocnn")
    return tmp_path


def test_the_docs_build_strictly_with_the_api_from_the_docstrings(docs_copy):
    built = _build(docs_copy, docs_copy / "site")
    assert built.returncode == 0, built.stderr[-3000:]
    api = (docs_copy / "site" / "api" / "index.html").read_text(encoding="utf-8")
    assert "Run an architecture and hyperparameter search and return its Study." in api
    assert (
        'id="autocnn.core.study.Study.plot_history"' in api and "_repr_html_" not in api
    )  # no private members
    guide = (docs_copy / "site" / "guide" / "index.html").read_text(encoding="utf-8")
    assert 'href="../api/#autocnn.core.session.search"' in guide


def test_a_broken_reference_fails_the_build(docs_copy):
    guide = docs_copy / "docs" / "guide.md"
    guide.write_text(guide.read_text() + "\nSee [`nothing`][autocnn.core.session.no_such_function].\n")
    built = _build(docs_copy, docs_copy / "site")
    assert built.returncode != 0
    assert "autocnn.core.session.no_such_function" in built.stderr
