"""`StepModel`: an albert_tf model wrapped so that one `fit` batch is one optimizer step.

A batch is a dict of arrays [rows, grad_accum_steps, ...]: the step's micro-batches side by side,
rows first so that tf.distribute splits rows, never micro-batches, across replicas. `train_step`

  1. runs the micro-batches one after another (a tf.while_loop, so the graph does not grow with
     the accumulation count), each micro-batch's loss being the contract's share of the step's loss
     (albert_tf.training.objective), and sums their gradients;
  2. sums loss and gradients across replicas (an all-reduce; a no-op on one device): each share
     is already divided by the whole step's label count, so the sum is the full batch's gradient;
  3. hands that gradient to the optimizer, which clips it to global_clipnorm and applies it
     (its own cross-replica sum is switched off, see optimizers.py).

Keras' defaults would average instead of sum in both places (gradient_accumulation_steps divides
by the step count, fit scales each replica's loss by 1 / replicas) and would clip each replica's
share before summing, hence this override.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from albert_core.training import model_inputs_and_labels

from .objective import micro_batch_loss
from .optimizers import inner_optimizer


class StepModel(keras.Model):
    def __init__(self, model: keras.Model, task: str, grad_accum_steps: int, dropout: bool, **kwargs):
        super().__init__(name=f"{model.name}_steps", **kwargs)
        self.albert_model = model
        self.task = task
        self.grad_accum_steps = int(grad_accum_steps)
        self.dropout = bool(dropout)  # False: the model runs in inference mode (no dropout) while training
        self.built = True

    def call(self, inputs, training=False):
        return self.albert_model(inputs, training=training)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Under a strategy, Keras' fit draws a first batch here to build whatever is unbuilt, and
        # under MultiWorkerMirroredStrategy its cross-worker reduce of a dict batch fails. Nothing is
        # unbuilt: the model builds its variables on construction and the loop builds the optimizer
        # before fit.
        if not (self.built and self.optimizer.built):
            raise RuntimeError("StepModel needs its model and optimizer built before fit")

    def _micro_batch_gradients(self, micro_batch, variables):
        inputs, labels, counts = model_inputs_and_labels(self.task, micro_batch)
        with tf.GradientTape() as tape:
            outputs = self.albert_model(inputs, training=self.dropout)
            loss = micro_batch_loss(self.task, outputs, labels, counts)
            scaled = self.optimizer.scale_loss(loss)  # fp16: times the dynamic loss scale
        grads = tape.gradient(scaled, variables)
        # None: a variable the loss does not reach (e.g. the absolute position table under relative
        # positions); a zero gradient, as optax sees it (weight decay still applies to it).
        return loss, [tf.zeros_like(v) if g is None else tf.convert_to_tensor(g) for g, v in zip(grads, variables)]

    def train_step(self, data):
        variables = list(self.trainable_variables)

        def body(index, loss_sum, grad_sums):
            micro_batch = {name: tf.gather(value, index, axis=1) for name, value in data.items()}
            loss, grads = self._micro_batch_gradients(micro_batch, variables)
            return index + 1, loss_sum + loss, [s + g for s, g in zip(grad_sums, grads)]

        start = (tf.constant(0), tf.constant(0.0), [tf.zeros(v.shape, v.dtype) for v in variables])
        _, loss, grads = tf.while_loop(lambda index, *_: index < self.grad_accum_steps, body, start)

        replica = tf.distribute.get_replica_context()
        if replica is not None and replica.num_replicas_in_sync > 1:
            loss, *grads = replica.all_reduce(tf.distribute.ReduceOp.SUM, [loss, *grads])
        loss_scale = getattr(self.optimizer, "dynamic_scale", None)
        unscale = 1.0 if loss_scale is None else 1.0 / tf.cast(loss_scale, tf.float32)
        grad_norm = tf.linalg.global_norm(grads) * unscale  # before clipping
        learning_rate = tf.cast(inner_optimizer(self.optimizer).learning_rate, tf.float32)  # this update's rate
        self.optimizer.apply(grads, variables)
        # Shape [1], not scalars: Keras averages the replicas' values along axis 0, which under
        # MultiWorkerMirroredStrategy fails for scalars. Every replica holds the same (summed) values.
        return {name: tf.reshape(value, [1]) for name, value in (("loss", loss), ("grad_norm", grad_norm), ("learning_rate", learning_rate))}
