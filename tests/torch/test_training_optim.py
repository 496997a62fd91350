"""The torch loop's optimizer pieces: the LambdaLR schedule is albert_core's, clipping is optax's
global-norm rule, weight decay follows the canonical-name mask, OptaxLamb is optax.lamb's formula."""

import numpy as np
import pytest
import torch

from albert_core.training import TrainingArguments, decays_weight, learning_rate_at
from albert_torch import AlbertForPreTraining
from albert_torch.training import OptaxLamb, clip_gradients, make_optimizer, make_schedule, parameter_groups

from .training_helpers import tiny_config


def _args(tmp_path, **changes):
    return TrainingArguments(output_dir=str(tmp_path), progress=False, **changes)


@pytest.mark.parametrize("warmup, max_steps", [(0, 7), (3, 10), (10, 10)])
def test_schedule_gives_learning_rate_at_every_step(tmp_path, warmup, max_steps):
    args = _args(tmp_path, learning_rate=2e-3, warmup_steps=warmup, max_steps=max_steps)
    optimizer = make_optimizer(torch.nn.Linear(2, 2), args)
    scheduler = make_schedule(optimizer, args)
    used = []
    for _ in range(max_steps + 1):
        used.append([group["lr"] for group in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    expected = [learning_rate_at(s, 2e-3, warmup, max_steps) for s in range(max_steps + 1)]
    assert used == [[e, e] for e in expected]  # both parameter groups, exactly


def test_schedule_positioned_at_a_resumed_step_continues_the_same_curve(tmp_path):
    args = _args(tmp_path, learning_rate=1e-3, warmup_steps=2, max_steps=9)
    optimizer = make_optimizer(torch.nn.Linear(2, 2), args)
    make_schedule(optimizer, args, step=5)
    assert optimizer.param_groups[0]["lr"] == learning_rate_at(5, 1e-3, 2, 9)


def test_clipping_scales_the_global_norm_down_and_returns_the_norm_before():
    params = [torch.nn.Parameter(torch.zeros(3)), torch.nn.Parameter(torch.zeros(2, 2))]
    params[0].grad = torch.tensor([3.0, 0.0, 4.0])
    params[1].grad = torch.tensor([[0.0, 12.0], [0.0, 0.0]])  # global norm 13
    assert clip_gradients(params, 1.3) == pytest.approx(13.0)
    np.testing.assert_allclose(params[0].grad.numpy(), [0.3, 0.0, 0.4], rtol=1e-5)
    np.testing.assert_allclose(params[1].grad.numpy(), [[0.0, 1.2], [0.0, 0.0]], rtol=1e-5)
    # Below the bound, or with clipping off: the gradient is untouched, the norm still measured.
    assert clip_gradients(params, 100.0) == pytest.approx(1.3, rel=1e-5)
    assert clip_gradients(params, None) == pytest.approx(1.3, rel=1e-5)
    np.testing.assert_allclose(params[0].grad.numpy(), [0.3, 0.0, 0.4], rtol=1e-5)


def test_weight_decay_follows_the_canonical_name_mask():
    model = AlbertForPreTraining(tiny_config())
    decay, no_decay = parameter_groups(model, 0.01)
    names = {id(p): name for name, p in model.named_parameters()}
    decayed = sorted(names[id(p)] for p in decay["params"])
    kept = sorted(names[id(p)] for p in no_decay["params"])
    assert decay["weight_decay"] == 0.01 and no_decay["weight_decay"] == 0.0
    assert sorted(decayed + kept) == sorted(names.values())  # every parameter once (tied ones once)
    assert all(decays_weight(n) for n in decayed) and not any(decays_weight(n) for n in kept)
    assert "albert.embeddings.word_embeddings.weight" in decayed and "predictions.bias" in kept
    assert "albert.embeddings.LayerNorm.weight" in kept


def test_a_parameter_without_decay_does_not_shrink_under_adamw(tmp_path):
    """Zero gradient: AdamW's only move would be the decay, which the mask switches off for biases."""
    model = AlbertForPreTraining(tiny_config())
    optimizer = make_optimizer(model, _args(tmp_path, weight_decay=0.5, learning_rate=0.1))
    with torch.no_grad():
        model.albert.pooler.bias.fill_(1.0)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    optimizer.step()
    after = dict(model.named_parameters())
    assert torch.equal(after["albert.pooler.bias"], before["albert.pooler.bias"])
    torch.testing.assert_close(after["albert.pooler.weight"], before["albert.pooler.weight"] * (1 - 0.1 * 0.5))


def test_optax_lamb_is_optax_s_formula():
    """Two LAMB steps against optax.lamb's definition written in numpy (float64)."""
    rng = np.random.default_rng(0)
    p0 = rng.normal(size=(4, 3))
    grads = [rng.normal(size=(4, 3)), rng.normal(size=(4, 3))]
    lr, b1, b2, eps, wd = 0.01, 0.9, 0.999, 1e-6, 0.1
    param = torch.nn.Parameter(torch.tensor(p0))
    optimizer = OptaxLamb([param], lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    p, m, v = p0.copy(), 0.0, 0.0
    for t, g in enumerate(grads, start=1):
        param.grad = torch.tensor(g)
        optimizer.step()
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        update = (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps) + wd * p
        p = p - lr * (np.linalg.norm(p) / np.linalg.norm(update)) * update
    np.testing.assert_allclose(param.detach().numpy(), p, rtol=1e-12, atol=1e-14)
