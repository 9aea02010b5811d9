"""StyleGAN2's building blocks (Karras et al. 2020), as EG3D's generator and discriminator use them.

- Equalised learning rate: weights are drawn from N(0, 1) / ``lr_multiplier`` and scaled by
  ``lr_multiplier / sqrt(fan_in)`` at every use, so Adam's step is the same for every layer.
- The mapping network normalises z (and the embedded condition c) to unit second moment,
  concatenates them and runs ``layers`` fully connected layers with leaky ReLU.
- A modulated convolution scales its weight's input channels by a style from w (the
  affine layer's bias starts at 1), then demodulates: each output channel's weights are
  divided by their norm, so unit-variance inputs give unit-variance outputs.
- A synthesis layer adds per-pixel noise times a learned strength, a bias and leaky ReLU
  with gain sqrt(2), clamped at ``CONV_CLAMP``; toRGB is a 1 x 1 modulated convolution
  without demodulation. Upsampling is bilinear here (StyleGAN2 uses a [1, 3, 3, 1] FIR
  filter).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

LEAKY_GAIN = math.sqrt(2.0)  # leaky ReLU's gain, so activations keep their scale
CONV_CLAMP = 256.0  # activations are clamped to +-this (StyleGAN2's conv_clamp)


def second_moment_normalise(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """x / sqrt(mean(x^2)) over the last dimension (B, D)."""
    return x * (x.square().mean(dim=-1, keepdim=True) + eps).rsqrt()


class EqualLinear(nn.Module):
    """A fully connected layer with equalised learning rate, optionally followed by leaky ReLU (gain sqrt(2))."""

    def __init__(self, in_features: int, out_features: int, lr_multiplier: float = 1.0, bias_init: float = 0.0,
                 activate: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init)))
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier
        self.activate = activate

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, in) -> (B, out)
        x = F.linear(x, self.weight * self.weight_gain, self.bias * self.bias_gain)
        return F.leaky_relu(x, 0.2) * LEAKY_GAIN if self.activate else x


class MappingNetwork(nn.Module):
    """z (B, z_dim) and a condition c (B, c_dim; c_dim 0: none) -> ``num_ws`` copies of w (B, num_ws, w_dim).

    ``w_avg`` is the running mean of w that truncation pulls towards; the training loop updates
    it (``track_mean``), ``forward`` never does."""

    def __init__(self, z_dim: int, c_dim: int, w_dim: int, num_ws: int, layers: int = 2, lr_multiplier: float = 0.01):
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim, self.num_ws = z_dim, c_dim, w_dim, num_ws
        self.embed = EqualLinear(c_dim, w_dim) if c_dim else None
        widths = [z_dim + (w_dim if c_dim else 0)] + [w_dim] * layers
        self.layers = nn.Sequential(*(EqualLinear(a, b, lr_multiplier, activate=True) for a, b in zip(widths[:-1], widths[1:])))
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: torch.Tensor | None, c: torch.Tensor | None = None, truncation: float = 1.0) -> torch.Tensor:
        # z (B, z_dim) or None when z_dim is 0 (a condition alone, as the discriminator maps c)
        parts = [second_moment_normalise(z)] if self.z_dim else []
        if self.embed is not None:
            parts.append(second_moment_normalise(self.embed(c)))
        w = self.layers(torch.cat(parts, dim=1))
        if truncation != 1.0:
            w = self.w_avg + truncation * (w - self.w_avg)
        return w[:, None].expand(-1, self.num_ws, -1)

    @torch.no_grad()
    def track_mean(self, ws: torch.Tensor, beta: float = 0.998) -> None:
        """Move ``w_avg`` towards the batch mean of ``ws`` (B, num_ws, w_dim), as StyleGAN2 does each step."""
        self.w_avg.lerp_(ws[:, 0].mean(dim=0), 1.0 - beta)


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, demodulate: bool = True,
                     padding: int = 0) -> torch.Tensor:
    """x (B, I, H, W), weight (O, I, k, k), styles (B, I) -> (B, O, H', W'): every sample its own
    weight ``weight * styles``, demodulated so each output channel's weights have unit norm.

    Run as StyleGAN2's unfused form (its training form): the input scaled by the styles, one
    convolution shared by the batch, the output scaled by the demodulation coefficients; equal to
    a grouped convolution with per-sample weights up to rounding. On a 2-core CPU a single layer is
    0.72-1.03x as fast as the grouped form, the default profile's whole EG3D step 1.11x as fast
    (``benchmarks/eg3d.py --modconv`` prints both)."""
    out = F.conv2d(x * styles[:, :, None, None], weight, padding=padding)
    if demodulate:
        norms = (weight[None] * styles[:, None, :, None, None]).square().sum(dim=(2, 3, 4))  # (B, O)
        out = out * (norms + 1e-8).rsqrt()[:, :, None, None]
    return out


class SynthesisLayer(nn.Module):
    """Modulated 3 x 3 convolution (after a 2x upsampling with ``up``), noise, bias, leaky ReLU."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, up: bool = False, noise: bool = True):
        super().__init__()
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 3, 3))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.noise_strength = nn.Parameter(torch.zeros(())) if noise else None
        self.up = up

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor | None = None, use_noise: bool = True
                ) -> torch.Tensor:
        # x (B, I, H, W), w (B, w_dim), noise (B, 1, H', W') or None: drawn here when the layer has noise and
        # ``use_noise`` (False: none, for deterministic images)
        if self.up:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        styles = self.affine(w) / math.sqrt(self.weight[0].numel())  # the weight's equalised-rate gain, folded in
        x = modulated_conv2d(x, self.weight, styles, demodulate=True, padding=1)
        if self.noise_strength is not None and use_noise:
            if noise is None:
                noise = torch.randn(x.shape[0], 1, *x.shape[2:], device=x.device, dtype=x.dtype)
            x = x + noise * self.noise_strength
        x = F.leaky_relu(x + self.bias[None, :, None, None], 0.2) * LEAKY_GAIN
        return x.clamp(-CONV_CLAMP, CONV_CLAMP)


