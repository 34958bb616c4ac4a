"""Generated bad inputs: how many load, how many are refused clearly, how many break the CLI.

Space files are the ready-made spaces with one seeded mutation each (wrong types, out-of-range
values, unknown and misspelt keys, empty sections, huge numbers, NaN/inf, unicode, anchors and
aliases, deep nesting, very large documents, broken YAML); datasets are broken ``.npz`` files,
IDX folders and image folders. Each goes through the CLI (``spaces validate`` or ``datasets
info``) in this process: it must load, or exit 2 with a short message whose first line names
the file. The suite runs a fixed sample (tests/test_bad_inputs.py).

    python benchmarks/bad_inputs.py --spaces 1000 --datasets 200
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._bad_inputs import Outcome, Verdict, bad_datasets, bad_spaces, judge
from benchmarks._common import OUT, write_results


def run(*, spaces: int, datasets: int, seed: int) -> list[Verdict]:
    """Judge ``spaces`` generated space files and ``datasets`` generated datasets."""
    from autocnn._quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    verdicts = []
    with tempfile.TemporaryDirectory() as folder:
        for case in bad_spaces(seed=seed, count=spaces):
            verdicts.append(judge(case, Path(folder), command=("spaces", "validate")))
        for case in bad_datasets(seed=seed, count=datasets):
            verdicts.append(judge(case, Path(folder), command=("datasets", "info")))
    return verdicts


def table(verdicts: list[Verdict]) -> list[str]:
    """Return the Markdown table of outcomes per kind of bad input."""
    counts: dict[str, collections.Counter[Outcome]] = collections.defaultdict(collections.Counter)
    for verdict in verdicts:
        counts[verdict.case.description.split(" in ")[0]][verdict.outcome] += 1
    lines = ["| input | tried | loaded | refused clearly | broken |", "|---|---:|---:|---:|---:|"]
    for kind, counter in sorted(counts.items()):
        lines.append(
            f"| {kind} | {sum(counter.values())} | {counter[Outcome.LOADED]} | "
            f"{counter[Outcome.REFUSED]} | {counter[Outcome.BROKEN]} |"
        )
    total = collections.Counter(verdict.outcome for verdict in verdicts)
    lines.append(
        f"| **all** | **{len(verdicts)}** | **{total[Outcome.LOADED]}** | **{total[Outcome.REFUSED]}** | "
        f"**{total[Outcome.BROKEN]}** |"
    )
    return lines


def main() -> int:
    """Run the generated cases, print and write the table; exit 1 if any case broke the CLI."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spaces", type=int, default=1000)
    parser.add_argument("--datasets", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    started = time.monotonic()
    verdicts = run(spaces=args.spaces, datasets=args.datasets, seed=args.seed)
    broken = [verdict for verdict in verdicts if verdict.outcome is Outcome.BROKEN]
    markdown = [
        "# Bad inputs, generated",
        "",
        f"{args.spaces} space files and {args.datasets} datasets (seed {args.seed}), each given to the "
        "CLI: it must load, or exit 2 with a short message whose first line names the file.",
        "",
        *table(verdicts),
        "",
        f"{time.monotonic() - started:.0f} s in all.",
    ]
    for verdict in broken[:20]:
        markdown += [
            "",
            f"broken: {verdict.case.description} (exit {verdict.exit_code}):",
            "",
            "    " + verdict.detail.replace("\n", "\n    "),
        ]
    results = {
        "cases": [
            {
                "kind": verdict.case.kind,
                "description": verdict.case.description,
                "outcome": verdict.outcome.value,
                "exit_code": verdict.exit_code,
            }
            for verdict in verdicts
        ]
    }
    write_results("bad_inputs", results, markdown, out=args.out)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
