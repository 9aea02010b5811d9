"""Models: each an nn.Module with a typed config beside it."""
