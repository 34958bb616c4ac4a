"""Faults injected for real: kill -9 at random moments and in each phase, killed workers, a database restart.

Each scenario runs ``autocnn search`` (a small space on digits) as a user would, injects the
fault (kill -9 at a random moment, during the retrain, during the report, of ``autocnn export``,
of random workers, and a PostgreSQL server restart under three workers), then runs the same
command to completion, and checks that every trial finished before a
fault is still there with the same result, that no trial number appears twice and no lost trial
is retried twice, that no trial is left running, and that the final model loads and scores what
the study says. It prints, per fault, the runs tried and the runs that ended with all of that.

    python benchmarks/faults.py --kills 10
    python benchmarks/faults.py --kills 3 --only retrain report export   # the others kept from before
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
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import OUT, write_results
from benchmarks._postgres import PostgresServer, server_binaries, throwaway_postgres

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
    key: str = ""
    tried: int = 0
    kept: int = 0
    kills: int = 0
    trials_lost: int = 0  # trials running when killed, each failed and retried once on resume
    restarts: int = 0  # database server restarts
    problems: list[str] = field(default_factory=list)


def command(workdir: Path, *extra: str, progress: bool = False) -> list[str]:
    """Return the ``autocnn search`` command of every run (quiet unless ``progress``)."""
    return [
        sys.executable, "-m", "autocnn", "search", "--dataset", "digits", "--space", str(workdir.parent / "space.yaml"),
        "--workdir", str(workdir), "--no-tracking", *(() if progress else ("-q",)), *extra,
    ]  # fmt: skip


def snapshot(workdir: Path, *, storage: str | None = None) -> dict[int, tuple[str, tuple[float, ...] | None]]:
    """Return trial number -> (status, values) of the study, or {} before it exists."""
    from autocnn.core.study import load_study

    if storage is None and not (workdir / "studies.db").exists():
        return {}
    try:
        records = load_study(STUDY, workdir=workdir, storage=storage).trials()
    except Exception:
        return {}
    return {record.number: (str(record.status), record.values) for record in records}


def check(
    workdir: Path,
    finished_before: dict[int, tuple[str, tuple[float, ...] | None]],
    *,
    storage: str | None = None,
) -> list[str]:
    """Return what is wrong with the study after the faults and the final run (nothing: all kept)."""
    import numpy as np

    from autocnn.core.study import load_study
    from autocnn.data import load_dataset
    from autocnn.export import load_model_safely

    problems = []
    if storage is None:
        with sqlite3.connect(workdir / "studies.db") as database:
            if database.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                problems.append("the study database is damaged")
    study = load_study(STUDY, workdir=workdir, storage=storage)
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
    judge(scenario, workdir, kept, exit_code=completed.returncode, stderr=completed.stderr)


def judge(
    scenario: Scenario,
    workdir: Path,
    kept: dict[int, tuple[str, tuple[float, ...] | None]],
    *,
    exit_code: int,
    stderr: str,
    storage: str | None = None,
    more_problems: Sequence[str] = (),
) -> None:
    """Count one run of ``scenario``: kept when the last command succeeded and :func:`check` finds nothing."""
    scenario.tried += 1
    problems = [f"the last run exited {exit_code}: {stderr[-300:]}"] if exit_code else []
    problems += [*check(workdir, kept, storage=storage), *more_problems]
    _count_lost(scenario, workdir, storage=storage)
    if problems:
        scenario.problems += problems
    else:
        scenario.kept += 1


def _count_lost(scenario: Scenario, workdir: Path, *, storage: str | None = None) -> None:
    from autocnn.core.study import load_study

    records = load_study(STUDY, workdir=workdir, storage=storage).trials()
    scenario.trials_lost += sum(
        1 for record in records if "ended while this trial was running" in record.reason
    )


def children(pid: int) -> list[int]:
    """Return the processes whose parent is ``pid``."""
    from autocnn._system import processes

    return [entry.pid for entry in processes() if entry.parent == pid and entry.state != "Z"]


def kill_workers(
    scenario: Scenario,
    root: Path,
    *,
    kills: int,
    rng: random.Random,
    workers: int = 2,
    server: PostgresServer | None = None,
) -> None:
    """SIGKILL a random worker of a running ``--workers N`` search, ``kills`` times; it must finish on its own.

    With a PostgreSQL ``server``, the study lives there, and the server is also stopped for 10 s
    and started again halfway through the kills.
    """
    workdir = root / "runs"
    storage = None if server is None else server.url
    extra = ("--workers", str(workers), *(() if storage is None else ("--storage", storage)))
    process = subprocess.Popen(
        command(workdir, *extra), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    kept: dict[int, tuple[str, tuple[float, ...] | None]] = {}
    done = 0
    while done < kills:
        time.sleep(rng.uniform(3.0, 10.0))
        if process.poll() is not None:
            break
        running = children(process.pid)
        if not running:  # still starting: no worker to kill yet
            continue
        os.kill(rng.choice(running), signal.SIGKILL)
        done += 1
        scenario.kills += 1
        kept.update(finished(snapshot(workdir, storage=storage)))
        if server is not None and done == max(1, kills // 2):
            server.stop()
            time.sleep(10)
            server.start()
            scenario.restarts += 1
    _, stderr = process.communicate(timeout=1800)
    judge(scenario, workdir, kept, exit_code=process.returncode, stderr=stderr, storage=storage)


def kill_in_phase(
    scenario: Scenario,
    root: Path,
    *,
    kills: int,
    rng: random.Random,
    first: tuple[str, ...],
    marker: str,
    within_s: float,
) -> None:
    """Run the search with ``first`` options, then ``kills`` times: rerun it, kill it ``within_s`` after ``marker``."""
    workdir = root / "runs"
    started = subprocess.run(command(workdir, *first), capture_output=True, text=True, timeout=1800)
    if started.returncode:
        scenario.problems.append(f"the first run exited {started.returncode}: {started.stderr[-300:]}")
        return
    kept = finished(snapshot(workdir))
    for _ in range(kills):
        if kill_after_line(command(workdir, progress=True), marker=marker, delay=rng.uniform(0.1, within_s)):
            scenario.kills += 1
    completed = subprocess.run(command(workdir), capture_output=True, text=True, timeout=1800)
    judge(
        scenario, workdir, kept, exit_code=completed.returncode, stderr=completed.stderr,
        more_problems=report_problems(workdir),
    )  # fmt: skip


def kill_after_line(arguments: list[str], *, marker: str, delay: float) -> bool:
    """Start ``arguments``, SIGKILL its process group ``delay`` s after it prints ``marker``.

    Returns whether the kill landed (the process was still running).
    """
    process = subprocess.Popen(
        arguments, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True
    )
    assert process.stdout is not None
    seen = threading.Event()

    def watch() -> None:
        assert process.stdout is not None
        for line in process.stdout:  # read to the end, so that the process never blocks on a full pipe
            if marker in line:
                seen.set()

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    while not seen.wait(0.1):
        if process.poll() is not None:
            return False
    time.sleep(delay)
    alive = process.poll() is None
    if alive:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    reader.join(timeout=10)
    return alive


def report_problems(workdir: Path) -> list[str]:
    """Return what is wrong with the study's report: a page cut short, or a leaderboard without every trial."""
    from autocnn.core.study import load_study

    study = load_study(STUDY, workdir=workdir)
    folder = study.report_directory
    index, leaderboard = folder / "index.html", folder / "leaderboard.csv"
    if not index.is_file() or not index.read_text(encoding="utf-8").rstrip().endswith("</html>"):
        return ["the report page is missing or cut short"]
    rows = leaderboard.read_text(encoding="utf-8").strip().splitlines()[1:] if leaderboard.is_file() else []
    if len(rows) != len(study.trials()):
        return [f"the leaderboard lists {len(rows)} trials, not every trial"]
    return []


