"""Typed params: every knob in params.yaml, validated before any work.

params.yaml has a ``base`` section (seed, profile, data source), one section per
stage, a ``flow`` section for the Prefect flow, and a ``profiles`` section: the
one place where a profile (``tiny``, ``default``, ``paper``) overrides stage
values. ``load_params`` merges the active profile's overrides into each section
and validates the result; any unknown key, wrong type or out-of-range value
raises ``ConfigError`` naming the file and the dotted key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipeline import ConfigError

Profile = Literal["tiny", "default", "paper"]
PROFILES: tuple[str, ...] = ("tiny", "default", "paper")
SYNTHETIC = "synthetic"


class Section(BaseModel):
    """A params section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class BaseParams(Section):
    seed: int = Field(ge=0, description="seed for every random choice in the pipeline")
    profile: Profile = Field(description="tiny (tests), default (laptop CPU), paper (GPU)")
    source: str = Field(
        min_length=1,
        description="'synthetic' for the embedded synthetic light stage, or a folder "
        "holding a real dataset in the same layout (lightstage/, hdri/)",
    )


class SynthParams(Section):
    subjects: int = Field(ge=2, le=10_000, description="number of synthetic subjects")
    test_subjects: int = Field(ge=1, description="subjects held out for testing")
    views: int = Field(ge=1, le=64, description="camera views per subject")
    resolution: int = Field(ge=16, le=2048, description="image height and width in pixels")
    supersample: int = Field(ge=1, le=4, description="samples per pixel side (anti-aliased alpha)")
    lights: int = Field(ge=4, le=4096, description="OLAT lights, near-uniform on the sphere")
    max_yaw_deg: float = Field(ge=0, le=90, description="views spread over +-yaw about the front")
    hdris: int = Field(ge=2, le=10_000, description="procedural HDR environment maps")
    test_hdris: int = Field(ge=1, description="maps held out for testing")
    hdri_height: int = Field(ge=8, le=4096, description="equirect height; width is twice this")
    faces: int = Field(ge=2, le=1_000_000, description="images in the face set (3D-aware GANs, poses)")
    face_resolution: int = Field(ge=16, le=1024, description="face image height and width")
    face_supersample: int = Field(ge=1, le=4, description="samples per pixel side for faces")
    face_lights: int = Field(ge=4, le=1024, description="lights the face set's HDR maps are discretised into")
    test_face_fraction: float = Field(gt=0, lt=1, description="share of face images held out")
    workers: int = Field(ge=1, le=64, description="processes rendering in parallel (output does not depend on it)")

    @model_validator(mode="after")
    def _held_out_fits(self) -> SynthParams:
        if self.test_subjects >= self.subjects:
            raise ValueError("test_subjects must be smaller than subjects")
        if self.test_hdris >= self.hdris:
            raise ValueError("test_hdris must be smaller than hdris")
        return self


class LightmapsParams(Section):
    env_height: int = Field(ge=8, le=1024, description="working height of every HDR map (width twice)")
    lightmap_height: int = Field(ge=2, le=512, description="height of the prefiltered light-map grids")
    real_hdris: str = Field(min_length=1, description="folder of real equirect .hdr/.exr maps (may be empty)")
    procedural: bool = Field(description="use synth's procedural maps; false: only the real ones")
    real_test_fraction: float = Field(gt=0, lt=1, description="share of real maps held out for testing")

    @model_validator(mode="after")
    def _grids_nest(self) -> LightmapsParams:
        if self.env_height % self.lightmap_height:
            raise ValueError("env_height must be a multiple of lightmap_height (rotations stay on both grids)")
        return self


class RelightParams(Section):
    pairs_per_view: int = Field(ge=1, le=1000, description="relit pairs (two maps) per subject view")
    rotate: bool = Field(description="turn each map by a random angle about the vertical")
    exposure_median: float = Field(gt=0, le=1, description="composites: linear luminance of the subject's median pixel")


class TrimapsParams(Section):
    band_fraction: list[float] = Field(min_length=2, max_length=2, description="unknown band width range, as fractions of image size")
    fg_threshold: float = Field(gt=0.5, le=1.0, description="alpha at or above which a pixel is foreground")
    thin_fraction: float = Field(ge=0, le=0.2, description="coarse segmentation drops parts thinner than about twice this")
    jitter_fraction: float = Field(ge=0, le=0.2, description="coarse segmentation outline error, fraction of size")
    coarse_band_fraction: float = Field(gt=0, le=0.3, description="unknown band of the coarse trimap, fraction of size")

    @model_validator(mode="after")
    def _ordered(self) -> TrimapsParams:
        low, high = self.band_fraction
        if not 0 < low <= high <= 0.5:
            raise ValueError("band_fraction must be [low, high] with 0 < low <= high <= 0.5")
        return self