class ToRGB(nn.Module):
    """1 x 1 modulated convolution without demodulation, plus bias: features -> ``out_channels``."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int):
        super().__init__()
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w) / math.sqrt(self.weight[0].numel())
        out = modulated_conv2d(x, self.weight, styles, demodulate=False)
        return (out + self.bias[None, :, None, None]).clamp(-CONV_CLAMP, CONV_CLAMP)


class SynthesisBlock(nn.Module):
    """One resolution of the skip-architecture synthesis network: (upsampling) conv, conv, toRGB
    added to the upsampled image so far. It takes ``num_ws`` w's: 3 (two convs and toRGB), or 2
    for the first block, which starts from the learned constant."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, image_channels: int, first: bool,
                 noise: bool = True):
        super().__init__()
        self.conv0 = None if first else SynthesisLayer(in_channels, out_channels, w_dim, up=True, noise=noise)
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim, noise=noise)
        self.to_rgb = ToRGB(out_channels, image_channels, w_dim)
        self.num_ws = 2 if first else 3

    def forward(self, x: torch.Tensor, image: torch.Tensor | None, ws: torch.Tensor, use_noise: bool = True
                ) -> tuple[torch.Tensor, torch.Tensor]:
        # x (B, I, H, W), image (B, C, H, W) or None, ws (B, num_ws, w_dim)
        k = 0
        if self.conv0 is not None:
            x, k = self.conv0(x, ws[:, 0], use_noise=use_noise), 1
        x = self.conv1(x, ws[:, k], use_noise=use_noise)
        rgb = self.to_rgb(x, ws[:, k + 1])
        if image is not None:
            image = F.interpolate(image, scale_factor=2, mode="bilinear", align_corners=False)
        return x, rgb if image is None else image + rgb


