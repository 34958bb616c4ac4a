"""The planner's decisions: depth from the image size, widths and fidelity from the budget and the machine."""

from __future__ import annotations

import numpy as np
import pytest

from autocnn.config import TrialConfig
from autocnn.data import dataset_from_arrays
from autocnn.model import analyze_architecture
from autocnn.planning import StepCost, block_count, plan_space
from autocnn.space import parse_duration, parse_space, space_hash

# as probed on this project's 2-core CPU: (forward FLOPs, seconds per trained image)
MACHINE = StepCost(points=((1.0e6, 9.1e-5), (8.5e6, 2.3e-4), (5.9e7, 8.0e-4), (5.2e8, 5.2e-3)))
SLOW_MACHINE = StepCost(points=tuple((flops, 10 * seconds) for flops, seconds in MACHINE.points))


def images(count: int, side: int, channels: int = 1, *, classes: int = 10, weights=None):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, size=(count, side, side, channels), dtype=np.uint8)
    y = rng.choice(classes, size=count, p=weights) if weights is not None else np.arange(count) % classes
    return dataset_from_arrays(x, y, name=f"r{side}")


@pytest.mark.parametrize(("side", "blocks"), [(8, 1), (28, 3), (32, 3), (64, 4), (200, 5)])
def test_depth_brings_the_last_map_to_a_few_pixels(side, blocks):
    assert block_count(side) == blocks
    assert 2 <= side / 2**blocks <= 8 or blocks == 5


@pytest.mark.parametrize(("side", "count"), [(28, "2..3"), (64, "3..4")])
def test_the_plan_searches_the_depth_next_to_the_planned_one(side, count):
    plan = plan_space(images(600, side), timeout=600, step_cost=MACHINE)
    assert plan.space.model.blocks.count.describe().startswith(count.split("..")[0])
    assert f"{side} px ->" in plan.reasons["model.blocks.count"]


def test_large_images_get_a_strided_first_conv():
    plan = plan_space(images(200, 128, 3, classes=3), timeout=600, step_cost=MACHINE)
    assert plan.space.model.blocks.per_block[1].strides is not None
    assert "after a strided first conv" in plan.reasons["model.blocks.count"]
    small = plan_space(images(200, 32, 3, classes=3), timeout=600, step_cost=MACHINE)
    assert 1 not in small.space.model.blocks.per_block


def test_a_bigger_budget_buys_wider_nets_and_richer_trials():
    data = images(20_000, 28)
    short = plan_space(data, timeout=300, step_cost=MACHINE)
    long = plan_space(data, timeout=3600, step_cost=MACHINE)
    assert long.space.search.constraints.max_flops > short.space.search.constraints.max_flops
    short_work = short.space.training.epochs.values()[0] * short.space.search.trial_train_fraction
    long_work = long.space.training.epochs.values()[0] * long.space.search.trial_train_fraction
    assert long_work > short_work


def test_the_trials_are_budgeted_for_networks_between_the_narrowest_and_the_limit():
    data = images(20_000, 28)
    plan = plan_space(data, timeout=1800, step_cost=MACHINE)
    space = plan.space
    narrowest = TrialConfig.from_dict(
        {
            "model": {
                "blocks": [
                    {"filters": min(space.model.blocks.filters.values()) * 2**index} for index in range(3)
                ],
                "head": {"pooling": "global_avg"},
            }
        }
    )
    narrowest_flops = analyze_architecture(narrowest, input_shape=(28, 28, 1), num_classes=10).flops
    middle_flops = (narrowest_flops * space.search.constraints.max_flops) ** 0.5
    # 30 trials of a network halfway (log scale) to the limit, validation counted as training here,
    # within what the retrain (half the budget, as README says) and a final rung (15%) leave
    search_s = (
        1
        - 0.5
        - (0.15 if space.search.final_rung.candidates else 0.0)
        - (0.1 if space.search.augmentation_check.epochs else 0.0)
    ) * 1800
    epochs = space.training.epochs.values()[0]
    images_per_epoch = space.search.trial_train_fraction * len(data.x_train) + len(data.x_val)
    trials_s = 30 * epochs * images_per_epoch * MACHINE.seconds_per_image(middle_flops)
    assert trials_s <= search_s
    # and about the richest that fits: trials of twice the work (the fidelity options lie at most
    # 2x apart) would overrun, unless they already train 10 epochs on all training images
    assert (epochs, space.search.trial_train_fraction) == (10, 1.0) or 2 * trials_s > search_s


def test_a_slower_machine_gets_a_smaller_plan_for_the_same_budget():
    data = images(20_000, 28)
    fast = plan_space(data, timeout=1800, step_cost=MACHINE)
    slow = plan_space(data, timeout=1800, step_cost=SLOW_MACHINE)
    fast_filters = max(fast.space.model.blocks.filters.values())
    slow_filters = max(slow.space.model.blocks.filters.values())
    assert slow_filters < fast_filters or slow.space.search.retrain_epochs < fast.space.search.retrain_epochs
    assert slow.space.search.constraints.max_flops < fast.space.search.constraints.max_flops


