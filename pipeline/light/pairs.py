"""Relit views: a light-stage view under an environment, with its per-pixel light maps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.camera.eg3d import normals_to_world, pixel_rays
from pipeline.light import equirect
from pipeline.light.relight import light_weights, lookup_light_maps, relight


@dataclass(frozen=True)
class Environment:
    """A map at the working size with its prefiltered light maps, turned by ``turn`` light-map columns."""

    env: np.ndarray  # (He, 2He, 3) linear radiance
    diffuse: np.ndarray  # (h, 2h, 3)
    phong: np.ndarray  # (K, h, 2h, 3)

    def rotated(self, turn: int) -> Environment:
        """Turned about the vertical by 2 pi turn / (2h): the map and its light maps alike."""
        scale = self.env.shape[1] // self.diffuse.shape[1]
        return Environment(env=equirect.rotate(self.env, turn * scale), diffuse=equirect.rotate(self.diffuse, turn),
                           phong=np.roll(self.phong, turn, axis=2))


@dataclass(frozen=True)
class LitView:
    relit: np.ndarray  # (H, W, 3) linear, premultiplied by alpha
    diffuse: np.ndarray  # (H, W, 3) diffuse light map at the normals
    specular: np.ndarray  # (K, H, W, 3) Phong light maps at the reflection vectors
    background: np.ndarray  # (H, W, 3) the map as the camera sees it


def light_view(olat: np.ndarray, light_directions: np.ndarray, alpha: np.ndarray, normals: np.ndarray,
               camera: np.ndarray, environment: Environment) -> LitView:
    """Relight one view: OLAT (L, H, W, 3), lights (L, 3), alpha (H, W), camera-space normals (H, W, 3)."""
    height, width = alpha.shape
    _, rays = pixel_rays(camera, height, width)
    diffuse, specular = lookup_light_maps(environment.diffuse, environment.phong, normals_to_world(camera, normals),
                                          -rays, alpha > 0)
    return LitView(
        relit=relight(olat, light_weights(environment.env, light_directions)),
        diffuse=diffuse, specular=specular, background=equirect.sample(environment.env, rays),
    )
