"""The planner: a search space derived from the data, the budget and a short probe of this machine."""

from autocnn.planning._plan import (
    DataFacts,
    SpacePlan,
    block_count,
    default_budget,
    plan_space,
    trial_fidelity,
)
from autocnn.planning._probe import StepCost, probe_step_cost

__all__ = [
    "DataFacts",
    "SpacePlan",
    "StepCost",
    "block_count",
    "default_budget",
    "plan_space",
    "probe_step_cost",
    "trial_fidelity",
]
