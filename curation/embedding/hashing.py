"""A deterministic embedder without a model: signed feature hashing of a text's words and word bigrams into 384
dimensions, L2-normalised (model key :data:`curation.core.keys.HASH_MODEL`, alias ``hash``).

Texts that share words get similar vectors, so neighbours, duplicates, clusters and selections behave sensibly on
it, but it knows nothing of meaning (synonyms are unrelated). It is for tests and plumbing that do not measure
embedding quality: the same text gives the same vector in every process and on every machine (MurmurHash3 via
scikit-learn's HashingVectorizer), with no model to load. Cost: O(total characters); ~tens of thousands of texts/s.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DIM = 384


class HashEmbedder:
    """The subset of the SentenceTransformer interface the pipeline uses. CPU only."""

    device = "cpu"

    def __init__(self, dim: int = DIM) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        self.dim = int(dim)
        self._vec = HashingVectorizer(n_features=self.dim, ngram_range=(1, 2), alternate_sign=True, norm=None,
                                      lowercase=True, token_pattern=r"(?u)\b\w+\b", dtype=np.float32)

    def get_sentence_embedding_dimension(self) -> int:
        return self.dim

    def encode(self, texts: Sequence[str], batch_size: int = 1024, convert_to_numpy: bool = True,
               normalize_embeddings: bool = True, show_progress_bar: bool = False) -> np.ndarray:
        """(n, 384) float32, L2-normalised; a text without a word gets a fixed unit vector (never zero)."""
        v = np.asarray(self._vec.transform(list(texts)).toarray(), dtype=np.float32)
        n = np.linalg.norm(v, axis=1, keepdims=True)
        empty = (n[:, 0] == 0)
        if empty.any():
            v[empty, 0], n[empty] = 1.0, 1.0
        return v / n if normalize_embeddings else v
