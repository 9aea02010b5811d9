import numpy as np
import torch

from pipeline.camera.eg3d import camera_label, orbit_camera
from pipeline.fields.triplane import RGB_MARGIN, TriplaneConfig
from pipeline.render.rays import camera_rays
from pipeline.render.volume import render_rays, VolumeConfig


def test_the_triplane_field_renders_an_image_and_passes_gradients_to_its_planes():
    torch.manual_seed(0)
    field = TriplaneConfig(channels=8, hidden=16, features=6).build()
    planes = torch.randn(2, 3, 8, 16, 16, requires_grad=True)
    labels = torch.tensor(np.stack([camera_label(orbit_camera(yaw, 0.1)) for yaw in (-0.3, 0.3)]), dtype=torch.float32)
    rays = camera_rays(labels, 8)
    rendered = render_rays(field, planes, rays, VolumeConfig(coarse_samples=6, fine_samples=6),
                           generator=torch.Generator().manual_seed(1))
    assert rendered.features.shape == (2, 64, 6) and rendered.depth.shape == (2, 64, 1)
    assert torch.all(rendered.features >= -RGB_MARGIN) and torch.all(rendered.features <= 1 + RGB_MARGIN)
    assert torch.all((rendered.depth >= 2.25) & (rendered.depth <= 3.3))
    rendered.features[..., :3].mean().backward()
    assert planes.grad is not None and planes.grad.abs().sum() > 0
    assert field.hidden.weight.grad.abs().sum() > 0


def test_points_outside_the_box_read_zero_features():
    field = TriplaneConfig(channels=4, hidden=8, features=3, box_warp=1.0).build()
    planes = torch.randn(1, 3, 4, 8, 8)
    outside = torch.tensor([[[2.0, 2.0, 2.0]]])
    inside = torch.tensor([[[0.1, -0.2, 0.05]]])
    zero = field.out(torch.nn.functional.softplus(field.hidden(torch.zeros(1, 1, 4))))
    torch.testing.assert_close(field(outside, outside, planes).raw_density, zero[..., :1])
    assert not torch.allclose(field(inside, inside, planes).raw_density, zero[..., :1])
