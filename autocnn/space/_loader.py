"""Read a space file (YAML) into a SearchSpace; errors name the file, the entry and the value."""

from __future__ import annotations

import hashlib
import json
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from autocnn.config import format_validation_error
from autocnn.errors import ConfigError
from autocnn.space._schema import SearchSpace

READY_MADE_FOLDER = "ready_made"
#: The most values (with YAML aliases expanded) and nesting levels a space file may hold.
MAX_SPACE_VALUES = 100_000
MAX_SPACE_DEPTH = 50


def ready_made_spaces() -> dict[str, Traversable]:
    """Return the ready-made spaces shipped inside the package, by name (``quick``, ``fashion_mnist``, ...)."""
    folder = files("autocnn.space") / READY_MADE_FOLDER
    return {
        entry.name.removesuffix(".yaml"): entry
        for entry in sorted(folder.iterdir(), key=lambda item: item.name)
        if entry.name.endswith(".yaml")
    }


def load_space(path: str | Path) -> SearchSpace:
    """Load and validate a search-space YAML file, or a ready-made space by name.

    A file that exists always wins over a ready-made space of the same name. Raises
    ConfigError with one message naming the file, the entry and the bad value, e.g.
    ``quick.yaml: model.blocks.kernel_size: 9 is outside 1..7``.

    Example:
        >>> space = load_space("quick")
        >>> space.name
        'quick'

    """
    file = Path(path)
    if not file.exists():
        ready_made = ready_made_spaces()
        if isinstance(path, str) and path in ready_made:
            text = ready_made[path].read_text(encoding="utf-8")
            return parse_space(text, source=f"{path} (ready-made)", default_name=path)
        names = ", ".join(ready_made)
        raise ConfigError(
            f"{file}: no such space file or ready-made space; give a path to a YAML file or one of: {names} "
            "(autocnn spaces list)"
        )
    if not file.is_file():
        raise ConfigError(f"{file}: is a directory, not a space file")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{file}: cannot be read as text ({error})") from None
    return parse_space(text, source=str(file), default_name=file.stem)


def parse_space(text: str, *, source: str = "<space>", default_name: str | None = None) -> SearchSpace:
    """Validate a space given as YAML text."""
    try:
        # PyYAML's own loader, not libyaml's (CSafeLoader): that one crashes the process on a
        # document nested some 30,000 levels deep, where this one raises RecursionError.
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{source}: not valid YAML{where}: {problem}") from None
    except RecursionError:
        raise ConfigError(f"{source}: {_TOO_DEEP}") from None
    _check_size(data, source=source)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: a space file must be a mapping with keys name, model, training, search, "
            f"seeds; got {type(data).__name__} instead"
        )
    return space_from_dict(data, source=source, default_name=default_name)


def _check_size(data: Any, *, source: str) -> None:
    """Refuse a document nested too deeply, or holding too many values once its aliases are expanded.

    An alias is a reference to one shared object, so each object is counted once and its count
    reused wherever it appears: a "billion laughs" document is measured in microseconds.
    """
    sizes: dict[int, int] = {}

    def size(node: Any, depth: int) -> int:
        if not isinstance(node, dict | list):
            return 1
        if depth > MAX_SPACE_DEPTH:
            raise ConfigError(f"{source}: {_TOO_DEEP}")
        known = sizes.get(id(node))
        if known is not None:
            return known
        children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        total = 1
        for child in children:
            total += size(child, depth + 1)
            if total > MAX_SPACE_VALUES:
                raise ConfigError(
                    f"{source}: expands to more than {MAX_SPACE_VALUES:,} values (YAML anchors and aliases "
                    "repeat what they name); a space file holds a few hundred: write the values out or "
                    "remove the aliases"
                )
        sizes[id(node)] = total
        return total

    size(data, 0)


_TOO_DEEP = "nested too deeply to be a space file; a space nests a few levels (model.blocks.filters)"


def space_from_dict(
    data: dict[str, Any], *, source: str = "<space>", default_name: str | None = None
) -> SearchSpace:
    """Validate a space given as nested dicts (as YAML would produce)."""
    if "name" not in data and default_name is not None:
        data = {"name": default_name, **data}
    try:
        return SearchSpace.model_validate(data)
    except ValidationError as error:
        raise ConfigError(
            f"{source}: " + format_validation_error(error, prefix="").replace("\n", f"\n{source}: ")
        ) from None


def space_hash(space: SearchSpace) -> str:
    """Return a stable hash of what a space searches (its name and description excluded)."""
    payload = space.model_dump(mode="json", exclude={"name", "description"})
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def space_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of a space file, for editors."""
    schema = SearchSpace.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "autocnn search space"
    return schema
