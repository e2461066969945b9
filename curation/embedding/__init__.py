"""Vectors: the embedding step, the cross-workspace cache, imported vectors and the static first-look model."""
