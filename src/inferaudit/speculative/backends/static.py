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

    def __init__(self, model: Any, batch: int = 1, max_len: int = 2048, compile: bool = False):
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
        self.shape = (self.n_heads, self.n_kv, self.head_dim)
        self.weights = self._fuse()
        # torch.compile fuses each layer's small element-wise kernels (norms, rotary, SiLU): on a GPU a
        # decode step is otherwise bound by kernel count, not by bytes
        if compile:
            import torch._dynamo

            # one compiled layer per (model shape, batch, feed size class); the default limit would fall back to eager
            torch._dynamo.config.cache_size_limit = max(torch._dynamo.config.cache_size_limit, 64)
        self.layer = torch.compile(_layer, fullgraph=True, dynamic=True) if compile else _layer

    def forward(self, tokens):
        """Logits after each of ``tokens`` (a [batch, q] long tensor), caching their K/V; ``lengths`` unchanged."""
        import torch

        graph = self.graphs.get(tokens.shape[1])
        if graph is None:
            return self._forward(tokens)
        g, static_in, static_out = graph
        with torch.inference_mode():  # the graph's buffers were made in inference mode
            static_in.copy_(tokens)
        g.replay()
        return static_out

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

        batch, q = tokens.shape
        pos = self.lengths[:, None] + self.positions[:q]  # [B, q]
        cos, sin = self.cos[pos].unsqueeze(2), self.sin[pos].unsqueeze(2)  # [B, q, 1, hd]
        # query heads grouped under their KV head: [B, kv, groups * q, hd], rows ordered (group, token)
        visible = (self.positions[None, None, :] <= pos[:, :, None]).repeat(1, self.groups, 1)[:, None]
        mask = torch.zeros(visible.shape, dtype=self.dtype, device=self.device).masked_fill_(~visible, float("-inf"))
        write = (self.rows, self.kv_heads, pos[:, None, :])
        inner = self.model.model
        with torch.inference_mode():
            h = inner.embed_tokens(tokens)
            for i, w in enumerate(self.weights):
                h = self.layer(h, w, self.k[i], self.v[i], cos, sin, write, mask, self.shape)
            return self.model.lm_head(inner.norm(h))

    def _fuse(self) -> list[tuple]:
        """Per layer: norms, one QKV matrix, o_proj, one gate+up matrix, down_proj.

        The fused matrices become the model's storage: q/k/v_proj and gate/up_proj are
        re-pointed at views into them, so nothing is held twice.
        """
        import torch

        cached = getattr(self.model, "_inferaudit_fused", None)
        if cached is not None:  # a second decoder over the same model shares the first one's matrices
            return cached
        fused = []
        with torch.no_grad():
            for layer in self.model.model.layers:
                attn, mlp = layer.self_attn, layer.mlp
                qkv = _concat_into([attn.q_proj, attn.k_proj, attn.v_proj])
                gate_up = _concat_into([mlp.gate_proj, mlp.up_proj])
                fused.append((layer.input_layernorm.weight, layer.input_layernorm.variance_epsilon, qkv,
                              (attn.o_proj.weight, attn.o_proj.bias), layer.post_attention_layernorm.weight,
                              layer.post_attention_layernorm.variance_epsilon, gate_up,
                              (mlp.down_proj.weight, mlp.down_proj.bias), attn.scaling))
        self.model._inferaudit_fused = fused
        return fused


def _concat_into(linears) -> tuple:
    """One (weight, bias) for several Linear layers of the same input, their parameters re-pointed into it."""
    import torch

    weight = torch.cat([lin.weight for lin in linears], dim=0)
    has_bias = [lin.bias is not None for lin in linears]
    bias = torch.cat([lin.bias if lin.bias is not None else torch.zeros_like(lin.weight[:, 0]) for lin in linears]) \
        if any(has_bias) else None
    row = 0
    for lin in linears:
        rows = lin.weight.shape[0]
        lin.weight.data = weight[row:row + rows]
        if lin.bias is not None:
            lin.bias.data = bias[row:row + rows]
        row += rows
    return weight, bias


def _layer(h, w, k_cache, v_cache, cos, sin, write, mask, shape):
    """One decoder layer with the static cache: the same arithmetic as transformers' Llama layer."""
    import torch
    import torch.nn.functional as F

    ln1, eps1, (w_qkv, b_qkv), (w_o, b_o), ln2, eps2, (w_gu, b_gu), (w_down, b_down), scale = w
    n_heads, n_kv, head_dim = shape
    batch, q, _ = h.shape
    groups = n_heads // n_kv
    x = ln1 * F.rms_norm(h.float(), (h.shape[-1],), eps=eps1).to(h.dtype)
    qkv = F.linear(x, w_qkv, b_qkv).view(batch, q, n_heads + 2 * n_kv, head_dim)
    qk = qkv[:, :, :n_heads + n_kv]
    half = head_dim // 2
    qk = qk * cos + torch.cat((-qk[..., half:], qk[..., :half]), dim=-1) * sin
    k = qk[:, :, n_heads:].transpose(1, 2)
    v = qkv[:, :, n_heads + n_kv:].transpose(1, 2)
    k_cache.index_put_(write, k)
    v_cache.index_put_(write, v)
    grouped = qk[:, :, :n_heads].reshape(batch, q, n_kv, groups, head_dim).permute(0, 2, 3, 1, 4)
    grouped = grouped.reshape(batch, n_kv, groups * q, head_dim)
    out = F.scaled_dot_product_attention(grouped, k_cache, v_cache, attn_mask=mask, scale=scale)
    out = out.view(batch, n_kv, groups, q, head_dim).permute(0, 3, 1, 2, 4).reshape(batch, q, n_heads * head_dim)
    h = h + F.linear(out, w_o, b_o)
    x = ln2 * F.rms_norm(h.float(), (h.shape[-1],), eps=eps2).to(h.dtype)
    gate, up = F.linear(x, w_gu, b_gu).chunk(2, dim=-1)
    return h + F.linear(F.silu(gate) * up, w_down, b_down)


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
