"""Relit views: a light-stage view under an environment, with its per-pixel light maps."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.camera.eg3d import normals_to_world, pixel_rays
from pipeline.io.arrays import load_array
from pipeline.io.manifest import MANIFEST, read_table
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

    def turned(self, radians: float) -> Environment:
        """Turned by an angle (as recorded in the relight manifest), rounded to whole light-map columns."""
        return self.rotated(int(round(radians * self.diffuse.shape[1] / (2 * np.pi))) % self.diffuse.shape[1])


LIGHTMAP_COLUMNS = ("hdri", "split", "env", "diffuse", "phong", "width")


def load_environments(directory: Path) -> tuple[pd.DataFrame, dict[str, Environment]]:
    """The lightmaps stage's manifest and every map in it, by name."""
    manifest = read_table(directory / MANIFEST, LIGHTMAP_COLUMNS)
    maps = {row.hdri: Environment(*(np.asarray(load_array(directory / p), dtype=np.float32) for p in (row.env, row.diffuse, row.phong)))
            for row in manifest.itertuples()}
    return manifest, maps


@dataclass(frozen=True)
class LitView:
    relit: np.ndarray  # (H, W, 3) linear, premultiplied by alpha
    diffuse: np.ndarray  # (H, W, 3) diffuse light map at the normals
    specular: np.ndarray  # (K, H, W, 3) Phong light maps at the reflection vectors
    background: np.ndarray  # (H, W, 3) the map as the camera sees it


def light_view(olat: np.ndarray, light_directions: np.ndarray, alpha: np.ndarray, normals: np.ndarray,
               camera: np.ndarray, environment: Environment) -> LitView:
    """Relight one view: OLAT (L, H, W, 3), lights (L, 3), alpha (H, W), camera-space normals (H, W, 3)."""
    diffuse, specular = view_light_maps(normals, alpha, camera, environment)
    return LitView(
        relit=relight(olat, light_weights(environment.env, light_directions)),
        diffuse=diffuse, specular=specular, background=view_background(environment, camera, *alpha.shape),
    )


def view_light_maps(normals: np.ndarray, alpha: np.ndarray, camera: np.ndarray,
                    environment: Environment) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel light maps of a view from camera-space normals (H, W, 3): diffuse (H, W, 3) and
    Phong (K, H, W, 3), zero where alpha is zero."""
    _, rays = pixel_rays(camera, *alpha.shape)
    return lookup_light_maps(environment.diffuse, environment.phong, normals_to_world(camera, normals), -rays, alpha > 0)


def view_background(environment: Environment, camera: np.ndarray, height: int, width: int) -> np.ndarray:
    """The map as the camera sees it (H, W, 3)."""
    _, rays = pixel_rays(camera, height, width)
    return equirect.sample(environment.env, rays)
