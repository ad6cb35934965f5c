"""NumPy's BLAS on the calling thread only, for the whole process.

Why: OpenBLAS starts a thread per core and has it spin after every call. The matrices of a
call's ears are small (a voice print's 256x1024 LSTM step, Whisper's mel filters), so that
thread buys no speed, and its spinning cost a fifth of each call's CPU (``bench/
bench_concurrent.py``): CPU the other calls on the machine need.
"""

from __future__ import annotations

import functools

import numpy as np  # noqa: F401  (loaded first: threadpoolctl limits only loaded libraries)


@functools.cache
def one_blas_thread() -> None:
    """Idempotent; call it where the audio pipeline starts (the analyzer, a replay)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # only CPU is lost
        return
    threadpool_limits(limits=1, user_api="blas")
