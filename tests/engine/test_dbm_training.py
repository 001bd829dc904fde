"""Greedy pretraining with the section 20.4.5 modifications, joint training (algorithm 20.1), centering,
the learned inference network and the DBN built from the same stack: against exact answers."""

from __future__ import annotations

import torch

from engine.data import load
from engine.device import configure_threads
from engine.models.dbm import DBM
from engine.models.dbm_training import DBMTrainer, GreedyStack, InferenceNet, JointConfig, LayerRBM, compose_dbm
from engine.models.dbn import DBN
from engine.models.rbm_training import TrainConfig


configure_threads()  # GENLAB_THREADS=1 on the shared machine


def bars_and_stripes() -> torch.Tensor:
    return torch.tensor(load("bars-stripes", size=4).images.reshape(-1, 16) > 0, dtype=torch.float32)


def filled_stack(sizes, seed=0) -> GreedyStack:
    g = torch.Generator().manual_seed(seed)
    stack = GreedyStack(sizes, g)
    for layer in stack.rbms:
        n_in, n_out = layer.n_in, layer.n_out
        w, b, c = torch.randn(n_in, n_out, generator=g), torch.randn(n_in, generator=g), torch.randn(n_out, generator=g)
        layer.rbm.W.copy_(layer._tile(w))
        layer.rbm.b.copy_(b.repeat(2) if layer.copies == "visible" else b)
        layer.rbm.c.copy_(c.repeat(2) if layer.copies == "hidden" else c)
    return stack


def test_composed_two_layer_dbm_uses_documented_scaling():
    stack = filled_stack((5, 4, 3))
    bottom, top = stack.rbms
    assert (bottom.copies, top.copies) == ("visible", "hidden")
    dbm = compose_dbm(stack)
    assert torch.equal(dbm.W[0], bottom.W) and torch.equal(dbm.W[1], top.W)
    assert torch.equal(dbm.bias[0], bottom.b)
    assert torch.allclose(dbm.bias[1], (bottom.c + top.b) / 2)
    assert torch.equal(dbm.bias[2], top.c)
    # the bottom RBM's up pass sees the visible layer twice; the top RBM's down pass sees h2 twice
    v = torch.bernoulli(torch.full((3, 5), 0.5))
    assert torch.allclose(bottom.up(v), torch.sigmoid(2 * v @ bottom.W + bottom.c), atol=1e-6)
    h2 = torch.bernoulli(torch.full((3, 3), 0.5))
    assert torch.allclose(top.down(h2), torch.sigmoid(2 * h2 @ top.W.T + top.b), atol=1e-6)


def test_composed_three_layer_dbm_halves_the_middle_weights():
    stack = filled_stack((5, 4, 3, 2), seed=1)
    bottom, middle, top = stack.rbms
    assert (bottom.copies, middle.copies, top.copies) == ("visible", None, "hidden")
    dbm = compose_dbm(stack)
    assert torch.equal(dbm.W[0], bottom.W)
    assert torch.allclose(dbm.W[1], middle.W / 2)
    assert torch.equal(dbm.W[2], top.W)
    assert torch.allclose(dbm.bias[2], (middle.c + top.b) / 2)


def test_tied_copies_stay_tied_and_equal_the_mean_gradient():
    g = torch.Generator().manual_seed(2)
    layer = LayerRBM(6, 4, "visible", g, std=0.1)
    x = torch.bernoulli(torch.full((10, 6), 0.5), generator=g)
    for _ in range(5):
        layer.step(x, TrainConfig(method="cd", lr=0.1, momentum=0.5))
    top, bottom = layer.rbm.W[:6], layer.rbm.W[6:]
    assert torch.equal(top, bottom)
    assert torch.equal(layer.rbm.b[:6], layer.rbm.b[6:])
    top_layer = LayerRBM(4, 3, "hidden", g, std=0.1)
    top_layer.step(x[:, :4], TrainConfig(method="pcd", lr=0.1))
    assert torch.equal(top_layer.rbm.W[:, :3], top_layer.rbm.W[:, 3:])
    assert torch.equal(top_layer.rbm.c[:3], top_layer.rbm.c[3:])


