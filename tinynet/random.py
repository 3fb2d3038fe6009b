"""Random numbers: one global generator, seeded by ``manual_seed``.

Everything random in tinynet (``rand``, ``randn``, initialisation, dropout,
shuffling) draws from a :class:`Generator`, by default the global one, so one
``tinynet.manual_seed(s)`` makes a run repeatable. A Generator's state can be
saved and restored, which is how checkpoints resume bit-identically.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Generator", "manual_seed", "default_generator", "get_rng_state", "set_rng_state", "seed"]


class Generator:
    """A seedable source of random numbers (numpy's PCG64 underneath).

    It offers numpy's ``Generator`` methods (``random``, ``standard_normal``,
    ``integers``, ``permutation``, ...) plus PyTorch's ``manual_seed``,
    ``get_state`` and ``set_state``.

    Example:
        >>> import tinynet
        >>> g = tinynet.Generator().manual_seed(0)
        >>> a = g.integers(0, 10, size=3)
        >>> b = tinynet.Generator().manual_seed(0).integers(0, 10, size=3)
        >>> bool((a == b).all())
        True
    """

    def __init__(self, seed: int | None = None):
        self._np = np.random.Generator(np.random.PCG64(None))
        self._seed = None
        if seed is not None:
            self.manual_seed(seed)  # checks the seed (an int >= 0)

    def manual_seed(self, seed: int) -> "Generator":
        """Reset the generator to the stream of ``seed`` (a non-negative int); returns the generator."""
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"manual_seed: seed must be an int, got {seed!r}")
        if seed < 0:
            raise ValueError(f"manual_seed: seed must be non-negative, got {seed}")
        self._np = np.random.Generator(np.random.PCG64(int(seed)))
        self._seed = int(seed)
        return self

    def initial_seed(self):
        """The seed last given (None when seeded from the operating system's entropy)."""
        return self._seed

    def get_state(self) -> dict:
        """The generator's state as a plain dict (JSON-able, checkpointable)."""
        return self._np.bit_generator.state

    def set_state(self, state: dict) -> None:
        """Restore a state returned by ``get_state``."""
        try:
            self._np.bit_generator.state = state
        except (TypeError, ValueError, KeyError) as e:
            raise type(e)(f"set_state: state must be a dict returned by get_state(), got {state!r:.80} ({e})") from None

    def __getattr__(self, name):
        # random, standard_normal, integers, permutation, uniform, normal, ...
        if name.startswith("_"):  # never forward private names (copy and pickle probe them before __init__)
            raise AttributeError(name)
        return getattr(self._np, name)


_default = Generator()


def default_generator() -> Generator:
    """The global generator used when no ``generator`` is passed (seeded by ``tinynet.manual_seed``).

    Example:
        >>> import tinynet
        >>> from tinynet.random import default_generator
        >>> default_generator() is tinynet.manual_seed(0)
        True
    """
    return _default


def resolve_generator(generator, op: str) -> Generator:
    """``generator``, or the global one when it is None; anything else is a TypeError naming ``op``."""
    if generator is None:
        return _default
    if not isinstance(generator, Generator):
        raise TypeError(f"{op}: generator must be a tinynet.Generator or None, got {type(generator).__name__}")
    return generator


def manual_seed(seed: int) -> Generator:
    """Seed the global generator (and return it), as ``torch.manual_seed``.

    Example:
        >>> import tinynet
        >>> _ = tinynet.manual_seed(0); a = tinynet.rand(2)
        >>> _ = tinynet.manual_seed(0); b = tinynet.rand(2)
        >>> bool((a == b).all())
        True
    """
    return _default.manual_seed(seed)


def seed() -> int:
    """Seed the global generator from the operating system's entropy; returns the seed.

    Example:
        >>> import tinynet
        >>> isinstance(tinynet.seed(), int)
        True
    """
    s = int(np.random.SeedSequence().entropy % (2**63))
    _default.manual_seed(s)
    return s


def get_rng_state() -> dict:
    """The global generator's state (a plain dict); ``set_rng_state`` restores it.

    Example:
        >>> import tinynet
        >>> state = tinynet.get_rng_state()
        >>> a = tinynet.rand(2)
        >>> tinynet.set_rng_state(state)
        >>> bool((tinynet.rand(2) == a).all())
        True
    """
    return _default.get_state()


def set_rng_state(state: dict) -> None:
    """Restore the global generator's state from ``get_rng_state``.

    Example:
        >>> import tinynet
        >>> state = tinynet.get_rng_state()
        >>> first = tinynet.randn(2)
        >>> tinynet.set_rng_state(state)
        >>> bool((tinynet.randn(2) == first).all())
        True
    """
    _default.set_state(state)
