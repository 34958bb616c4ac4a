"""``autocnn dashboard``: optuna-dashboard on autocnn's studies, in a real browser; the study is plain Optuna too."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path

import pytest

from autocnn.cli import main
from tests.conftest import REPO
from tests.tracking.test_ui import chromium_paths, free_port, read_lines, wait_for_line

SPACE = """
name: board
model:
  blocks: {count: 1, filters: [4, 8], pooling: max}
  head: {dense_layers: 0}
training: {learning_rate: [0.003, 0.01], batch_size: 64, epochs: 2}
search: {algorithm: random, pruner: none}
"""


@pytest.fixture(scope="module")
def searched(tmp_path_factory) -> Path:
    from autocnn.core.session import search

    root = tmp_path_factory.mktemp("board")
    (root / "space.yaml").write_text(SPACE)
    search(root / "space.yaml", dataset="digits", workdir=root / "runs", max_trials=2, retrain=False)
    return root / "runs"


def test_a_study_made_by_autocnn_is_a_plain_optuna_study(searched):
    import optuna

    study = optuna.load_study(study_name="board_digits", storage=f"sqlite:///{searched / 'studies.db'}")
    trials = study.get_trials()
    assert len(trials) == 2 and study.best_value > 0.5
    attrs = trials[0].user_attrs
    assert attrs["architecture"].startswith("C") and " | flat | adam " in attrs["architecture"]
    assert attrs["metrics"]["params"] > 0 and attrs["metrics"]["flops"] > 0
    assert attrs["status"] == "complete"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--workdir", "nowhere"], "error: no studies in nowhere: nowhere/studies.db does not exist"),
        (["--study", "nope"], "error: no study named 'nope' in sqlite:///"),
    ],
)
def test_no_studies_or_an_unknown_study_is_one_line_and_exit_2(
    searched, arguments, message, capsys, monkeypatch
):
    monkeypatch.chdir(searched.parent)
    if "--workdir" not in arguments:
        arguments = [*arguments, "--workdir", str(searched)]
    assert main(["dashboard", *arguments]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(message) and "\n" not in err
    if "--study" in arguments:
        assert err.endswith("studies there: board_digits")


def test_without_optuna_dashboard_it_says_what_to_install(searched, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "optuna_dashboard" else real(name, *a)
    )
    assert main(["dashboard", "--workdir", str(searched)]) == 2
    assert "pip install 'autocnn[dashboard]'" in capsys.readouterr().err


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_the_dashboard_lists_the_trials_with_autocnns_attributes_and_stops_on_ctrl_c(searched, tmp_path):
    browser, driver_path = chromium_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    port = free_port()
    board = subprocess.Popen(
        [sys.executable, "-m", "autocnn", "dashboard", "--workdir", str(searched), "--port", str(port)],
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=read_lines, args=(board.stdout, lines), daemon=True).start()
    seen: list[str] = []
    chrome = None
    try:
        wait_for_line(
            lines,
            f"optuna-dashboard of {searched / 'studies.db'}: http://127.0.0.1:{port}/dashboard",
            timeout=60,
            seen=seen,
        )
        link = wait_for_line(lines, "study board_digits: ", timeout=10, seen=seen).split(": ", 1)[1].strip()
        assert link == f"http://127.0.0.1:{port}/dashboard/studies/1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies/1", timeout=30) as response:
            detail = json.loads(response.read())
        attributes = {item["key"]: item["value"] for item in detail["trials"][0]["user_attrs"]}
        assert " | flat | adam " in attributes["architecture"] and '"flops"' in attributes["metrics"]

        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,900",
                     f"--user-data-dir={tempfile.mkdtemp(dir=tmp_path)}"):  # fmt: skip
            options.add_argument(flag)
        chrome = webdriver.Chrome(service=Service(driver_path), options=options)
        chrome.get(f"{link}/trials")
        wait = WebDriverWait(chrome, 60)
        wait.until(ec.presence_of_element_located((By.XPATH, "//*[contains(text(), 'board_digits')]")))
        wait.until(ec.presence_of_element_located((By.XPATH, "//*[contains(text(), 'architecture')]")))
        chrome.save_screenshot(str(tmp_path / "dashboard.png"))
        assert (tmp_path / "dashboard.png").stat().st_size > 10_000
    finally:
        if chrome is not None:
            chrome.quit()
        board.send_signal(signal.SIGINT)
        try:
            code = board.wait(timeout=30)
        except subprocess.TimeoutExpired:
            board.kill()
            code = None
    assert code == 0, "".join(seen) + (board.stderr.read() if board.stderr else "")
    wait_for_line(lines, "stopping optuna-dashboard", timeout=5, seen=seen)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the dashboard still listens"
