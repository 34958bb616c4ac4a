"""The CLI as a user runs it: a real subprocess, exit codes and what is printed."""

import json
import subprocess
import sys

from autocnn.space import load_space
from tests.conftest import REPO, SPACES


def run_cli(*args: str, cwd=REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "autocnn", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_version():
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("autocnn 0.")


def test_validate_every_ready_made_space():
    result = run_cli("spaces", "validate", *sorted(str(p) for p in SPACES.glob("*.yaml")))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok ") == len(list(SPACES.glob("*.yaml")))


def test_malformed_space_gets_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nmodel:\n  blocks:\n    kernel_size: 9\n")
    result = run_cli("spaces", "validate", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {bad}: model.blocks.kernel_size: 9 is outside 1..7"
    assert "Traceback" not in result.stderr


def test_missing_file_without_traceback_unless_debug(tmp_path):
    result = run_cli("spaces", "show", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "no such space file" in result.stderr and "Traceback" not in result.stderr
    debug = run_cli("--debug", "spaces", "show", str(tmp_path / "nope.yaml"))
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_show_lists_entries_and_size():
    result = run_cli("spaces", "show", str(SPACES / "quick.yaml"))
    assert result.returncode == 0
    assert "block2.filters" in result.stdout and "[8, 16, 32]" in result.stdout
    assert "[relu, elu]" in result.stdout
    assert "size: infinitely many configurations" in result.stdout
    assert "fidelity" not in result.stdout  # quick trains every trial on all of its data


def test_show_states_the_fidelity_of_a_multi_fidelity_space():
    path = SPACES / "fashion_mnist.yaml"
    settings = load_space(path).search
    result = run_cli("spaces", "show", str(path))
    assert result.returncode == 0
    assert (
        f"fidelity: trials train on {settings.trial_train_fraction:.0%} of the training split; "
        f"the final retrain runs {settings.retrain_epochs} epochs on train + validation, in at most "
        f"{settings.retrain_share:.0%} of a time budget" in " ".join(result.stdout.split())
    )


def test_schema_is_json():
    result = run_cli("spaces", "schema")
    schema = json.loads(result.stdout)
    assert schema["title"] == "autocnn search space"


def test_unknown_option_is_a_usage_error():
    result = run_cli("spaces", "show", "--nope")
    assert result.returncode == 2


def test_spaces_plan_writes_a_space_file_that_search_reads(tmp_path):
    out = tmp_path / "planned.yaml"
    result = run_cli(
        "spaces", "plan", "--dataset", "digits", "--timeout", "2m", "--out", str(out), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "planned space: 1 pooling block: 8 px -> 4 px" in result.stdout
    assert f"--space {out}" in result.stdout
    space = load_space(str(out))
    assert space.search.timeout == 120 and space.search.constraints.max_flops is not None
    assert out.read_text().startswith("# Planned by autocnn")


def test_spaces_plan_of_missing_data_is_one_message(tmp_path):
    result = run_cli("spaces", "plan", "--dataset", str(tmp_path / "nope"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: dataset ") and "Traceback" not in result.stderr
