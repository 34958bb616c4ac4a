"""Every public name stays what it says, however often it is used and whatever was imported before."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types

import autocnn


def _import_every_submodule() -> list[str]:
    names = []
    for module in pkgutil.walk_packages(autocnn.__path__, prefix="autocnn."):
        if module.name.endswith("__main__"):
            continue
        importlib.import_module(module.name)
        names.append(module.name)
    return names


def test_no_public_name_is_shadowed_by_a_submodule():
    imported = _import_every_submodule()
    assert "autocnn.core.session" in imported and "autocnn.core.study" in imported
    for name in autocnn.__all__:
        value = getattr(autocnn, name)
        assert not isinstance(value, types.ModuleType), f"autocnn.{name} is the module {value.__name__}"
    assert callable(autocnn.search) and inspect.signature(autocnn.search).parameters["dataset"]
    assert autocnn.load_space("quick").name == "quick"


def test_search_can_be_called_twice_in_one_process(workdir):
    _import_every_submodule()
    first = autocnn.search("quick", dataset="digits", max_trials=1, retrain=False, workdir=workdir)
    second = autocnn.search("quick", dataset="digits", max_trials=2, retrain=False, workdir=workdir)
    assert isinstance(first, autocnn.Study) and isinstance(second, autocnn.Study)
    assert [record.number for record in second.trials()] == [0, 1]
    assert first.name == second.name == "quick_digits"
