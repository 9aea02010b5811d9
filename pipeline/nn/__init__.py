"""Layers, blocks and losses shared by the models."""
