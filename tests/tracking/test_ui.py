"""``autocnn ui``: clear refusals, and a real browser showing a finished study's runs and curves."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from autocnn._serve import group_members, stop_process_group
from autocnn._system import processes
from autocnn.errors import ConfigError
from autocnn.tracking import ui_command
from tests.tracking.conftest import TrackedSearch

REPO = Path(__file__).resolve().parents[2]
UI_ENTRY = (
    "import sys; from autocnn.tracking import ui_command; "
    "sys.exit(ui_command(workdir=sys.argv[1], port=int(sys.argv[2])))"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_ui_without_a_store_says_how_to_make_one(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(
        ConfigError, match=r"no MLflow records in .*mlflow\.db does not exist\. Run `autocnn search`"
    ):
        ui_command(workdir=tmp_path / "empty", port=free_port())


def test_ui_on_a_taken_port_says_to_choose_another(workdir, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(
            ConfigError, match=rf"cannot serve the MLflow UI on 127\.0\.0\.1:{port} .*another `port`"
        ):
            ui_command(workdir=workdir, port=port)


@pytest.mark.parametrize(("host", "warned"), [("0.0.0.0", True), ("127.0.0.1", False)])
def test_ui_on_another_address_than_loopback_warns_first(workdir, monkeypatch, capsys, host, warned):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with socket.socket() as taken:
        taken.bind((host, 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=rf"cannot serve the MLflow UI on {host}:{port}"):
            ui_command(workdir=workdir, port=port, host=host)
    warning = f"warning: the MLflow UI will listen on {host} without a password"
    assert (warning in capsys.readouterr().err) is warned


def test_ui_on_a_tracking_server_only_points_to_it(tmp_path, capsys):
    code = ui_command(workdir=tmp_path, tracking_uri="http://bob:pw@tracking.example:5000")
    assert code == 0
    assert capsys.readouterr().out.strip() == (
        "http://bob:***@tracking.example:5000 is an MLflow tracking server already: open it in a browser."
    )


def chromium_paths() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        pytest.skip(
            "headless Chromium is not installed (Debian: apt-get install -y chromium chromium-driver)"
        )
    pytest.importorskip("selenium", reason="selenium is not installed (pip install selenium)")
    return browser, driver


def close_assistant_panel(chrome, by) -> None:
    """Close MLflow's assistant side panel, so that screenshots show the runs (best effort)."""
    for button in chrome.find_elements(by.CSS_SELECTOR, "button[aria-label='Close']"):
        if button.is_displayed():
            button.click()
            return


def read_lines(stream, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def wait_for_line(lines: queue.Queue[str], needle: str, *, timeout: float, seen: list[str]) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        seen.append(line)
        if needle in line:
            return line
    raise AssertionError(f"no line with {needle!r} within {timeout} s; output: {''.join(seen)}")


def server_groups(parent_pid: int) -> list[int]:
    """Return the process groups of the children of ``parent_pid`` (the MLflow server's)."""
    return sorted({entry.group for entry in processes() if entry.parent == parent_pid})


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_ui_shows_the_study_its_trials_and_their_curves_in_a_browser(tracked: TrackedSearch, tmp_path):
    browser, driver_path = chromium_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    with (tmp_path / "server.log").open("w") as log:
        ui = subprocess.Popen(
            [sys.executable, "-c", UI_ENTRY, str(tracked.workdir), str(port)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=read_lines, args=(ui.stdout, lines), daemon=True).start()
    seen: list[str] = []
    groups: list[int] = []
    chrome = None
    try:
        wait_for_line(
            lines,
            f"MLflow UI of {tracked.workdir / 'mlflow.db'}: http://127.0.0.1:{port}",
            timeout=90,
            seen=seen,
        )
        link = wait_for_line(lines, "study tracked_digits: ", timeout=10, seen=seen).split(": ", 1)[1].strip()
        assert link == (
            f"http://127.0.0.1:{port}/#/experiments/{tracked.experiment_id}/runs?workflowType=machine_learning"
        )
        groups = server_groups(ui.pid)
        assert len(groups) == 1 and groups[0] != os.getpgid(ui.pid)  # the server runs in its own group

        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for flag in (
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1400,900",
            f"--user-data-dir={tempfile.mkdtemp(dir=tmp_path)}",
        ):
            options.add_argument(flag)
        chrome = webdriver.Chrome(service=Service(driver_path), options=options)
        wait = WebDriverWait(chrome, 60)

        # the study's runs table: the search run, expanded to its nested trial runs
        chrome.get(link)
        wait.until(ec.presence_of_element_located((By.XPATH, "//a/span[starts-with(text(), 'search ')]")))
        assert "tracked_digits" in chrome.find_element(By.TAG_NAME, "body").text
        expand = wait.until(
            ec.element_to_be_clickable((By.CSS_SELECTOR, "button[data-component-id*='runnamecellrenderer']"))
        )
        expand.click()
        close_assistant_panel(chrome, By)
        for number in range(4):
            wait.until(ec.presence_of_element_located((By.XPATH, f"//a/span[text()='trial {number}']")))
        time.sleep(0.5)
        chrome.save_screenshot(str(tmp_path / "runs.png"))

        # the best trial's page: its per-epoch curves
        best = tracked.study.best_trial.number
        run_id = tracked.trial_runs()[best].info.run_id
        chrome.get(
            f"http://127.0.0.1:{port}/#/experiments/{tracked.experiment_id}/runs/{run_id}/model-metrics"
            "?workflowType=machine_learning"
        )
        for metric in ("accuracy", "loss"):
            wait.until(
                ec.presence_of_element_located((By.XPATH, f"//*[text()='trial {best} ({metric})']")),
                message=f"no {metric} curve",
            )
        search_box = chrome.find_element(By.CSS_SELECTOR, "input[placeholder='Search metric charts']")
        search_box.send_keys("val_")  # charts below the fold are drawn only when shown
        for metric in ("val_accuracy", "val_loss"):
            wait.until(
                ec.presence_of_element_located((By.XPATH, f"//*[text()='trial {best} ({metric})']")),
                message=f"no {metric} curve",
            )
        time.sleep(0.5)
        chrome.save_screenshot(str(tmp_path / "curves.png"))
        assert (tmp_path / "runs.png").stat().st_size > 10_000
    finally:
        if chrome is not None:
            chrome.quit()
        if ui.poll() is None:
            ui.send_signal(signal.SIGTERM)
        try:
            code = ui.wait(timeout=30)
        except subprocess.TimeoutExpired:
            ui.kill()
            code = None
        for group in groups:  # never leave a server behind, even when the test fails
            if group_members(group):
                os.killpg(group, signal.SIGKILL)
    assert code == 0, "".join(seen)
    wait_for_line(lines, "stopping the MLflow UI", timeout=5, seen=seen)
    assert groups and all(group_members(group) == [] for group in groups)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the server still listens"


def test_stopping_a_process_group_also_stops_its_children(tmp_path):
    script = (
        "import subprocess, sys, time; "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    )
    process = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    deadline = time.monotonic() + 10
    while len(group_members(process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(group_members(process.pid)) == 2
    stop_process_group(process, timeout=5)
    assert group_members(process.pid) == []
    assert process.returncode == -signal.SIGTERM