def _train(data: torch.Tensor, centering: bool, seed: int = 0, joint_updates: int = 300) -> tuple[DBM, float, float]:
    g = torch.Generator().manual_seed(seed)
    stack = GreedyStack((16, 10, 6), g, data_mean=data.mean(0))
    rbm_config = TrainConfig(method="pcd", lr=0.1, momentum=0.5, weight_decay=0.0)
    for layer in (1, 2):
        for _ in range(300):
            stack.step(layer, data, rbm_config)
    dbm = compose_dbm(stack)
    after_greedy = dbm.exact_log_prob(data).mean().item()
    trainer = DBMTrainer(dbm, n_chains=50, generator=g, data_mean=data.mean(0))
    config = JointConfig(lr=0.05, momentum=0.5, weight_decay=0.0, mf_iterations=10, centering=centering, centering_rate=0.05)
    for _ in range(joint_updates):
        trainer.step(data, config)
    return dbm, after_greedy, dbm.exact_log_prob(data).mean().item()


def test_greedy_then_joint_training_raises_exact_log_likelihood():
    torch.manual_seed(0)
    data = bars_and_stripes()
    uniform = -16 * torch.log(torch.tensor(2.0)).item()
    dbm, after_greedy, after_joint = _train(data, centering=False)
    assert after_greedy > uniform + 1.0
    assert after_joint > after_greedy + 1.0


def test_centered_joint_training_also_learns_and_keeps_the_model_consistent():
    data = bars_and_stripes()
    dbm, after_greedy, after_joint = _train(data, centering=True, seed=1)
    assert after_joint > after_greedy + 0.5


def test_centering_with_zero_rate_offsets_is_the_plain_gradient_at_offset_zero():
    """With offsets at zero the centred update is algorithm 20.1's update, exactly."""
    data = bars_and_stripes()
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    a = DBM((16, 5, 3)).init_random(torch.Generator().manual_seed(4), std=0.3)
    b = a.copy()
    ta, tb = DBMTrainer(a, 20, g1), DBMTrainer(b, 20, g2)
    for off in tb.offsets:
        off.zero_()
    ta.step(data, JointConfig(lr=0.05, centering=False))
    tb.step(data, JointConfig(lr=0.05, centering=True, centering_rate=1e-9))
    assert max((x - y).abs().max().item() for x, y in zip(a.parameters().values(), b.parameters().values())) < 1e-6


def test_inference_network_learns_to_predict_mean_field():
    data = bars_and_stripes()
    dbm = DBM((16, 10, 6)).init_random(torch.Generator().manual_seed(5), std=1.0)
    net = InferenceNet(dbm)
    target = dbm.mean_field(data, 50).mu
    before = sum((p - t).abs().mean() for p, t in zip(net(data), target)).item()
    for _ in range(300):
        net.step(data, target, lr=0.01)
    after = sum((p - t).abs().mean() for p, t in zip(net(data), target)).item()
    assert after < 0.5 * before


def test_dbn_ancestral_sampling_matches_the_exact_model_distribution():
    """A 2-layer DBN: P(h1, h2) is the top RBM, P(v | h1) the directed bottom layer; the sampler must match it."""
    stack = filled_stack((3, 2, 2), seed=6)
    for layer in stack.rbms:
        layer.rbm.W.mul_(0.5)
    dbn = DBN.from_stack(stack)
    g = torch.Generator().manual_seed(7)
    v = dbn.sample(20000, gibbs_steps=50, generator=g)
    exact = dbn.exact_visible_distribution()
    codes = (v @ torch.tensor([4.0, 2.0, 1.0])).long()
    freq = torch.bincount(codes, minlength=8).double() / len(codes)
    assert 0.5 * (freq - exact).abs().sum().item() < 0.03


def test_dbn_bottom_up_inference_is_the_recognition_pass():
    stack = filled_stack((5, 4, 3), seed=8)
    dbn = DBN.from_stack(stack)
    v = torch.bernoulli(torch.full((4, 5), 0.5))
    q1, q2 = dbn.infer(v)
    assert torch.allclose(q1, stack.rbms[0].up(v))
    assert torch.allclose(q2, stack.rbms[1].up(q1))
