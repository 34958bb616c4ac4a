"""``space="auto"``: a search on a planned space, and continuing it without planning again."""

from __future__ import annotations

from autocnn.core.records import LoopEnd
from autocnn.core.session import run_worker, search
from autocnn.core.study import Study
from autocnn.space import space_hash


def trained(study: Study) -> int:
    """Count the trials that count towards ``max_trials``: a rejected one (over the planned FLOPs) does not."""
    return sum(record.status.counts for record in study.trials())


def test_an_auto_search_records_its_plan_and_continues_with_it(workdir):
    first = search("auto", dataset="digits", workdir=workdir, max_trials=1, retrain=False)
    assert first.name == "planned_digits"
    info = first.info
    assert (
        info.space_yaml.startswith("# Planned by autocnn")
        and "# 1 pooling block: 8 px -> 4 px" in info.space_yaml
    )
    assert first.runs[-1].limits.max_trials == 1 and info.space_file == "auto"
    # no space given: the library plans too, like the CLI, and so continues the same study
    again = search(dataset="digits", workdir=workdir, max_trials=2, retrain=False)
    assert again.name == "planned_digits" and trained(again) == 2
    assert space_hash(again.info.space(study=again.name)) == space_hash(info.space(study=first.name))
    # a worker rebuilds the planned space from the study, and the study takes it as its own
    assert run_worker(again.name, workdir=workdir, run=again.runs[-1].id, max_trials=3) is LoopEnd.DONE
    assert trained(again) == 3
