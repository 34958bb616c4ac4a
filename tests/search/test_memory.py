"""Memory does not grow across trials: the Keras session is cleared between them."""

from __future__ import annotations

from autocnn._system import rss_mb
from autocnn.core.callbacks import SearchCallback
from autocnn.core.session import search

MEMORY_SPACE = """
name: memory
model:
  blocks: {count: {low: 1, high: 2}, filters: [4, 8, 16], pooling: [max, none]}
  head: {pooling: [flatten, global_avg], dense_layers: {low: 0, high: 1}, units: [16, 32]}
training: {batch_size: 256, epochs: 1}
search: {algorithm: random, pruner: none}
"""


class RssProbe(SearchCallback):
    def __init__(self) -> None:
        self.samples: list[float] = []

    def on_trial_end(self, record, *, model=None) -> None:
        self.samples.append(rss_mb())


def test_rss_stays_bounded_across_30_trials(write_space, workdir):
    probe = RssProbe()
    study = search(
        write_space(MEMORY_SPACE),
        dataset="digits",
        workdir=workdir,
        max_trials=30,
        retrain=False,
        callbacks=[probe],
    )
    assert len(study.trials()) == 30
    assert len(probe.samples) == 30
    warm = probe.samples[4]
    growth = max(probe.samples[5:]) - warm
    # TensorFlow itself keeps 1.5-3.5 MB per fitted model (plain model.fit on numpy arrays keeps
    # 1.5 MB). Before the optimizer's slots were built eagerly this search grew 5.5 MB per trial;
    # keeping models or sessions alive costs more still. Long searches recycle workers instead.
    assert growth / 25 < 4.5, [round(sample) for sample in probe.samples]