def kill_exports(scenario: Scenario, root: Path, *, kills: int, rng: random.Random) -> None:
    """SIGKILL ``autocnn export`` at random moments; the file must be absent or whole each time, then export."""
    workdir = root / "runs"
    searched = subprocess.run(command(workdir, "--no-report"), capture_output=True, text=True, timeout=1800)
    if searched.returncode:
        scenario.problems.append(f"the search exited {searched.returncode}: {searched.stderr[-300:]}")
        return
    target = root / "dist" / "model.keras"
    export = [
        sys.executable, "-m", "autocnn", "export", "--study", STUDY, "--workdir", str(workdir),
        "--format", "keras", "--out", str(target),
    ]  # fmt: skip
    problems: list[str] = []
    for _ in range(kills):
        process = subprocess.Popen(
            export, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        time.sleep(rng.uniform(2.0, 14.0))
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            scenario.kills += 1
        process.wait()
        if target.exists() and not _predicts_like_the_final_model(workdir, target):
            problems.append("a killed export left a damaged file")
    completed = subprocess.run(export, capture_output=True, text=True, timeout=600)
    if not _predicts_like_the_final_model(workdir, target):
        problems.append("the last export does not predict what the final model predicts")
    leftovers = [item.name for item in target.parent.iterdir() if ".tmp" in item.name]
    if leftovers:
        problems.append(f"temporary files left beside the export: {', '.join(leftovers)}")
    judge(
        scenario, workdir, {}, exit_code=completed.returncode, stderr=completed.stderr, more_problems=problems
    )


def _predicts_like_the_final_model(workdir: Path, path: Path) -> bool:
    import numpy as np

    from autocnn.core.study import load_study
    from autocnn.data import load_dataset
    from autocnn.export import load_model_safely

    final = load_study(STUDY, workdir=workdir).final
    try:
        exported = load_model_safely(path)
    except Exception:
        return False
    assert final is not None
    images = load_dataset("digits").x_test[:64]
    reference = load_model_safely(Path(final.model_path)).predict(images, verbose=0)
    return bool(np.allclose(exported.predict(images, verbose=0), reference, atol=1e-5))


SCENARIO_NAMES = ("search", "workers", "one-worker", "postgres", "retrain", "report", "export")


def describe(key: str, kills: int) -> str:
    """Return the table's words for scenario ``key``."""
    return {
        "search": f"kill -9 of a search, {kills} times, then the same command",
        "workers": f"kill -9 of a 2-worker SQLite search (all its processes), {kills} times",
        "one-worker": f"kill -9 of one random worker of a running 2-worker search, up to {kills} times",
        "postgres": (
            f"kill -9 of one random worker of a 3-worker search on PostgreSQL, up to {kills} times, "
            "and the database server stopped for 10 s and started again"
        ),
        "retrain": f"kill -9 during the final retrain, {kills} times, then the same command",
        "report": f"kill -9 while the report is written, {kills} times, then the same command",
        "export": f"kill -9 of `autocnn export`, {kills} times, then the same command",
    }[key]


def run(
    *, kills: int, rounds: int, seed: int, only: tuple[str, ...] = SCENARIO_NAMES, trials: int = 12
) -> dict[str, Scenario]:
    """Run the ``only`` scenarios ``rounds`` times each, on a study of ``trials`` trials; return them by key."""
    rng = random.Random(seed)
    scenarios = {key: Scenario(describe(key, kills), key=key) for key in only}
    for _ in range(rounds):
        for key, scenario in scenarios.items():
            with tempfile.TemporaryDirectory() as folder:
                root = Path(folder)
                (root / "space.yaml").write_text(SPACE.replace("max_trials: 12", f"max_trials: {trials}"))
                if key == "postgres":
                    bindir = server_binaries()
                    if bindir is None:
                        scenario.problems.append(
                            "no PostgreSQL server installed (apt-get install postgresql)"
                        )
                        continue
                    with throwaway_postgres(bindir) as server:
                        kill_workers(scenario, root, kills=kills, rng=rng, workers=3, server=server)
                elif key == "search":
                    kill_at_random(scenario, root, kills=kills, rng=rng)
                elif key == "workers":
                    kill_at_random(scenario, root, kills=kills, rng=rng, extra=("--workers", "2"))
                elif key == "one-worker":
                    kill_workers(scenario, root, kills=kills, rng=rng)
                elif key == "retrain":
                    kill_in_phase(
                        scenario, root, kills=kills, rng=rng, first=("--no-retrain", "--no-report"),
                        marker="retraining trial", within_s=1.5,
                    )  # fmt: skip
                elif key == "report":
                    kill_in_phase(
                        scenario,
                        root,
                        kills=kills,
                        rng=rng,
                        first=("--no-report",),
                        marker="no more trials",
                        within_s=8.0,
                    )
                else:
                    kill_exports(scenario, root, kills=kills, rng=rng)
    return scenarios


def earlier_results(path: Path) -> dict[str, Scenario]:
    """Return the scenarios of an earlier run's JSON by key (the first three once had none)."""
    if not path.is_file():
        return {}
    entries = json.loads(path.read_text())["scenarios"]
    return {
        entry.get("key") or SCENARIO_NAMES[index]: Scenario(**{"key": SCENARIO_NAMES[index], **entry})
        for index, entry in enumerate(entries)
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10, help="SIGKILLs per run before the final one")
    parser.add_argument("--rounds", type=int, default=1, help="runs per fault")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--trials", type=int, default=12, help="trials of each study (fewer: a smoke run)")
    parser.add_argument(
        "--only", nargs="+", choices=SCENARIO_NAMES, default=SCENARIO_NAMES,
        help="run these faults; the others' results are kept from the earlier run",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    started = time.monotonic()
    ran = run(kills=args.kills, rounds=args.rounds, seed=args.seed, only=tuple(args.only), trials=args.trials)
    kept_before = earlier_results(args.out / "faults.json")
    scenarios = [
        ran.get(key) or kept_before[key] for key in SCENARIO_NAMES if key in ran or key in kept_before
    ]
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
