"""Write a planned space as a space file, each derived value followed by a comment saying why."""

from __future__ import annotations

from typing import Any

import yaml

INDENT = "  "


def render_plan(document: dict[str, Any], *, reasons: dict[str, str]) -> str:
    """Return ``document`` as YAML; an entry whose dotted path has a reason gets it as a comment."""
    lines = ["# Planned by autocnn (autocnn spaces plan); edit it and run it with --space FILE."]
    _render(document, path="", depth=0, reasons=reasons, lines=lines)
    return "\n".join(lines) + "\n"


def _render(
    node: dict[Any, Any], *, path: str, depth: int, reasons: dict[str, str], lines: list[str]
) -> None:
    for key, value in node.items():
        dotted = f"{path}.{key}" if path else str(key)
        comment = f"  # {reasons[dotted]}" if dotted in reasons else ""
        prefix = f"{INDENT * depth}{key}:"
        if isinstance(value, dict) and value and not _is_range(value):
            lines.append(prefix + comment)
            _render(value, path=dotted, depth=depth + 1, reasons=reasons, lines=lines)
        else:
            lines.append(f"{prefix} {_flow(value)}{comment}")


def _is_range(value: dict[Any, Any]) -> bool:
    return set(value) <= {"low", "high", "log", "step"}


def _flow(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=1000, sort_keys=False).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()
