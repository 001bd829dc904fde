"""A deep belief network built from the same stack of RBMs as a DBM's pretraining (book section 20.3).

The top two layers form an undirected RBM; every layer below is directed, top-down:

    P(h_{L-1}, h_L) = top RBM,     P(h_{l-1} | h_l) = sigmoid(b_{l-1} + W_l h_l)   (eqs. 20.17-20.19)

Sampling is ancestral: Gibbs sampling in the top RBM (the RBM lab's ``gibbs_step``), then one
down pass through the directed layers. Inference is the heuristic bottom-up pass of section 20.3:
each layer's up-conditional used as a feed-forward network, q_l = P_rbm_l(h_l = 1 | q_{l-1}).

The RBMs are used exactly as trained (:class:`engine.models.dbm_training.LayerRBM`, with the
copies the DBM pretraining gave them), so a DBN and the DBM composed from the same stack can be
compared side by side.
"""

from __future__ import annotations

import torch

from engine.models.dbm_training import GreedyStack, LayerRBM
from engine.models.rbm import binary_states, gibbs_step


class DBN:
    """A DBN over the layers of a stack of :class:`LayerRBM` (bottom first)."""

    def __init__(self, layers: list[LayerRBM]):
        if len(layers) < 1:
            raise ValueError("a DBN needs at least one RBM")
        self.layers = layers

    @classmethod
    def from_stack(cls, stack: GreedyStack) -> DBN:
        return cls(stack.rbms)

    @property
    def top(self) -> LayerRBM:
        return self.layers[-1]

    def infer(self, v: torch.Tensor) -> list[torch.Tensor]:
        """The bottom-up recognition pass (section 20.3): q_l = P(h_l = 1 | q_{l-1}) of RBM l, q_0 = v."""
        out, x = [], v
        for layer in self.layers:
            x = layer.up(x)
            out.append(x)
        return out

    def sample_top(self, n: int, gibbs_steps: int, generator: torch.Generator | None = None, start: torch.Tensor | None = None) -> torch.Tensor:
        """n samples of h_{L-1} from the top RBM after ``gibbs_steps`` block Gibbs steps from random
        states (or from ``start``), using the RBM as trained (two copies of h_L for the DBM stack)."""
        rbm = self.top.rbm
        x = torch.bernoulli(torch.full((n, rbm.n_visible), 0.5, dtype=rbm.dtype, device=rbm.device), generator=generator) if start is None else start
        for _ in range(gibbs_steps):
            x, _, _ = gibbs_step(rbm, x, generator=generator)
        return x

    def down_pass(self, h_top_visible: torch.Tensor, generator: torch.Generator | None = None) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Ancestral sampling down the directed layers from a sample of h_{L-1}: returns
        (the sampled layers [v, h1, ..., h_{L-1}], E[v | h1] for display)."""
        x = h_top_visible
        layers = [x]
        mean = x
        for layer in reversed(self.layers[:-1]):
            mean = layer.down(x)
            x = torch.bernoulli(mean, generator=generator)
            layers.insert(0, x)
        return layers, mean

    def sample(self, n: int, gibbs_steps: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n visible samples: Gibbs in the top RBM, then one down pass (section 20.3)."""
        layers, _ = self.down_pass(self.sample_top(n, gibbs_steps, generator), generator)
        return layers[0]

    def exact_visible_distribution(self) -> torch.Tensor:
        """P(v) for every v in {0,1}^n_visible (row k = binary code of k) of a tiny 2-layer DBN, in float64:
        P(v) = sum_h1 P_top(h1) P(v | h1), P_top(h1) proportional to exp(-F_top(h1))."""
        if len(self.layers) != 2:
            raise ValueError("exact_visible_distribution is written for a DBN with two hidden layers")
        top = self.top.rbm.to(dtype=torch.float64)
        h1 = torch.cat(list(binary_states(self.top.n_in)))
        p_h1 = torch.softmax(-top.free_energy(h1), 0)
        bottom = self.layers[0]
        mean_v = torch.sigmoid(h1 @ bottom.W.double().T + bottom.b.double())
        v = torch.cat(list(binary_states(bottom.n_in)))
        p_v_given_h = torch.exp(v @ mean_v.log().T + (1 - v) @ (1 - mean_v).log().T)  # (n_v states, n_h1 states)
        return p_v_given_h @ p_h1