def test_the_probe_times_networks_with_the_costliest_options_the_space_offers(monkeypatch):
    # swish made fit's steps 1.5x slower here and dropout 1.2x: a probe of relu networks without
    # dropout planned retrains that real winners (swish, dropout 0.2) could not finish in time
    probed: list[TrialConfig] = []

    def probe(configs, *, input_shape, num_classes):
        probed.extend(configs)
        return MACHINE

    monkeypatch.setattr("autocnn.planning._plan.probe_step_cost", probe)
    plan = plan_space(images(3_000, 32, 3), timeout=900)
    blocks = plan.space.model.blocks
    assert set(blocks.activation.values()) == {"relu", "swish"}
    assert max(blocks.dropout.values()) == 0.2
    assert len(probed) >= 3
    for config in probed:
        assert {block.activation for block in config.model.blocks} == {"swish"}
        assert {block.dropout for block in config.model.blocks} == {0.2}
    probed_flops = [
        analyze_architecture(config, input_shape=(32, 32, 3), num_classes=10).flops for config in probed
    ]
    assert probed_flops == sorted(probed_flops)
    assert probed_flops[-1] >= 8 * probed_flops[0]


@pytest.mark.parametrize(("side", "channels", "count"), [(28, 1, 20_000), (64, 3, 3_000), (128, 3, 600)])
def test_every_planned_filter_count_is_a_multiple_of_eight(side, channels, count):
    # 18 or 30 channels trained about 2x slower than 16 or 32 on this machine's oneDNN kernels
    plan = plan_space(images(count, side, channels), timeout=1800, step_cost=MACHINE)
    blocks = plan.space.model.blocks
    options = [*blocks.filters.values()] + [
        value
        for override in blocks.per_block.values()
        if override.filters
        for value in override.filters.values()
    ]
    assert len(options) >= 4
    assert [value for value in options if value % 8] == []


def test_flips_are_searched_never_assumed_and_tiny_images_get_no_shifts():
    tiny = plan_space(images(500, 8), timeout=300, step_cost=MACHINE)
    assert set(tiny.space.training.augmentation.flip.values()) == {"none", "horizontal"}
    assert tiny.space.training.augmentation.translation.values() == (0.0,)
    larger = plan_space(images(500, 32), timeout=300, step_cost=MACHINE)
    assert set(larger.space.training.augmentation.translation.values()) == {0.0, 0.06}


def test_without_a_budget_the_plan_picks_one_and_says_how_to_change_it():
    plan = plan_space(images(500, 8), step_cost=MACHINE)
    assert not plan.budget_given
    assert plan.space.search.timeout == plan.budget_s == 270
    assert "--timeout" in plan.reasons["search.timeout"] and "--timeout" in plan.summary
    counted = plan_space(images(500, 8), max_trials=5, step_cost=MACHINE)
    assert counted.space.search.timeout is None and counted.space.search.max_trials == 5


def test_the_summary_states_the_budget_as_given():
    assert "budget 1 min 30 s" in plan_space(images(500, 8), timeout=90, step_cost=MACHINE).summary
    assert "budget 15 min" in plan_space(images(500, 8), timeout=900, step_cost=MACHINE).summary


def test_a_few_trials_without_a_timeout_are_quick_and_search_the_default_budgets_networks():
    data = images(1500, 8)
    default = plan_space(data, step_cost=MACHINE)
    one = plan_space(data, max_trials=1, step_cost=MACHINE)
    assert one.space.model.blocks.filters.values() == default.space.model.blocks.filters.values()
    assert one.space.search.constraints.max_flops == default.space.search.constraints.max_flops
    # each trial is the default plan's trial, the retrain shrinks with the search but not below a trial
    assert one.space.training.epochs.values() == default.space.training.epochs.values()
    assert one.space.search.trial_train_fraction == default.space.search.trial_train_fraction
    trial_epochs = one.space.training.epochs.values()[0]
    assert trial_epochs <= one.space.search.retrain_epochs < default.space.search.retrain_epochs
    assert one.budget_s < default.budget_s / 5
    assert "for 1 trial" in one.summary and "--timeout" not in one.summary


def test_the_plan_is_a_space_file_that_reads_back_the_same():
    plan = plan_space(images(3000, 32, 3, classes=5), timeout=900, step_cost=MACHINE)
    text = plan.yaml
    assert "# 3 pooling blocks: 32 px -> 4 px" in text
    assert "max_flops:" in text and "measured here" in text
    again = parse_space(text, source="planned.yaml")
    assert space_hash(again) == space_hash(plan.space)
    assert parse_duration(again.search.timeout) == 900


def test_unbalanced_classes_are_judged_by_balanced_accuracy_and_class_weighting_is_searched():
    weights = [0.7, 0.1, 0.1, 0.1]
    plan = plan_space(images(800, 16, classes=4, weights=weights), timeout=300, step_cost=MACHINE)
    assert plan.space.search.balanced_validation is True
    assert plan.space.training.class_weight.values() == ("none", "balanced")
    assert "unbalanced classes" in plan.reasons["search.balanced_validation"]
    assert "balanced_validation: true  # unbalanced classes" in plan.yaml
    assert "every class counting the same" in plan.summary
    balanced = plan_space(images(800, 16, classes=4), timeout=300, step_cost=MACHINE)
    assert balanced.space.search.balanced_validation is False
    assert balanced.space.training.class_weight.values() == ("none",)
    assert "class_weight" not in balanced.yaml
    assert "every class counting the same" not in balanced.summary


