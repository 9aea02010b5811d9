"""The trained relighting chain on one image: normals, albedo, light maps, shading.

Numpy in, numpy out, channels last. The image is the matted foreground (sRGB,
premultiplied by alpha); the target environment comes with its light maps
(pipeline.light.pairs.Environment); the camera places the view in the map.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from pipeline.light.pairs import Environment, view_light_maps
from pipeline.models.checkpoint import load_model
from pipeline.models.relighting import AlbedoConfig, AlbedoNet, GeometryConfig, GeometryNet, ShadingConfig, ShadingNet
from pipeline.relighting.data import light_scale

MODEL_FILE = "model.pt"  # in each model folder: geometry/, albedo/, shading/


@dataclass(frozen=True)
class Relit:
    normals: np.ndarray  # (H, W, 3) camera space
    albedo: np.ndarray  # (H, W, 3)
    diffuse: np.ndarray  # (H, W, 3) diffuse light map at the normals, linear radiance
    specular: np.ndarray  # (K, H, W, 3) Phong light maps at the reflection vectors
    weights: np.ndarray  # (K, H, W) the Specular Net's blend
    specular_hat: np.ndarray  # (H, W, 3)
    relit: np.ndarray  # (H, W, 3) linear radiance, premultiplied by alpha


def to_tensor(array: np.ndarray, divisor: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """(H, W, C) or (K, H, W, C) -> (1, C, H', W') or (1, K, C, H', W'), zero-padded to multiples of ``divisor``."""
    tensor = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)).movedim(-1, -3)[None]
    height, width = tensor.shape[-2:]
    return F.pad(tensor, (0, (-width) % divisor, 0, (-height) % divisor)).to(device)


def to_array(tensor: torch.Tensor, height: int, width: int) -> np.ndarray:
    """(1, C, H', W') or (1, K, C, H', W') -> channels last, cropped to (H, W)."""
    return tensor[0, ..., :height, :width].movedim(-3, -1).cpu().numpy()


class RelightingChain:
    """The nets trained so far: a chain with only a Geometry Net predicts normals, and so on."""

    def __init__(self, geometry: GeometryNet, albedo: AlbedoNet | None = None, shading: ShadingNet | None = None):
        self.geometry = geometry.eval()
        self.albedo = albedo.eval() if albedo is not None else None
        self.shading = shading.eval() if shading is not None else None
        self.device = next(geometry.parameters()).device  # all nets on one device

    @classmethod
    def load(cls, geometry: Path, albedo: Path | None = None, shading: Path | None = None,
             device: torch.device | str = "cpu") -> RelightingChain:
        """From the model folders the training stages write (each file carries its own architecture)."""
        nets = {"geometry": load_model(geometry / MODEL_FILE, GeometryConfig, device)[0]}
        if albedo is not None:
            nets["albedo"] = load_model(albedo / MODEL_FILE, AlbedoConfig, device)[0]
        if shading is not None:
            nets["shading"] = load_model(shading / MODEL_FILE, ShadingConfig, device)[0]
        return cls(**nets)

    @torch.no_grad()
    def predict_normals(self, image: np.ndarray) -> np.ndarray:
        """(H, W, 3) premultiplied sRGB -> (H, W, 3) unit normals."""
        divisor = self.geometry.config.divisor
        return to_array(self.geometry(to_tensor(image, divisor, self.device)), *image.shape[:2])

    @torch.no_grad()
    def predict_albedo(self, image: np.ndarray, normals: np.ndarray) -> np.ndarray:
        divisor = self.albedo.config.divisor
        return to_array(self.albedo(to_tensor(image, divisor, self.device), to_tensor(normals, divisor, self.device)), *image.shape[:2])

    @torch.no_grad()
    def shade(self, image: np.ndarray, alpha: np.ndarray, normals: np.ndarray, albedo: np.ndarray,
              camera: np.ndarray, environment: Environment) -> Relit:
        """Light maps of ``environment`` at the normals, then the Shading Net. alpha (H, W)."""
        if self.shading is None:
            raise ValueError("this chain was loaded without a shading model")
        scale = light_scale(environment.env)
        diffuse, specular = view_light_maps(normals, alpha, camera, environment)
        size, divisor = image.shape[:2], self.shading.divisor
        out = self.shading(*(to_tensor(x, divisor, self.device) for x in (image, albedo, diffuse * scale, specular * scale)))
        relit = np.clip(to_array(out.relit, *size), 0.0, None) * alpha[..., None] / scale
        return Relit(normals=normals, albedo=albedo, diffuse=diffuse, specular=specular,
                     weights=out.weights[0, :, : size[0], : size[1]].cpu().numpy(),
                     specular_hat=to_array(out.specular_hat, *size) / scale, relit=relit)

    def relight(self, image: np.ndarray, alpha: np.ndarray, camera: np.ndarray, environment: Environment) -> Relit:
        """The whole chain: normals, albedo, then shading under ``environment``."""
        normals = self.predict_normals(image)
        albedo = self.predict_albedo(image, normals)
        return self.shade(image, alpha, normals, albedo, camera, environment)
