"""Space files several test modules train on (digits, tiny models), written once."""

# Two good seeds first (learning rate 0.01 / 0.02), then sampled trials whose learning rate is far
# too small: the median pruner stops those after their first epoch.
PRUNING_SPACE = """
name: pruning
model:
  blocks: {count: 1, filters: 8, pooling: none}
  head: {dense_layers: 0}
training:
  learning_rate: [1.0e-7, 2.0e-7]
  batch_size: 128
  epochs: 3
search: {algorithm: random, pruner: median}
seeds:
  - name: good1
    model: {blocks: [{filters: 8, pooling: none}]}
    training: {learning_rate: 0.01, batch_size: 128, epochs: 3}
  - name: good2
    model: {blocks: [{filters: 8, pooling: none}]}
    training: {learning_rate: 0.02, batch_size: 128, epochs: 3}
"""

# A seed whose loss becomes NaN within a few batches (SGD, learning rate 10, strong L2).
NAN_SEED = """
  - name: nan
    model: {blocks: [{filters: 8, pooling: none}]}
    training: {optimizer: sgd, learning_rate: 10.0, l2: 1.0, batch_size: 32, epochs: 3}
"""
