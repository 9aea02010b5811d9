"""The relighting module: samples, training and the inference chain (the networks live in pipeline.models.relighting)."""
