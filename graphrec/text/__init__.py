"""Text side information: profiles composed from node metadata and their sentence embeddings.

Used by RLMRec (Ren et al., WWW 2024; :mod:`graphrec.models.rlmrec`). The encoder is optional
(``pip install graphrec[text]``); a dependency-free hashing encoder is built in.
"""

from .encode import DEFAULT_MODEL, default_cache_dir, encode_texts, hashing_encoder, text_cache_key
from .profiles import (
    age_band,
    build_profiles,
    favourite_categories,
    item_categories,
    item_profiles,
    top_items,
    user_profiles,
)

__all__ = [
    "DEFAULT_MODEL",
    "age_band",
    "build_profiles",
    "default_cache_dir",
    "encode_texts",
    "favourite_categories",
    "hashing_encoder",
    "item_categories",
    "item_profiles",
    "text_cache_key",
    "top_items",
    "user_profiles",
]
