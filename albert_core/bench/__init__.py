"""`albert bench`: the seed's training and inference tables for every backend, with the anchors.

    spec.py       one row of a table (RowSpec) and what measuring it returns (RowResult)
    shapes.py     the model's FLOPs and the GEMM/bmm shapes of its forward and training step: the floor
                  each row is compared with, timed by the row's own framework in the row's own process
    rows.py       what every backend's row shares: config, seeded weights, inputs and MLM labels, and
                  `measure` (first call, baseline, warm-up and timed calls: memory.py's rule)
    memory.py     the memory rule, the RSS peak window of a CPU row; timing.py: warm-up and timed calls
    plan.py       which rows a run has (the seed's grid, filters, --quick, device detection)
    child.py      one row in a fresh process: `python -m albert_core.bench.child '<spec json>'`
    runner.py     one subprocess per row and round, timeouts, crashes kept as errors, progress bar
    results.py    rounds merged per row; results.json
    report.py     the tables (GFLOP/s, fraction of the floor, ratios vs HF and our backends) and CSVs
    chart.py      chart.png (matplotlib, optional)
    environment.py  machine, load average, versions, date
    tools.py      the framework-free rows: tokenizer_bench.py (throughput vs HF),
                  checkpoint_bench.py and convert_bench.py (load / convert vs a plain read)

Each backend measures its own rows (albert_torch.bench, albert_tf.bench, albert_flax.bench:
`run_row(spec) -> RowResult`); this package plans the rows, runs each in a subprocess, and
writes the tables, CSV/JSON and the chart, importing no framework itself.
"""
