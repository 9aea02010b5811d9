import math

import numpy as np
import torch

from pipeline.camera.eg3d import camera_label, orbit_camera
from pipeline.fields.siren import FREQUENCY_FACTOR, Modulation, SirenConfig
from pipeline.render.rays import camera_rays
from pipeline.render.volume import render_rays, VolumeConfig


def test_siren_field_renders_through_the_shared_renderer_with_gradients_to_its_modulation():
    torch.manual_seed(0)
    config = SirenConfig(layers=3, width=16)
    field = config.build()
    frequencies = (torch.randn(2, 4, 16) * 15 + 30).requires_grad_(True)
    phases = torch.randn(2, 4, 16, requires_grad=True)
    labels = torch.tensor(np.stack([camera_label(orbit_camera(yaw, 0.0)) for yaw in (0.0, 0.5)]), dtype=torch.float32)
    rendered = render_rays(field, Modulation(frequencies, phases), camera_rays(labels, 6), VolumeConfig(coarse_samples=5, fine_samples=5),
                           generator=torch.Generator().manual_seed(0))
    assert rendered.features.shape == (2, 36, 3)
    assert torch.all((rendered.features >= 0) & (rendered.features <= 1))
    rendered.features.sum().backward()
    assert frequencies.grad.abs().sum() > 0 and phases.grad.abs().sum() > 0


def test_published_initialisation():
    field = SirenConfig(layers=3, width=64).build()
    first, hidden = field.film[0].weight, field.film[1].weight
    assert first.abs().max() <= 1 / 3 and first.abs().max() > 0.9 / 3
    bound = math.sqrt(6 / 64) / FREQUENCY_FACTOR
    assert hidden.abs().max() <= bound and hidden.abs().max() > 0.9 * bound
