"""Wake-sleep training of the VAE's encoder and decoder (Hinton et al. 1995; book section 19.5).

The same networks as :class:`engine.models.vae.VAE`, a different learning rule:

- wake phase: z ~ q(z|x) for data x (no gradient through the sample); ascend
  log p(x|z) in the decoder's parameters (the prior N(0, I) is fixed);
- sleep phase: dream z ~ p(z), x ~ p(x|z); ascend log q(z|x) in the encoder's
  parameters, i.e. fit the recognition model to the generative model's own samples.

Unlike AEVB, the encoder never follows the gradient of the ELBO; it is fit to
the wrong KL direction on dreamed data. Comparing the two on the ELBO per
training sample is K&W's Figure 2.
"""

from __future__ import annotations

import torch

from engine.models.vae import VAE, log_diag_normal, reparameterize


def wake_loss(model: VAE, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """-mean log p(x|z), z ~ q(z|x) held fixed: the wake-phase objective of the decoder."""
    with torch.no_grad():
        mu, log_var = model.encoder(x)
        z = reparameterize(mu, log_var, torch.randn(mu.shape, generator=generator, device=mu.device))
    return -model.decoder.log_likelihood(x, z).mean()


def sleep_loss(model: VAE, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """-mean log q(z|x) on dreams z ~ p(z), x ~ p(x|z): the sleep-phase objective of the encoder."""
    device = next(model.parameters()).device
    with torch.no_grad():
        z = torch.randn((n, model.config.n_z), generator=generator, device=device)
        x = model.decoder.sample(z, generator)
    mu, log_var = model.encoder(x)
    return -log_diag_normal(z, mu, log_var).mean()


def wake_sleep_step(
    model: VAE, decoder_opt: torch.optim.Optimizer, encoder_opt: torch.optim.Optimizer, x: torch.Tensor, generator: torch.Generator | None = None
) -> dict[str, float]:
    """One wake update of the decoder and one sleep update of the encoder; returns the batch's ELBO terms (evaluated, not trained)."""
    decoder_opt.zero_grad(set_to_none=True)
    wake_loss(model, x, generator).backward()
    decoder_opt.step()
    encoder_opt.zero_grad(set_to_none=True)
    sleep_loss(model, len(x), generator).backward()
    encoder_opt.step()
    with torch.no_grad():
        terms = model.elbo_terms(x, generator)
    return {"elbo": float(terms.elbo.mean()), "recon": float(terms.recon.mean()), "kl": float(terms.kl.mean())}
