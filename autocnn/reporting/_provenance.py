"""Reproducibility: command lines, space file and hash, data fingerprint, seed, versions, hardware."""

from __future__ import annotations

from collections import Counter
from typing import Any

from autocnn._format import format_seconds
from autocnn.core.auto_space import AUTO_SPACE
from autocnn.core.storage import mask_secrets
from autocnn.reporting._document import Align, Block, Cell, CodeBlock, Paragraph, Table
from autocnn.reporting._facts import StudyFacts


def provenance_blocks(facts: StudyFacts, *, storage_url: str) -> list[Block]:
    """Return what someone needs to reproduce the search, or to know why a rerun differs."""
    info = facts.info
    dataset = info.dataset
    final = facts.final
    seeds = sorted({str(run.seed) for run in facts.runs if run.seed is not None})
    rows: list[tuple[str, str, bool]] = [
        ("study", facts.name, True),
        ("storage", mask_secrets(storage_url), True),
        ("created", info.created or "unknown", False),
        ("dataset", "unknown" if dataset is None else dataset.name, True),
        ("dataset location", "unknown" if dataset is None else dataset.location or "given as arrays", True),
        ("dataset fingerprint (sha256)", "unknown" if dataset is None else dataset.fingerprint, True),
        ("input shape", " × ".join(str(size) for size in info.input_shape or ()) or "unknown", False),
        ("classes", _classes(facts), False),
        ("validation fraction", "unknown" if dataset is None else str(dataset.validation_fraction), False),
        ("seed", ", ".join(seeds) or "unknown", True),
        ("search space", info.space_name or "unknown", True),
        ("space file", _space_source(info.space_file), bool(info.space_file)),
        ("space text sha256", facts.space_sha256 or "unknown", True),
        ("space hash (what autocnn compares on resume)", info.space_hash or "unknown", True),
        (
            "objectives",
            ", ".join(
                f"{objective.direction} {facts.label(objective.metric)}" for objective in facts.objectives
            ),
            False,
        ),
        ("backend / algorithm / pruner", info.backend.description, False),
        ("wall time of the trials", format_seconds(facts.wall_seconds), False),
        ("sum of the trials' durations", format_seconds(facts.trial_seconds), False),
        (
            "final retrain",
            "not done"
            if final is None
            else f"trial {final.trial_number}, {format_seconds(final.train_seconds)}",
            False,
        ),
    ]
    blocks: list[Block] = [
        Table(
            headers=("item", "value"),
            rows=tuple((Cell(label), Cell(value, code=is_code)) for label, value, is_code in rows),
            css_class="kv",
        )
    ]
    if facts.runs:
        blocks.append(_runs_table(facts))
        blocks.append(_versions_table(facts))
    blocks.append(_hardware_table(facts))
    workers = _workers_table(facts)
    if workers is not None:
        blocks.append(workers)
    if facts.space_text:
        blocks.append(
            CodeBlock(
                text=facts.space_text,
                language="yaml",
                summary="The search space file, as the study recorded it",
            )
        )
    if facts.runs:
        blocks.append(
            Paragraph(
                "To repeat the search, run the first command line above in a checkout with the same versions; "
                "the study refuses to continue if the space or the data changed (compare the hashes above)."
            )
        )
    return blocks


def _space_source(space_file: str | None) -> str:
    if space_file is None:
        return "none (the space was given as an object)"
    if space_file == AUTO_SPACE:
        return "auto (planned by autocnn for the data and the budget; the space text is below)"
    return space_file


def _classes(facts: StudyFacts) -> str:
    names = facts.class_names
    if not names:
        return "unknown" if facts.info.num_classes is None else str(facts.info.num_classes)
    shown = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
    return f"{len(names)} ({shown})"


def _runs_table(facts: StudyFacts) -> Table:
    rows = []
    for number, run in enumerate(facts.runs, start=1):
        rows.append(
            (
                Cell(str(number)),
                Cell(run.started, css="nowrap"),
                Cell(run.command_line, code=True),
                Cell(run.worker),
                Cell("?" if run.backend is None else run.backend.description),
                Cell("" if run.seed is None else str(run.seed)),
            )
        )
    return Table(
        headers=(
            "run",
            "started",
            "command line",
            "worker (host:pid)",
            "backend / algorithm / pruner",
            "seed",
        ),
        rows=tuple(rows),
        caption="Every time a process ran or joined this search.",
    )


def _versions_table(facts: StudyFacts) -> Table:
    packages: dict[str, list[str]] = {}
    for run in facts.runs:
        for package, version in run.versions.items():
            packages.setdefault(str(package), [])
            if str(version) not in packages[str(package)]:
                packages[str(package)].append(str(version))
    rows = tuple(
        (Cell(package), Cell(", ".join(versions) + ("  (differs between runs)" if len(versions) > 1 else "")))
        for package, versions in packages.items()
    )
    return Table(
        headers=("package", "version"),
        rows=rows,
        caption="Versions of the processes that ran the search.",
        css_class="kv",
    )


def _hardware_table(facts: StudyFacts) -> Table:
    recorded = [run.hardware for run in facts.runs if run.hardware]
    if recorded:
        hardware: dict[str, Any] = recorded[0]
        caption = "Hardware of the first run, as recorded by the search."
    else:
        from autocnn._system import hardware as current_hardware

        hardware = current_hardware()
        caption = (
            "The search did not record its hardware; this is the machine that wrote this report, "
            "which may differ from the one(s) that trained."
        )
    labels = {
        "cpu_model": "CPU",
        "cpus": "CPU cores",
        "memory_gb": "memory (GB)",
        "gpus": "GPUs",
        "system": "system",
        "machine": "architecture",
    }
    rows = tuple((Cell(labels.get(key, key)), Cell(str(value))) for key, value in hardware.items())
    return Table(headers=("hardware", "value"), rows=rows, caption=caption, css_class="kv")


def _workers_table(facts: StudyFacts) -> Table | None:
    groups: Counter[tuple[str, str]] = Counter()
    numbers: dict[tuple[str, str], list[int]] = {}
    for record in facts.records:
        key = (record.worker or "unknown", record.device or "")
        groups[key] += 1
        numbers.setdefault(key, []).append(record.number)
    if not groups:
        return None
    any_device = any(device for _, device in groups)
    rows = []
    for (worker, device), count in sorted(groups.items()):
        trials = _ranges(sorted(numbers[(worker, device)]))
        row = [Cell(worker)]
        if any_device:
            row.append(Cell(device or "not recorded"))
        row += [Cell(str(count)), Cell(trials)]
        rows.append(tuple(row))
    headers = ("worker (host:pid)", *(("device",) if any_device else ()), "trials", "trial numbers")
    device_align: tuple[Align, ...] = ("left",) if any_device else ()
    return Table(
        headers=headers,
        rows=tuple(rows),
        align=("left", *device_align, "right", "left"),
        caption="Which process" + (" and device" if any_device else "") + " ran each trial.",
    )


def _ranges(numbers: list[int]) -> str:
    """Return ``0–3, 7, 9–10`` for a sorted list of numbers."""
    spans: list[str] = []
    start = previous = numbers[0]
    for number in numbers[1:]:
        if number == previous + 1:
            previous = number
            continue
        spans.append(str(start) if start == previous else f"{start}–{previous}")
        start = previous = number
    spans.append(str(start) if start == previous else f"{start}–{previous}")
    return ", ".join(spans)
