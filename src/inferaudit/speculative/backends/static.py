"""A static-KV-cache decoder for Llama-architecture models, replayable as CUDA graphs.

Eager transformers on a GPU spends most of a small-batch decode step
launching kernels (an 8B step measured 9x its memory-bandwidth floor).
This decoder keeps the model's own modules (norms, projections, MLP, LM
head: the same weights, the same arithmetic) and replaces only the cache:
one preallocated K and V tensor per layer, ``[batch, kv_heads, max_len,
head_dim]``, written in place at each row's own positions. Every shape is
fixed for a given (batch, tokens per feed), so a step is captured once as
a CUDA graph and replayed, one launch for the whole forward pass.

Rolling back after rejected drafts is free: a row's length is lowered and
the positions past it are masked until they are written again. Rows of a
batch advance independently (each has its own length), which is what
batched speculative decoding needs.
"""

from __future__ import annotations

from typing import Any, Iterable

SUPPORTED = ("llama",)


class StaticLlama:
    """``forward(tokens [B, q])`` -> logits ``[B, q, vocab]``, writing K/V at ``lengths[b] + i``.

    ``lengths`` is a device tensor the caller moves (``advance``, ``set_lengths``);
    ``forward`` itself never changes it, so a verify pass can be rolled back.
    """

    def __init__(self, model: Any, batch: int = 1, max_len: int = 2048):
        import torch

        cfg = model.config
        if getattr(cfg, "model_type", None) not in SUPPORTED:
            raise ValueError(f"the static decoder supports {', '.join(SUPPORTED)} models, not {cfg.model_type!r}")
        param = next(model.parameters())
        self.model, self.device, self.dtype = model, param.device, param.dtype
        self.batch, self.max_len = batch, max_len
        self.n_heads, self.n_kv = cfg.num_attention_heads, cfg.num_key_value_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        self.groups = self.n_heads // self.n_kv
        layers = model.model.layers
        shape = (batch, self.n_kv, max_len, self.head_dim)
        self.k = [torch.zeros(shape, dtype=self.dtype, device=self.device) for _ in layers]
        self.v = [torch.zeros(shape, dtype=self.dtype, device=self.device) for _ in layers]
        self.lengths = torch.zeros(batch, dtype=torch.long, device=self.device)
        self.positions = torch.arange(max_len, device=self.device)
        self.rows = torch.arange(batch, device=self.device)[:, None, None]
        self.kv_heads = torch.arange(self.n_kv, device=self.device)[None, :, None]
        with torch.inference_mode():
            probe = torch.zeros(1, 1, self.head_dim, dtype=self.dtype, device=self.device)
            cos, sin = model.model.rotary_emb(probe, self.positions[None])
        self.cos, self.sin = cos[0], sin[0]
        self.graphs: dict[int, tuple[Any, Any, Any]] = {}

    def forward(self, tokens):
        """Logits after each of ``tokens`` (a [batch, q] long tensor), caching their K/V; ``lengths`` unchanged."""
        graph = self.graphs.get(tokens.shape[1])
        if graph is not None:
            g, static_in, static_out = graph
            static_in.copy_(tokens)
            g.replay()
            return static_out
        return self._forward(tokens)

    def advance(self, counts) -> None:
        """Move each row's length forward by ``counts`` (an int or a [batch] tensor)."""
        self.lengths += counts

    def set_lengths(self, lengths) -> None:
        self.lengths.copy_(lengths) if hasattr(lengths, "shape") else self.lengths.fill_(int(lengths))

    def capture(self, sizes: Iterable[int]) -> None:
        """Record one CUDA graph per feed size (tokens per row per step); CUDA only."""
        import torch

        if self.device.type != "cuda":
            raise ValueError("CUDA graphs need a CUDA device")
        saved = self.lengths.clone()
        self.lengths.zero_()  # warm-up and capture write at positions 0..q-1: masked until rewritten
        with torch.inference_mode():
            for q in sizes:
                if q in self.graphs:
                    continue
                static_in = torch.zeros(self.batch, q, dtype=torch.long, device=self.device)
                side = torch.cuda.Stream()
                side.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(side):
                    for _ in range(2):
                        self._forward(static_in)
                torch.cuda.current_stream().wait_stream(side)
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph):
                    static_out = self._forward(static_in)
                self.graphs[q] = (graph, static_in, static_out)
        self.lengths.copy_(saved)

    def _forward(self, tokens):
        import torch
        import torch.nn.functional as F

        batch, q = tokens.shape
        pos = self.lengths[:, None] + self.positions[:q]  # [B, q]
        cos, sin = self.cos[pos].unsqueeze(1), self.sin[pos].unsqueeze(1)  # [B, 1, q, hd]
        # query heads grouped under their KV head: [B, kv, groups * q, hd], rows ordered (group, token)
        visible = (self.positions[None, None, :] <= pos[:, :, None]).repeat(1, self.groups, 1)[:, None]
        write = (self.rows, self.kv_heads, pos[:, None, :])
        inner = self.model.model
        with torch.inference_mode():
            h = inner.embed_tokens(tokens)
            for i, layer in enumerate(inner.layers):
                attn = layer.self_attn
                x = layer.input_layernorm(h)
                qh = attn.q_proj(x).view(batch, q, self.n_heads, self.head_dim).transpose(1, 2)
                kh = attn.k_proj(x).view(batch, q, self.n_kv, self.head_dim).transpose(1, 2)
                vh = attn.v_proj(x).view(batch, q, self.n_kv, self.head_dim).transpose(1, 2)
                qh, kh = _rope(qh, cos, sin), _rope(kh, cos, sin)
                self.k[i].index_put_(write, kh)
                self.v[i].index_put_(write, vh)
                grouped = qh.reshape(batch, self.n_kv, self.groups * q, self.head_dim)
                out = F.scaled_dot_product_attention(grouped, self.k[i], self.v[i], attn_mask=visible, scale=attn.scaling)
                out = out.reshape(batch, self.n_heads, q, self.head_dim).transpose(1, 2).reshape(batch, q, -1)
                h = h + attn.o_proj(out)
                h = h + layer.mlp(layer.post_attention_layernorm(h))
            return self.model.lm_head(inner.norm(h))


def _rope(x, cos, sin):
    import torch

    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


class StaticBackend:
    """The engine's ``Backend`` for one sequence on a :class:`StaticLlama`; CUDA graphs for the given feed sizes."""

    def __init__(self, model: Any, max_len: int = 2048, graphs: Iterable[int] = (), name: str = "static"):
        self.llama = StaticLlama(model, batch=1, max_len=max_len)
        self.name, self.device = name, str(self.llama.device)
        self.n = 0
        if graphs:
            self.llama.capture(graphs)

    @property
    def cached(self) -> int:
        return self.n

    def reset(self) -> None:
        self.n = 0
        self.llama.set_lengths(0)

    def feed(self, tokens: list[int], logits_from: int = 0):
        import torch

        if self.n + len(tokens) > self.llama.max_len:
            raise ValueError(f"the sequence would reach {self.n + len(tokens)} tokens: over max_len {self.llama.max_len}")
        logits = self.llama.forward(torch.tensor([tokens], device=self.llama.device))
        self.llama.advance(len(tokens))
        self.n += len(tokens)
        return logits[0, logits_from:] if logits_from < len(tokens) else None

    def trim(self, keep: int) -> None:
        if keep < self.n:
            self.n = keep
            self.llama.set_lengths(keep)
