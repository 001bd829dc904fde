"""The posterior given part of an image, against enumeration on a 4-3-2 DBM.

With the pixels v_o observed and v_f free, the true posterior over the hidden layers is
P(h | v_o) = sum_{v_f} P(v_f, h | v_o). Two-block Gibbs with only v_o clamped must sample it; holding
v_f at 0.5 (what the mean-field page used to do) samples a different distribution,
P(h | v = (v_o, 0.5)) proportional to exp(-E((v_o, 0.5), h)), and the setup below makes the two differ clearly.
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from engine.device import configure_threads
from engine.models.dbm import DBM, bernoulli_entropy
from engine.models.dbm_training import GreedyStack, TrainedDBM, compose_dbm
from engine.tasks.dbm import MeanFieldTask

configure_threads()  # GENLAB_THREADS=1 on the shared machine

OBSERVED = torch.tensor([True, True, False, False])  # the top row of a 2 x 2 image
V = torch.tensor([[1.0, 0.0, 0.0, 0.0]])  # the free pixels' values here are never read


def set_params(m: DBM) -> DBM:
    """Free pixels that are on with high probability and drive h1 strongly."""
    g = torch.Generator().manual_seed(3)
    m.W[0].copy_(torch.randn(4, 3, generator=g, dtype=torch.float64) * 0.7)
    m.W[0][2:].copy_(torch.tensor([[2.5, -2.0, 1.5], [2.0, 2.5, -2.5]]))
    m.W[1].copy_(torch.randn(3, 2, generator=g, dtype=torch.float64))
    m.bias[0].copy_(torch.tensor([0.2, -0.3, 2.0, 1.5]))
    m.bias[1].copy_(torch.tensor([-1.5, -1.0, 0.5]))
    m.bias[2].copy_(torch.tensor([0.3, -0.4]))
    return m


def enumerate_states(m: DBM, v_observed: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Every (v, h1, h2) with v agreeing with v_observed on OBSERVED, and the unnormalised log P* of each."""
    free = int((~OBSERVED).sum())
    n = free + sum(m.sizes[1:])
    bits = torch.tensor(list(itertools.product([0.0, 1.0], repeat=n)), dtype=torch.float64)
    v = v_observed.double().repeat(len(bits), 1)
    v[:, ~OBSERVED] = bits[:, :free]
    h1, h2 = bits[:, free : free + m.sizes[1]], bits[:, free + m.sizes[1] :]
    x = [v, h1, h2]
    return x, -m.to(dtype=torch.float64).energy(x)


def exact_marginals(m: DBM, v_observed: torch.Tensor) -> list[torch.Tensor]:
    """E[v], E[h1], E[h2] under P(v_f, h | v_o), by summing over the 2^(2+3+2) states."""
    x, log_p = enumerate_states(m, v_observed)
    p = torch.softmax(log_p, 0)
    return [p @ t for t in x]


def exact_log_p_observed(m: DBM, v_observed: torch.Tensor) -> float:
    """log P*(v_o) = log sum_{v_f, h} exp(-E)."""
    return torch.logsumexp(enumerate_states(m, v_observed)[1], 0).item()


def exact_h1_given_filled_v(m: DBM, v_observed: torch.Tensor) -> torch.Tensor:
    """E[h1] under the distribution proportional to exp(-E(v_fill, h)) with 0.5 in the free pixels."""
    v = torch.where(OBSERVED, v_observed, torch.full_like(v_observed, 0.5)).double()
    hs = torch.tensor(list(itertools.product([0.0, 1.0], repeat=sum(m.sizes[1:]))), dtype=torch.float64)
    h1, h2 = hs[:, : m.sizes[1]], hs[:, m.sizes[1] :]
    p = torch.softmax(-m.to(dtype=torch.float64).energy([v.repeat(len(hs), 1), h1, h2]), 0)
    return p @ h1


@pytest.fixture(scope="module")
def dbm() -> DBM:
    return set_params(DBM((4, 3, 2), image_shape=(2, 2), dtype=torch.float64))


def test_the_setup_tells_the_true_posterior_from_the_half_filled_image(dbm):
    true_h1 = exact_marginals(dbm, V)[1]
    filled_h1 = exact_h1_given_filled_v(dbm, V)
    assert (true_h1 - filled_h1).abs().max().item() > 0.2


