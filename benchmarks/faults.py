"""Faults injected for real: kill -9 at random moments, killed workers, a full disk, damaged files.

Each scenario runs ``autocnn search`` (a small space on digits) as a user would, injects the
fault, then runs the same command to completion, and checks that every trial finished before a
fault is still there with the same result, that no trial number appears twice and no lost trial
is retried twice, that no trial is left running, and that the final model loads and scores what
the study says. It prints, per fault, the runs tried and the runs that ended with all of that.

    python benchmarks/faults.py --kills 10
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import OUT, write_results

SPACE = """
name: faults
model:
  blocks: {count: 1, filters: [4, 8, 16], pooling: [max, none]}
  head: {dense_layers: 0}
training: {learning_rate: [0.003, 0.01, 0.03], batch_size: 16, epochs: 3}
search: {algorithm: random, pruner: none, max_trials: 12, retrain_epochs: 3}
"""
STUDY = "faults_digits"


@dataclass
class Scenario:
    """One fault: how many runs were tried and how many kept everything."""

    name: str
    tried: int = 0
    kept: int = 0
    kills: int = 0
    trials_lost: int = 0  # trials running when killed, each failed and retried once on resume
    problems: list[str] = field(default_factory=list)


def command(workdir: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "autocnn", "search", "--dataset", "digits", "--space", str(workdir.parent / "space.yaml"),
        "--workdir", str(workdir), "--no-tracking", "-q", *extra,
    ]  # fmt: skip


def snapshot(workdir: Path) -> dict[int, tuple[str, tuple[float, ...] | None]]:
    """Return trial number -> (status, values) of the study, or {} before it exists."""
    from autocnn.core.study import load_study

    if not (workdir / "studies.db").exists():
        return {}
    try:
        records = load_study(STUDY, workdir=workdir).trials()
    except Exception:
        return {}
    return {record.number: (str(record.status), record.values) for record in records}


def check(workdir: Path, finished_before: dict[int, tuple[str, tuple[float, ...] | None]]) -> list[str]:
    """Return what is wrong with the study after the faults and the final run (nothing: all kept)."""
    import numpy as np

    from autocnn.core.study import load_study
    from autocnn.data import load_dataset
    from autocnn.export import load_model_safely

    problems = []
    with sqlite3.connect(workdir / "studies.db") as database:
        if database.execute("PRAGMA integrity_check").fetchone() != ("ok",):
            problems.append("the study database is damaged")
    study = load_study(STUDY, workdir=workdir)
    records = study.trials()
    by_number = {record.number: record for record in records}
    if len(by_number) != len(records):
        problems.append("a trial number appears twice")
    for number, (status, values) in finished_before.items():
        record = by_number.get(number)
        if record is None or str(record.status) != status or record.values != values:
            problems.append(f"trial {number} ({status}) changed or is gone")
    retried = [record.retry_of for record in records if record.retry_of is not None]
    if len(retried) != len(set(retried)):
        problems.append("a lost trial was retried twice")
    if any(str(record.status) == "running" for record in records):
        problems.append("a trial is left running")
    final = study.final
    if final is None:
        problems.append("no final model")
    else:
        model = load_model_safely(Path(final.model_path))
        data = load_dataset("digits")
        accuracy = float(np.mean(np.argmax(model.predict(data.x_test, verbose=0), axis=1) == data.y_test))
        if abs(accuracy - final.test_accuracy) > 1e-6:
            problems.append(
                f"the final model scores {accuracy:.4f}, the study says {final.test_accuracy:.4f}"
            )
    return problems


def finished(
    snapshot_: dict[int, tuple[str, tuple[float, ...] | None]],
) -> dict[int, tuple[str, tuple[float, ...] | None]]:
    return {
        number: entry for number, entry in snapshot_.items() if entry[0] in ("complete", "pruned", "failed")
    }


def kill_at_random(
    scenario: Scenario, root: Path, *, kills: int, rng: random.Random, extra: tuple[str, ...] = ()
) -> None:
    """Start the search, SIGKILL it after a random time, ``kills`` times; then run it to completion."""
    workdir = root / "runs"
    kept: dict[int, tuple[str, tuple[float, ...] | None]] = {}
    for _ in range(kills):
        process = subprocess.Popen(
            command(workdir, *extra),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(rng.uniform(4.0, 20.0))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        scenario.kills += 1
        kept.update(finished(snapshot(workdir)))
    completed = subprocess.run(command(workdir, *extra), capture_output=True, text=True, timeout=1800)
    scenario.tried += 1
    problems = (
        [f"the last run exited {completed.returncode}: {completed.stderr[-300:]}"]
        if completed.returncode
        else []
    )
    problems += check(workdir, kept)
    _count_lost(scenario, workdir)
    if problems:
        scenario.problems += problems
    else:
        scenario.kept += 1


def _count_lost(scenario: Scenario, workdir: Path) -> None:
    from autocnn.core.study import load_study

    records = load_study(STUDY, workdir=workdir).trials()
    scenario.trials_lost += sum(
        1 for record in records if "ended while this trial was running" in record.reason
    )


def children(pid: int) -> list[int]:
    """Return the processes whose parent is ``pid``."""
    from autocnn._system import processes

    return [entry.pid for entry in processes() if entry.parent == pid and entry.state != "Z"]


def kill_workers(scenario: Scenario, root: Path, *, kills: int, rng: random.Random) -> None:
    """SIGKILL a random worker of a running ``--workers 2`` search, ``kills`` times; it must finish on its own."""
    workdir = root / "runs"
    process = subprocess.Popen(
        command(workdir, "--workers", "2"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    kept: dict[int, tuple[str, tuple[float, ...] | None]] = {}
    done = 0
    while done < kills:
        time.sleep(rng.uniform(3.0, 10.0))
        if process.poll() is not None:
            break
        workers = children(process.pid)
        if not workers:  # still starting: no worker to kill yet
            continue
        os.kill(rng.choice(workers), signal.SIGKILL)
        done += 1
        scenario.kills += 1
        kept.update(finished(snapshot(workdir)))
    _, stderr = process.communicate(timeout=1800)
    scenario.tried += 1
    problems = [f"the search exited {process.returncode}: {stderr[-300:]}"] if process.returncode else []
    problems += check(workdir, kept)
    _count_lost(scenario, workdir)
    if problems:
        scenario.problems += problems
    else:
        scenario.kept += 1


SCENARIO_NAMES = ("search", "workers", "one-worker")


def run(*, kills: int, rounds: int, seed: int, only: tuple[str, ...] = SCENARIO_NAMES) -> list[Scenario]:
    rng = random.Random(seed)
    scenarios = [
        Scenario(f"kill -9 of a search, {kills} times, then the same command"),
        Scenario(f"kill -9 of a 2-worker SQLite search (all its processes), {kills} times"),
        Scenario(f"kill -9 of one random worker of a running 2-worker search, up to {kills} times"),
    ]
    runners: list[Callable[[Path], None]] = [
        lambda root: kill_at_random(scenarios[0], root, kills=kills, rng=rng),
        lambda root: kill_at_random(scenarios[1], root, kills=kills, rng=rng, extra=("--workers", "2")),
        lambda root: kill_workers(scenarios[2], root, kills=kills, rng=rng),
    ]
    chosen = [index for index, name in enumerate(SCENARIO_NAMES) if name in only]
    for _ in range(rounds):
        for runner in (runners[index] for index in chosen):
            with tempfile.TemporaryDirectory() as folder:
                root = Path(folder)
                (root / "space.yaml").write_text(SPACE)
                runner(root)
    return scenarios


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10, help="SIGKILLs per run before the final one")
    parser.add_argument("--rounds", type=int, default=1, help="runs per fault")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--only", nargs="+", choices=SCENARIO_NAMES, default=SCENARIO_NAMES,
        help="run these faults; the others' results are kept from the earlier run",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    started = time.monotonic()
    scenarios = run(kills=args.kills, rounds=args.rounds, seed=args.seed, only=tuple(args.only))
    earlier = args.out / "faults.json"
    if set(args.only) != set(SCENARIO_NAMES) and earlier.is_file():
        for index, entry in enumerate(json.loads(earlier.read_text())["scenarios"]):
            if SCENARIO_NAMES[index] not in args.only:
                scenarios[index] = Scenario(**entry)
    markdown = [
        "# Faults, injected",
        "",
        "A run is *kept* when, after the faults and one more run of the same command, every trial "
        "finished before a fault is there with the same result, no trial number is doubled, no lost "
        "trial is retried twice, none is left running, and the final model scores what the study says.",
        "",
        "| fault | runs | kills | trials lost and retried | runs kept |",
        "|---|---:|---:|---:|---:|",
        *(f"| {s.name} | {s.tried} | {s.kills} | {s.trials_lost} | {s.kept} |" for s in scenarios),
        "",
        f"{time.monotonic() - started:.0f} s in all.",
    ]
    for scenario in scenarios:
        markdown += [f"- {scenario.name}: {problem}" for problem in scenario.problems]
    results = {"scenarios": [dataclasses.asdict(scenario) for scenario in scenarios]}
    write_results("faults", results, markdown, out=args.out)
    return 0 if all(scenario.kept == scenario.tried for scenario in scenarios) else 1


if __name__ == "__main__":
    sys.exit(main())
