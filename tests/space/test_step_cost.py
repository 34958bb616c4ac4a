"""The machine's measured step cost: interpolation between probed networks and its inverse."""

from __future__ import annotations

import pytest

from autocnn.errors import ConfigError
from autocnn.planning import StepCost

# (forward FLOPs, seconds per trained image), as probed on a 2-core CPU
PROBED = StepCost(points=((1e6, 1e-4), (1e7, 4e-4), (1e8, 2e-3), (1e9, 1e-2)))


def test_the_cost_at_a_probed_network_is_its_measurement():
    assert PROBED.seconds_per_image(1e7) == pytest.approx(4e-4)
    assert PROBED.seconds_per_image(1e8) == pytest.approx(2e-3)


def test_a_mid_size_network_costs_more_than_a_line_through_the_smallest_and_largest_says():
    # the line through (1e6, 1e-4) and (1e9, 1e-2) gives 1e-4 + 9.9e7 * 9.9e-12 = 1.08e-3 s at 1e8
    # FLOPs; measured: 2e-3 s, and log-scale interpolation between 1e7 and 1e8 keeps to the points
    assert PROBED.seconds_per_image(1e8) > 1.5 * 1.08e-3
    # halfway on a log scale between 4e-4 and 2e-3 s: sqrt(4e-4 * 2e-3)
    assert PROBED.seconds_per_image(10**7.5) == pytest.approx(8.944e-4, rel=1e-3)


def test_beyond_the_largest_network_each_flop_costs_what_it_cost_there():
    assert PROBED.seconds_per_image(4e9) == pytest.approx(4e-2)


def test_below_the_smallest_network_the_first_trend_goes_on():
    # from 1e6 to 1e7 FLOPs the cost grew 4x over 10x: at 1e5 it is 1e-4 / 10**log10(4)
    assert PROBED.seconds_per_image(1e5) == pytest.approx(2.5e-5)


def test_a_larger_network_measured_faster_counts_as_slow_as_the_smaller():
    noisy = StepCost(points=((1e6, 1e-4), (2e6, 0.8e-4), (1e7, 4e-4)))
    assert noisy.seconds_per_image(2e6) == pytest.approx(1e-4)
    assert noisy.seconds_per_image(1.5e6) == pytest.approx(1e-4)


@pytest.mark.parametrize("flops", [3e5, 1e6, 3.3e6, 5e7, 2e8, 5e9])
def test_flops_within_inverts_the_cost(flops):
    assert PROBED.flops_within(PROBED.seconds_per_image(flops)) == pytest.approx(flops, rel=1e-6)


def test_no_network_fits_in_less_time_than_the_smallest_possible_costs():
    assert PROBED.flops_within(1e-9) == 0.0


@pytest.mark.parametrize("points", [(), ((0.0, 1e-4),), ((1e6, -1e-4),)])
def test_points_that_are_not_measurements_are_refused(points):
    with pytest.raises(ConfigError, match="'points'"):
        StepCost(points=points)