def test_clamped_gibbs_samples_the_posterior_given_the_observed_pixels(dbm):
    """4000 chains x 200 kept sweeps: the marginals' Monte Carlo error is ~0.002; tolerance 0.015."""
    exact = exact_marginals(dbm, V)
    g = torch.Generator().manual_seed(0)
    means, last = dbm.posterior_gibbs(V.double(), OBSERVED, n_chains=4000, burn_in=30, keep=200, generator=g)
    for l, (mc, ex) in enumerate(zip(means, exact)):
        assert torch.allclose(mc[0], ex, atol=0.015), (l, mc, ex)
    assert torch.equal(means[0][0, OBSERVED], V[0, OBSERVED].double())  # the observed pixels never move
    assert torch.equal(last[0][:, OBSERVED], V[:, OBSERVED].double().expand(4000, -1))
    filled = exact_h1_given_filled_v(dbm, V)
    assert (means[1][0] - filled).abs().max().item() > 0.18  # the old sampler's target is clearly missed


def tiny_task(dbm: DBM) -> MeanFieldTask:
    stack = GreedyStack((4, 3, 2), torch.Generator().manual_seed(0))
    model = compose_dbm(stack, (2, 2))
    model.load_state({k: t.float() for k, t in dbm.parameters().items()})
    task = MeanFieldTask(TrainedDBM(model, stack, None, {}), V.float())
    task.gibbs_chains, task.gibbs_burn_in, task.gibbs_keep = 2000, 30, 200
    return task


def test_mean_field_page_compares_with_the_posterior_given_the_observed_pixels(dbm):
    task = tiny_task(dbm)
    task.reset(MeanFieldTask.PARAMS.complete({"index": 0, "clamp": "top", "binarize": False, "n_iter": 200}))
    assert torch.equal(task.observed, OBSERVED)
    exact = exact_marginals(dbm, V)
    assert torch.allclose(task.gibbs_mu[0][0].double(), exact[1], atol=0.02)
    assert torch.allclose(task.gibbs_mu[1][0].double(), exact[2], atol=0.02)
    assert torch.allclose(task.gibbs_v[0].double(), exact[0], atol=0.02)


def test_every_bound_on_the_page_is_a_bound_on_log_p_of_the_observed_pixels(dbm):
    """Mean field treats the free pixels as latent: L = E_Q[-E] + H(Q) over (v_f, h) with Q factorial,
    checked against the sum over all 2^7 states; at convergence it stays below log P*(v_o).
    The DBN line is the bound of Q(h) = the DBN pass on the half-filled image and Q(v_f = 1) = 0.5."""
    task = tiny_task(dbm)
    params = MeanFieldTask.PARAMS.complete({"index": 0, "clamp": "top", "binarize": False, "n_iter": 200, "init": "uniform"})
    task.reset(params)
    log_p = exact_log_p_observed(dbm, V)

    def enumerated_bound(mu_v: torch.Tensor, mu: list[torch.Tensor]) -> float:
        x, log_p_star = enumerate_states(dbm, V)
        q = torch.ones(len(log_p_star), dtype=torch.float64)
        for t, means in zip(x, [mu_v, *mu]):
            means = means.double()
            q = q * torch.where(t == 1, means, 1 - means).prod(-1)
        entropy = sum(bernoulli_entropy(m.double())[0] for m in mu) + bernoulli_entropy(mu_v.double()[:, ~OBSERVED])[0]
        return float(q @ log_p_star + entropy)

    assert task.bound() == pytest.approx(enumerated_bound(task.v, task.mu), abs=1e-4)
    assert task.compare_bounds["dbn"] == pytest.approx(enumerated_bound(task.v, task.dbn_mu), abs=1e-4)
    assert task.compare_bounds["dbn"] <= log_p
    for _ in range(200):
        task.step(params)
    assert task.bound() == pytest.approx(enumerated_bound(task.v, task.mu), abs=1e-4)
    assert task.bound() <= log_p + 1e-9
    assert log_p - task.bound() < 0.5  # a factorial Q gets close on this tiny model
    assert math.isfinite(task.initial_bound) and task.bound() >= task.initial_bound
