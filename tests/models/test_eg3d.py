import numpy as np
import pytest
import torch

from pipeline.camera.eg3d import camera_label, orbit_camera
from pipeline.fields.triplane import TriplaneConfig
from pipeline.models.eg3d import EG3DConfig
from pipeline.render.volume import VolumeConfig

SMALL = EG3DConfig(z_dim=16, w_dim=16, plane_resolution=16, channel_base=256, channel_max=32, neural_resolution=8,
                   output_resolution=16, sr_channels=16, triplane=TriplaneConfig(channels=8, hidden=16, features=8),
                   volume=VolumeConfig(coarse_samples=6, fine_samples=6))


def cameras(*yaws: float) -> torch.Tensor:
    return torch.tensor(np.stack([camera_label(orbit_camera(yaw, 0.0)) for yaw in yaws]), dtype=torch.float32)


def test_a_small_generator_makes_images_depth_and_gradients():
    torch.manual_seed(0)
    generator = SMALL.build()
    out = generator(torch.randn(2, 16), cameras(0.0, 0.0), cameras(-0.3, 0.3), generator=torch.Generator().manual_seed(0))
    assert out.image.shape == (2, 3, 16, 16) and out.raw.shape == (2, 3, 8, 8)
    assert out.depth.shape == (2, 1, 8, 8) and out.features.shape == (2, 8, 8, 8)
    assert torch.isfinite(out.image).all()
    assert torch.all((out.depth >= 2.25) & (out.depth <= 3.3))
    out.image.mean().backward()
    for name, module in (("mapping", generator.mapping), ("backbone", generator.backbone), ("field", generator.field),
                         ("superresolution", generator.superresolution)):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters()), name


def test_the_rendering_camera_moves_the_view_and_the_conditioning_camera_only_the_latent():
    torch.manual_seed(1)
    generator = SMALL.build()
    z, front = torch.randn(1, 16), cameras(0.0)
    ws = generator.mapping(z, front)
    a = generator.synthesis(ws, front, deterministic=True, use_noise=False)
    b = generator.synthesis(ws, cameras(0.5), deterministic=True, use_noise=False)
    assert not torch.allclose(a.raw, b.raw)
    torch.testing.assert_close(generator.synthesis(ws, front, deterministic=True, use_noise=False).image, a.image)
    assert not torch.allclose(generator.mapping(z, cameras(0.5)), ws)


def test_output_resolution_must_be_the_neural_one_times_a_power_of_two():
    with pytest.raises(ValueError, match="times 2, 4, 8"):
        EG3DConfig(neural_resolution=64, output_resolution=96)


def test_the_dual_discriminator_sees_both_images_and_the_camera():
    from pipeline.models.eg3d import DualDiscriminatorConfig

    torch.manual_seed(2)
    d = DualDiscriminatorConfig(resolution=16, channel_base=256, channel_max=32).build()
    image, raw, camera = torch.randn(4, 3, 16, 16), torch.randn(4, 3, 8, 8), cameras(0.0, 0.1, 0.2, 0.3)
    scores = d(image, raw, camera)
    assert scores.shape == (4, 1)
    assert not torch.allclose(d(image, torch.randn(4, 3, 8, 8), camera), scores)
    generated = SMALL.build()(torch.randn(4, 16), camera, camera, generator=torch.Generator().manual_seed(0))
    assert d(generated.image, generated.raw, camera).shape == (4, 1)


def test_a_lower_rendering_resolution_keeps_the_output_size():
    torch.manual_seed(3)
    generator = SMALL.build()
    ws = generator.mapping(torch.randn(1, 16), cameras(0.0))
    out = generator.synthesis(ws, cameras(0.0), neural_resolution=4, deterministic=True, use_noise=False)
    assert out.raw.shape == (1, 3, 4, 4) and out.image.shape == (1, 3, 16, 16)
