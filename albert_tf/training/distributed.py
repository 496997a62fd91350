"""Which tf.distribute strategy a run uses, and which process writes.

- TF_CONFIG naming more than one task (a multi-node cluster): MultiWorkerMirroredStrategy, every
  worker running the same command; the chief (task "chief", else worker 0) writes logs and
  checkpoints, all read the same output folder (a shared filesystem) when resuming.
- one process seeing several accelerators (GPUs; CPUs only where there is no GPU, e.g. logical CPU
  devices in tests): MirroredStrategy over all of them.
- else the default strategy (one device).
The model and optimizer are built under `strategy.scope()`; the global batch is split by rows.
The strategy is created once per process and reused by later runs: two MirroredStrategy objects in
one process reuse collective-op keys, and the second one's all-reduce then fails with a shape mismatch.
"""

from __future__ import annotations

import functools
import json
import os

import tensorflow as tf


def _cluster_size() -> int:
    try:
        spec = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    except ValueError as exc:
        raise ValueError(f"TF_CONFIG is not valid JSON: {exc}") from exc
    return sum(len(tasks) for tasks in spec.values())


@functools.cache
def choose_strategy() -> tf.distribute.Strategy:
    if _cluster_size() > 1:
        return tf.distribute.MultiWorkerMirroredStrategy()
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    if len(devices) > 1:
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    return tf.distribute.get_strategy()


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True in the one process that writes logs and checkpoints."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    if has_chief:
        return resolver.task_type == "chief"
    return resolver.task_type == "worker" and int(resolver.task_id) == 0
