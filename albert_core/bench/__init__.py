"""`albert bench`: the seed's training and inference tables for every backend, with the anchors.

    spec.py     one row of a table (RowSpec) and what measuring it returns (RowResult)
    shapes.py   the model's FLOPs and the GEMM/bmm shapes of its forward and training step: the floor
                each row is compared with, timed by the row's own framework in the row's own process

Each backend measures its own rows (albert_torch.bench, albert_tf.bench, albert_flax.bench:
`run_row(spec) -> RowResult`); this package plans the rows, runs each in a subprocess, and
writes the tables, CSV/JSON and the chart, importing no framework itself.
"""