class TrainMattingParams(Section):
    widths: list[int] = Field(min_length=3, max_length=7, description="encoder widths (published: 32 ... 512)")
    guidance: bool = Field(description="add colour-guidance inputs (spread F and B, unmixing alpha); false: the published inputs")
    norm: bool = Field(description="group normalisation in the U-Net (converges much faster here; the paper names none)")
    steps: int = Field(ge=1, le=10_000_000)
    batch: int = Field(ge=1, le=1024)
    crop: int = Field(ge=16, le=4096, description="square training crops (fully convolutional net)")
    learning_rate: float = Field(gt=0, le=1)
    coarse_share: float = Field(ge=0, le=1, description="share of samples given a coarse trimap")
    texture_share: float = Field(ge=0, le=1, description="share of samples over a procedural texture")
    band_fraction: list[float] = Field(min_length=2, max_length=2, description="generated-trimap band widths")
    loss_alpha: float = Field(ge=0)
    loss_composition: float = Field(ge=0)
    loss_foreground: float = Field(ge=0)
    loss_trimap: float = Field(ge=0)
    loss_gradient: float = Field(ge=0)
    adversarial_weight: float = Field(ge=0, description="WGAN-GP term; 0 disables the critic")
    checkpoint_every: int = Field(ge=1)
    threads: int = Field(ge=1, le=256, description="torch CPU threads")

    @model_validator(mode="after")
    def _crop_divides(self) -> TrainMattingParams:
        if self.crop % 2 ** (len(self.widths) - 1):
            raise ValueError(f"crop must be a multiple of {2 ** (len(self.widths) - 1)} for {len(self.widths)} levels")
        return self


class EvaluateMattingParams(Section):
    closed_form: bool = Field(description="also run closed-form matting (pymatting) as the classical baseline")
    max_images: int = Field(ge=1, description="test images evaluated (the first ones, in manifest order)")
    grid_rows: int = Field(ge=1, le=64, description="test images shown in the report grid")


class RelightTrainParams(Section):
    """What the three relighting training stages share."""

    widths: list[int] = Field(min_length=2, max_length=8, description="U-Net encoder widths (published: 32, 64, 128, 256, 512, 512)")
    bottleneck: int = Field(ge=1, le=4096, description="U-Net bottleneck width (published: 512)")
    norm: bool = Field(description="group normalisation in the U-Net (converges faster on a CPU budget; the paper names none)")
    steps: int = Field(ge=1, le=10_000_000)
    batch: int = Field(ge=1, le=1024)
    crop: int = Field(ge=8, le=4096, description="square training crops (fully convolutional nets; evaluation uses whole images)")
    learning_rate: float = Field(gt=0, le=1)
    checkpoint_every: int = Field(ge=1)
    threads: int = Field(ge=1, le=256, description="torch CPU threads")

    @model_validator(mode="after")
    def _crop_divides(self):
        if self.crop % 2 ** len(self.widths):
            raise ValueError(f"crop must be a multiple of {2 ** len(self.widths)} for {len(self.widths)} U-Net levels")
        return self


Intrinsics = Literal["predicted", "true"]


class TrainGeometryParams(RelightTrainParams):
    loss_l1: float = Field(ge=0, description="L1 on normals")
    loss_angular: float = Field(ge=0, description="mean angle (radians) between predicted and true normals")


class TrainAlbedoParams(RelightTrainParams):
    normals: Intrinsics = Field(description="normals the Albedo Net trains on: the Geometry Net's (what inference feeds) or the true ones")
    loss_l1: float = Field(ge=0)
    loss_gradient: float = Field(ge=0, description="multi-scale gradient L1, our stand-in for the VGG perceptual term")


class TrainShadingParams(RelightTrainParams):
    specular_widths: list[int] = Field(min_length=2, max_length=8, description="Specular Net encoder (published: 8 ... 256)")
    specular_bottleneck: int = Field(ge=1, le=4096, description="Specular Net bottleneck (published: 256)")
    renderer_output: Literal["direct", "residual"] = Field(
        description="direct: the Neural Renderer outputs the relit image (published); residual: adds to albedo x diffuse map")
    intrinsics: Intrinsics = Field(description="normals and albedo it trains on: predicted by the trained nets (what inference feeds) or true")
    loss_l1: float = Field(ge=0)
    loss_specular: float = Field(ge=0, description="L1 weighted by the luminance of S_hat (highlights)")
    loss_gradient: float = Field(ge=0, description="multi-scale gradient L1, our stand-in for the VGG perceptual term")
    adversarial_weight: float = Field(ge=0, description="WGAN-GP term (critic without sigmoid, penalty 10); 0 disables the critic")

    @model_validator(mode="after")
    def _specular_crop_divides(self):
        if self.crop % 2 ** len(self.specular_widths):
            raise ValueError(f"crop must be a multiple of {2 ** len(self.specular_widths)} for the Specular Net's levels")
        return self


