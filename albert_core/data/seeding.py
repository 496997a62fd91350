"""Random generators derived from (seed, purpose, ...): every random choice in the pipelines is
reproducible from the seed alone and independent of what was read or skipped before it.

Deriving one generator per unit of work (an epoch's shuffle, a document, an example) instead of
drawing from one long-lived generator is what makes `seek` exact and cheap: example k's masking
does not depend on how many random numbers examples 0..k-1 consumed, so skipped examples need no
masking at all.
"""

from __future__ import annotations

import numpy as np

# Purposes: distinct first keys so that, say, document 3's generator never equals example 3's.
FILE_ORDER = 1
DOCUMENT = 2
SHUFFLE = 3
MASKING = 4
EXAMPLE_ORDER = 5
WORKER = 6


def rng_for(seed: int, purpose: int, *keys: int) -> np.random.Generator:
    """A numpy Generator determined by seed, purpose and keys (non-negative ints), on any platform."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(purpose), *(int(k) for k in keys)]))


def worker_seed(seed: int, worker: int) -> int:
    """The seed of data worker `worker` of a run seeded `seed`: worker 0 keeps `seed` itself."""
    if worker == 0:
        return int(seed)
    return int(np.random.SeedSequence([int(seed), WORKER, int(worker)]).generate_state(1)[0] >> 1)


def check_seed(seed) -> int:
    from .errors import DataError

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DataError(f"seed must be a non-negative int, got {seed!r}")
    return int(seed)
