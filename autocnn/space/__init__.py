"""Declarative search spaces: YAML in, a validated, frozen SearchSpace out."""

from autocnn.space._dimensions import Choice, Dimension, Fixed, FloatRange, IntRange, Suggester
from autocnn.space._durations import format_duration, parse_duration
from autocnn.space._loader import (
    load_space,
    parse_space,
    ready_made_spaces,
    space_from_dict,
    space_hash,
    space_json_schema,
)
from autocnn.space._sampling import RandomSuggester, sample_config
from autocnn.space._schema import (
    AugmentationCheck,
    BlocksSpace,
    Constraints,
    FinalRung,
    HeadSpace,
    Objective,
    SearchSettings,
    SearchSpace,
    TrainingSpace,
)

__all__ = [
    "AugmentationCheck",
    "BlocksSpace",
    "Choice",
    "Constraints",
    "Dimension",
    "FinalRung",
    "Fixed",
    "FloatRange",
    "HeadSpace",
    "IntRange",
    "Objective",
    "RandomSuggester",
    "SearchSettings",
    "SearchSpace",
    "Suggester",
    "TrainingSpace",
    "format_duration",
    "load_space",
    "parse_duration",
    "parse_space",
    "ready_made_spaces",
    "sample_config",
    "space_from_dict",
    "space_hash",
    "space_json_schema",
]
