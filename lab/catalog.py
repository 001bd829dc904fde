"""Every lab page: where it lives, its title, and the one sentence and picture the Home page shows.

A model family registers here, once: a ``Family`` with one ``LabPage`` per file of it in ``pages/``; the
navigation, the Home page and the ``genlab`` CLI are built from this list.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class LabPage:
    script: str
    """File name in ``pages/``."""
    title: str
    url_path: str
    section: str
    blurb: str
    """One sentence for the Home page: what a student sees and does there."""
    icon: str
    picture: str | None = None
    """A picture in ``assets/pictures/`` for the Home page card."""

    @property
    def path(self) -> Path:
        return ROOT / "pages" / self.script

    @property
    def picture_path(self) -> Path | None:
        return ROOT / "assets" / "pictures" / self.picture if self.picture else None


SECTIONS = ("Boltzmann machines", "Variational autoencoders", "Adversarial games", "Denoising chains", "Approximate inference")
"""Section order in the navigation and on the Home page: the generative models in the book's order (chapter 20), then the
approximate inference they rely on (chapter 19)."""


def by_section(pages: list[LabPage]) -> dict[str, list[LabPage]]:
    """Pages grouped by section, sections in ``SECTIONS`` order (unknown ones last), pages in list order."""
    groups: dict[str, list[LabPage]] = {}
    rank = {name: i for i, name in enumerate(SECTIONS)}
    for page in sorted(pages, key=lambda p: rank.get(p.section, len(SECTIONS))):
        groups.setdefault(page.section, []).append(page)
    return groups


HOME = LabPage("home.py", "Home", "home", "", "The lab at a glance.", ":material/home:")


@dataclass(frozen=True)
class Family:
    """A model family: its code lives in engine/models, engine/tasks/<name>.py and lab/<name>/ (command.py for
    ``genlab train|eval|bench <name>``), its pages in pages/."""

    name: str
    pages: tuple[LabPage, ...]


FAMILIES: tuple[Family, ...] = (
    Family("rbm", (
        LabPage("rbm.py", "RBM training", "rbm", "Boltzmann machines",
                "Train a restricted Boltzmann machine live with CD-k or PCD: filters form, chains sample, and AIS gives the log-likelihood with error bars.",
                ":material/grid_on:", "rbm.png"),
        LabPage("gibbs.py", "Gibbs chain", "gibbs", "Boltzmann machines",
                "Watch block Gibbs chains of an RBM evolve frame by frame, clamp pixels, change the temperature, and see the chains converge to the exact distribution.",
                ":material/replay:", "gibbs.png"),
    )),
    Family("dbm", (
        LabPage("dbm_meanfield.py", "DBM mean-field inference", "dbm-meanfield", "Boltzmann machines",
                "Watch a deep Boltzmann machine's mean-field posterior μ¹, μ² converge on a test digit, iteration by iteration, with the bound rising; make it oscillate with parallel updates.",
                ":material/blur_on:", "dbm_meanfield.png"),
        LabPage("dbm_training.py", "DBM training", "dbm-training", "Boltzmann machines",
                "Pretrain a DBM greedily from RBMs, then train it jointly with mean field and persistent chains (algorithm 20.1), with or without centering.",
                ":material/layers:", "dbm_training.png"),
        LabPage("dbm_sampling.py", "DBM vs DBN sampling", "dbm-sampling", "Boltzmann machines",
                "Side by side from the same seed: DBM Gibbs chains where every layer takes part, and DBN ancestral sampling from the same RBM stack.",
                ":material/compare:", "dbm_sampling.png"),
    )),
    Family("vae", (
        LabPage(
            "vae_manifold.py", "VAE manifold", "vae-manifold", "Variational autoencoders",
            "A 20 x 20 grid of decoder means over a 2-D latent space: MNIST digits morph into one another and Frey faces change expression, live while training.",
            ":material/grid_view:", "vae_manifold.png",
        ),
        LabPage(
            "vae_latent.py", "VAE latent space", "vae-latent", "Variational autoencoders",
            "Encoded test digits coloured by label: click anywhere to decode that z, interpolate between two digits, draw or upload one and see where q(z|x) puts it.",
            ":material/scatter_plot:", "vae_latent.png",
        ),
        LabPage(
            "vae_posterior.py", "VAE posterior vs q", "vae-posterior", "Variational autoencoders",
            "The true posterior p(z|x) by quadrature against the Gaussian q(z|x): log p(x), the ELBO, their gap KL(q || p(z|x)) and IWAE bounds closing it.",
            ":material/blur_on:", "vae_posterior.png",
        ),
        LabPage(
            "vae_training.py", "VAE training", "vae-training", "Variational autoencoders",
            "The ELBO split into reconstruction and KL, live; N_z = 2, 5, 10, 20 and AEVB against wake-sleep on one plot; samples from the prior.",
            ":material/monitoring:", "vae_training.png",
        ),
    )),
    Family("gan", (
        LabPage("gan_game.py", "The a·b game and the Dirac-GAN", "gan-game", "Adversarial games",
                "Click a start point and watch simultaneous gradient steps spiral out of V(a, b) = ab while alternating steps orbit and extragradient converges; then the Dirac-GAN with R1 and instance noise.",
                ":material/cyclone:", "gan_game.png"),
        LabPage("gan_2d.py", "GAN on 2-D data", "gan-2d", "Adversarial games",
                "Train a GAN on rings, grids, spirals or your own points: the discriminator's heatmap, the generator's gradient arrows and its latent mesh move live; reproduce mode collapse and cure it.",
                ":material/scatter_plot:", "gan_2d.png"),
        LabPage("gan_mnist.py", "GAN on MNIST", "gan-mnist", "Adversarial games",
                "A small MLP GAN keeps training on MNIST: a fixed-noise grid of samples evolves, and each sample sits beside its nearest training image (the memorization check).",
                ":material/draw:", "gan_mnist.png"),
    )),
    Family("gsn", (
        LabPage("gsn_clamped.py", "Clamped sampling (DAE / GSN)", "gsn-clamped", "Denoising chains",
                "Keep half of a digit and watch a denoising autoencoder's Markov chain resample the other half, frame by frame (Figure 20.12).",
                ":material/splitscreen_right:", "gsn_clamped.png"),
        LabPage("gsn_chain.py", "Free-running denoising chain", "gsn-chain", "Denoising chains",
                "Run the DAE / GSN chain from noise or from data and watch it wander between digit classes, labelled by a classifier.",
                ":material/all_inclusive:", "gsn_chain.png"),
        LabPage("gsn_training.py", "Training a DAE or GSN (walkback)", "gsn-training", "Denoising chains",
                "Train a denoising autoencoder or a GSN live, with or without walkback: reconstructions, chain samples and curves.",
                ":material/model_training:", "gsn_training.png"),
    )),
    Family("inference", (
        LabPage("inference_em.py", "EM as coordinate ascent", "inference-em", "Approximate inference",
                "Fit a Gaussian mixture by EM and watch log p(v), the bound L and their gap KL(q || p(h|v)): the E-step closes the gap, the M-step raises L.",
                ":material/stacked_line_chart:", "inference_em.png"),
        LabPage("inference_kl.py", "Which KL?", "which-kl", "Approximate inference",
                "Fit q to a 2-D target by KL(q || p) or KL(p || q), factorized or full covariance: mode seeking against mass covering, live.",
                ":material/compare_arrows:", "inference_kl.png"),
        LabPage("inference_meanfield.py", "Mean field", "mean-field", "Approximate inference",
                "Binary sparse coding's mean-field updates with explaining away, against the exact posterior; continuous mean field on a 2-D Gaussian.",
                ":material/hub:", "inference_meanfield.png"),
        LabPage("inference_sparse.py", "Sparse coding: MAP inference", "sparse-coding", "Approximate inference",
                "ISTA infers sparse codes while the dictionary learns its filters live; a PSD encoder predicts the codes in one pass.",
                ":material/view_module:", "inference_sparse.png"),
        LabPage("inference_amortized.py", "Learned inference: amortization", "amortized-inference", "Approximate inference",
                "On the shipped VAE: the encoder's ELBO, a q optimized for one image, and log p(x) by quadrature: the amortization and approximation gaps.",
                ":material/speed:", "inference_amortized.png"),
        LabPage("inference_gradients.py", "Gradient estimators", "gradient-estimators", "Approximate inference",
                "The score-function estimator, with and without a baseline, against the reparameterization trick: histograms, variance against samples, bias.",
                ":material/ssid_chart:", "inference_gradients.png"),
    )),
)  # fmt: skip
"""The one list a model family registers in: the navigation, the Home page and the CLI are built from it."""

LAB_PAGES: list[LabPage] = [page for family in FAMILIES for page in family.pages]
