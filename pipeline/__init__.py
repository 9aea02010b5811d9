"""lightstage: a staged pipeline for neural relighting and 3D-aware face generation.

Import direction: ``stages -> pipeline.models -> pipeline.nn / pipeline.render ->
pipeline.light / pipeline.camera -> pipeline.io``. Nothing here imports ``stages``.
"""


class LightstageError(Exception):
    """An error a user can act on: bad params, a missing or corrupt file."""


class ConfigError(LightstageError):
    """params.yaml is invalid: the message names the file and the key."""


class DataError(LightstageError):
    """An input file is missing, corrupt or disagrees with its manifest."""
