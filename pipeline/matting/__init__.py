"""Trimaps and the data side of matting (the network lives in pipeline.models.matting)."""