def test_trials_train_a_sixth_of_the_retrains_epochs_on_fewer_images_before_more_images_for_fewer_epochs():
    # ranked by images seen alone, trials of 4 epochs on half the images came first; such trials
    # chose networks without augmentation that a long retrain overfitted (Fashion-MNIST, 60 min)
    plan = plan_space(images(54_000, 28), timeout=3600, step_cost=MACHINE)
    assert plan.space.search.retrain_epochs == 60
    assert plan.space.training.epochs.values() == (10,)
    # a tenth of the images, not a fifth: the augmentation check takes a tenth of the budget
    assert plan.space.search.trial_train_fraction == 0.1
    assert "a sixth of the retrain's" in plan.yaml
    # when no fraction lets trials that long fit, they get the most images for the epochs that fit
    few = plan_space(images(5_000, 28), timeout=600, step_cost=MACHINE)
    assert few.space.training.epochs.values()[0] < few.space.search.retrain_epochs / 6
    assert few.space.search.trial_train_fraction == 1.0


def test_a_search_whose_trials_are_short_ends_in_a_final_rung_that_trains_the_top_trials_longer():
    data = images(5_000, 28)
    plan = plan_space(data, timeout=1800, step_cost=MACHINE)
    settings = plan.space.search
    trial_epochs = plan.space.training.epochs.values()[0]
    trial_work = trial_epochs * settings.trial_train_fraction
    assert settings.final_rung.candidates == 3
    assert settings.final_rung.epochs >= 2 * trial_work and settings.final_rung.epochs >= trial_epochs
    assert settings.final_rung.share + settings.retrain_share < 1
    assert plan.budget_s <= 3600
    assert "final_rung:" in plan.yaml and "a trial's training" in plan.yaml
    assert f"again for {settings.final_rung.epochs} epochs" in plan.summary
    assert space_hash(parse_space(plan.yaml, source="planned.yaml")) == space_hash(plan.space)


def test_no_final_rung_when_it_cannot_train_the_top_trials_longer_than_a_trial_or_trials_are_counted():
    slow = SLOW_MACHINE
    squeezed = plan_space(images(20_000, 28), timeout=120, step_cost=slow)
    assert squeezed.space.search.final_rung.candidates == 0
    assert "final_rung" not in squeezed.yaml and "again for" not in squeezed.summary
    counted = plan_space(images(54_000, 28), max_trials=3, step_cost=MACHINE)
    assert counted.space.search.final_rung.candidates == 0


def test_with_a_budget_the_retrain_takes_as_many_epochs_as_its_share_holds_for_the_winner():
    # the search cuts the retrain to its share, measured on the winner's trials: a cap at the
    # typical width's epochs (30) gave a narrower winner's retrain 20 of its 30 minutes (FM, 60 min)
    slow = StepCost(points=tuple((flops, 4 * seconds) for flops, seconds in MACHINE.points))
    plan = plan_space(images(54_000, 28), timeout=3600, step_cost=slow)
    typical = int(plan.reasons["search.retrain_epochs"].rsplit(": ", 1)[1].split()[0])
    assert typical < 60
    assert plan.space.search.retrain_epochs == 60 and plan.space.search.retrain_share == 0.5
    assert f"a retrain of up to 60 epochs ({typical} at the typical width)" in plan.summary
    counted = plan_space(images(54_000, 28), max_trials=3, step_cost=slow)
    assert counted.space.search.retrain_epochs < 60  # no budget to cut it to: the planned length


def test_a_long_budget_keeps_a_tenth_for_the_winner_trained_as_long_as_the_retrain_with_each_augmentation():
    data = images(54_000, 28)
    plan = plan_space(data, timeout=3600, step_cost=MACHINE)
    check = plan.space.search.augmentation_check
    trial_epochs = plan.space.training.epochs.values()[0]
    # flips and shifts searched: four runs, each much longer than a trial, on at least 1,000 images
    assert plan.space.training.augmentation.translation.values() == (0.0, 0.06)
    assert check.epochs >= 2 * trial_epochs and check.share == 0.1
    images_per_run = check.train_fraction * len(data.x_train)
    assert images_per_run >= 1000
    # the four runs fit in a tenth of the hour on this machine, at the widest network allowed
    per_image = MACHINE.seconds_per_image(plan.space.search.constraints.max_flops)
    assert 4 * check.epochs * images_per_run * per_image <= 360
    assert "each of the 4 augmentations searched" in plan.yaml
    assert "the winner with each augmentation" in plan.summary
    # a budget too short for runs that long on 1,000 images plans none
    small = plan_space(images(1_300, 8), timeout=270, step_cost=SLOW_MACHINE)
    assert small.space.search.augmentation_check.epochs == 0
    assert "augmentation_check" not in small.yaml