def block_channels(resolution: int, channel_base: int, channel_max: int) -> int:
    """StyleGAN2's width at a resolution: ``channel_base / resolution``, at most ``channel_max``."""
    return min(channel_base // resolution, channel_max)


class SynthesisNetwork(nn.Module):
    """ws (B, num_ws, w_dim) -> an image (B, image_channels, resolution, resolution): a learned 4 x 4
    constant, then a ``SynthesisBlock`` per resolution up to ``resolution`` (a power of two)."""

    def __init__(self, w_dim: int, resolution: int, image_channels: int, channel_base: int = 32768,
                 channel_max: int = 512, noise: bool = True):
        super().__init__()
        if resolution < 4 or resolution & (resolution - 1):
            raise ValueError(f"synthesis resolution must be a power of two >= 4, got {resolution}")
        self.resolutions = [2**k for k in range(2, int(math.log2(resolution)) + 1)]
        widths = [block_channels(r, channel_base, channel_max) for r in self.resolutions]
        self.const = nn.Parameter(torch.randn(widths[0], 4, 4))
        self.blocks = nn.ModuleList(
            SynthesisBlock(widths[max(k - 1, 0)], widths[k], w_dim, image_channels, first=k == 0, noise=noise)
            for k in range(len(widths)))
        self.num_ws = sum(block.num_ws for block in self.blocks)

    def forward(self, ws: torch.Tensor, use_noise: bool = True) -> torch.Tensor:
        return run_blocks(self.blocks, self.const[None].expand(ws.shape[0], -1, -1, -1), None, ws, use_noise)[1]


def run_blocks(blocks, x: torch.Tensor, image: torch.Tensor | None, ws: torch.Tensor, use_noise: bool = True
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """``SynthesisBlock``s in turn on features x and the image so far, each taking its ``num_ws``
    of ``ws`` (B, >= sum of num_ws, w_dim) in order: (features, image) after the last."""
    start = 0
    for block in blocks:
        x, image = block(x, image, ws[:, start:start + block.num_ws], use_noise)
        start += block.num_ws
    return x, image


class EqualConv2d(nn.Module):
    """A convolution with equalised learning rate (``kernel`` odd, same padding), optionally
    followed by leaky ReLU with gain sqrt(2)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, bias: bool = True, activate: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.gain = 1 / math.sqrt(in_channels * kernel * kernel)
        self.activate = activate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.conv2d(x, self.weight * self.gain, self.bias, padding=self.weight.shape[-1] // 2)
        return (F.leaky_relu(x, 0.2) * LEAKY_GAIN).clamp(-CONV_CLAMP, CONV_CLAMP) if self.activate else x


class DiscriminatorBlock(nn.Module):
    """StyleGAN2's residual block: two 3 x 3 convolutions, the second after halving the
    resolution, beside a 1 x 1 skip of the halved input; summed and scaled by sqrt(1/2).
    Halving is a 2 x 2 mean here (StyleGAN2 filters with [1, 3, 3, 1])."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv0 = EqualConv2d(in_channels, in_channels, 3)
        self.conv1 = EqualConv2d(in_channels, out_channels, 3)
        self.skip = EqualConv2d(in_channels, out_channels, 1, bias=False, activate=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, I, H, W) -> (B, O, H / 2, W / 2)
        skip = self.skip(F.avg_pool2d(x, 2))
        x = self.conv1(F.avg_pool2d(self.conv0(x), 2))
        return (skip + x) * math.sqrt(0.5)


def minibatch_std(x: torch.Tensor, group: int = 4) -> torch.Tensor:
    """x (B, C, H, W) with one more channel: the standard deviation of each feature over a group
    of up to ``group`` samples, averaged over features and pixels (StyleGAN's diversity signal)."""
    batch, channels, height, width = x.shape
    size = min(group, batch)
    if batch % size:
        size = 1
    y = x.reshape(size, -1, channels, height, width)
    y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # (B / size,)
    y = y.reshape(-1, 1, 1, 1).repeat(size, 1, height, width)
    return torch.cat([x, y], dim=1)


class Discriminator(nn.Module):
    """StyleGAN2's residual discriminator of (B, in_channels, R, R) images, conditioned on
    c (B, c_dim) by projection: the score is the dot product of the last features with an
    embedding of c (a mapping network), over sqrt(cmap_dim). c_dim 0: unconditional."""

    def __init__(self, resolution: int, in_channels: int, c_dim: int = 0, channel_base: int = 32768,
                 channel_max: int = 512, cmap_dim: int | None = None, mapping_layers: int = 2):
        super().__init__()
        if resolution < 8 or resolution & (resolution - 1):
            raise ValueError(f"discriminator resolution must be a power of two >= 8, got {resolution}")
        resolutions = [2**k for k in range(int(math.log2(resolution)), 2, -1)]  # R, R / 2, ..., 8
        width = lambda r: block_channels(r, channel_base, channel_max)  # noqa: E731
        self.from_rgb = EqualConv2d(in_channels, width(resolution), 1)
        self.blocks = nn.Sequential(*(DiscriminatorBlock(width(r), width(r // 2)) for r in resolutions))
        last = width(4)
        self.cmap_dim = (cmap_dim or last) if c_dim else 0
        self.mapping = MappingNetwork(0, c_dim, self.cmap_dim, 1, mapping_layers) if c_dim else None
        self.conv = EqualConv2d(last + 1, last, 3)
        self.fc = EqualLinear(last * 16, last, activate=True)
        self.out = EqualLinear(last, self.cmap_dim or 1)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        # x (B, in_channels, R, R), c (B, c_dim) -> scores (B, 1)
        x = self.blocks(self.from_rgb(x))
        x = self.out(self.fc(self.conv(minibatch_std(x)).flatten(1)))
        if self.mapping is None:
            return x
        cmap = self.mapping(None, c)[:, 0]
        return (x * cmap).sum(dim=1, keepdim=True) / math.sqrt(self.cmap_dim)