class EvaluateRelightingParams(Section):
    max_cases: int = Field(ge=1, description="test pairs evaluated (the first ones, in manifest order), each in both directions")
    grid_rows: int = Field(ge=1, le=64, description="test cases shown in the report grid")
    temporal_frames: int = Field(ge=3, le=4096, description="K: frames of the map's 360-degree turn (must divide the light-map width)")
    exposure_median: float = Field(gt=0, le=1, description="pictures are compared exposed so the subject's median luminance is this")


class FlowParams(Section):
    retries: int = Field(ge=0, le=10, description="retries of a failed stage task")
    retry_delay_s: float = Field(ge=0, le=3600, description="seconds between retries")
    max_workers: int = Field(ge=1, le=64, description="stages run at once on independent branches")


# Every section params.yaml may hold besides ``base`` and ``profiles``.
SECTIONS: dict[str, type[Section]] = {
    "synth": SynthParams,
    "lightmaps": LightmapsParams,
    "relight": RelightParams,
    "trimaps": TrimapsParams,
    "train_matting": TrainMattingParams,
    "evaluate_matting": EvaluateMattingParams,
    "train_geometry": TrainGeometryParams,
    "train_albedo": TrainAlbedoParams,
    "train_shading": TrainShadingParams,
    "evaluate_relighting": EvaluateRelightingParams,
    "flow": FlowParams,
}


@dataclass(frozen=True)
class Params:
    """Validated params with the active profile applied."""

    path: Path
    base: BaseParams
    sections: dict[str, Section]

    def section(self, name: str) -> Section:
        return self.sections[name]

    def stage_keys(self, name: str) -> list[str]:
        """The params.yaml keys a stage reading section ``name`` depends on (for dvc.yaml)."""
        return ["base", name] + [f"profiles.{p}.{name}" for p in PROFILES]


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate the whole params file; raise ``ConfigError`` on the first problem."""
    path = Path(path)
    raw = _read_yaml(path)
    known = {"base", "profiles", *SECTIONS}
    for key in raw:
        if key not in known:
            raise ConfigError(f"{path}: {key}: unknown section (known: {', '.join(sorted(known))})")
    base = _validate(path, BaseParams, raw.get("base"), "base", {})
    profiles = raw.get("profiles") or {}
    _check_mapping(path, profiles, "profiles")
    for profile, overrides in profiles.items():
        if profile not in PROFILES:
            raise ConfigError(f"{path}: profiles.{profile}: unknown profile (known: {', '.join(PROFILES)})")
        _check_mapping(path, overrides or {}, f"profiles.{profile}")
        for name in overrides or {}:
            if name not in SECTIONS:
                raise ConfigError(f"{path}: profiles.{profile}.{name}: unknown section")
    sections = {}
    for name, model in SECTIONS.items():
        # Every profile must validate, not only the active one: a typo in `paper`
        # should fail on a laptop, not on the GPU machine a week later.
        for profile in PROFILES:
            overrides = (profiles.get(profile) or {}).get(name) or {}
            resolved = _validate(path, model, raw.get(name), name, overrides, profile)
            if profile == base.profile:
                sections[name] = resolved
    return Params(path=path, base=base, sections=sections)


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path}: params file not found")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from err
    _check_mapping(path, raw, "(top level)")
    return raw


def _check_mapping(path: Path, value: Any, key: str) -> None:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: {key}: expected a mapping, got {type(value).__name__}")


def _validate(
    path: Path, model: type[Section], values: Any, name: str, overrides: dict, profile: str | None = None
) -> Section:
    if values is None:
        raise ConfigError(f"{path}: {name}: section missing")
    _check_mapping(path, values, name)
    _check_mapping(path, overrides, f"profiles.{profile}.{name}")
    merged = {**values, **overrides}
    try:
        return model.model_validate(merged)
    except ValidationError as err:
        problem = err.errors()[0]
        field = ".".join(str(part) for part in problem["loc"])
        where = f"profiles.{profile}.{name}" if field and field.split(".")[0] in overrides else name
        key = f"{where}.{field}" if field else where
        given = f" (got {problem['input']!r})" if field and "input" in problem else ""
        raise ConfigError(f"{path}: {key}: {problem['msg']}{given}") from err


def flatten(section: BaseModel, prefix: str) -> dict[str, Any]:
    """``{"synth.subjects": 8, ...}``: a section as flat key-value pairs (for MLflow params)."""
    return {f"{prefix}.{key}": value for key, value in section.model_dump().items()}
