"""The price book: USD per million tokens by (provider, model, date), per bucket.

Prices come from the maintained ``genai-prices`` library; a user override
file (``--prices FILE``, YAML or JSON) adds models it lacks or replaces its
prices with negotiated rates. A model neither knows is *unpriced*: it is
reported with its token totals, never priced at zero.

Long-context tiers follow the providers' cliff rule (as genai-prices does):
when a call's whole prompt (input + cache reads + cache writes) exceeds a
tier's threshold, every token of that call is billed at the tier's rates.
A bucket without its own price is billed at the input rate (a model without
cache pricing bills cached prompt tokens as plain input), except the 1-hour
cache write, which falls back to the 5-minute write price.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from .usage import Tokens

PRICED = ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output")
_GENAI_KEYS = {
    "input": "input_mtok",
    "cache_read": "cache_read_mtok",
    "cache_write_5m": "cache_write_mtok",
    "cache_write_1h": "cache_write_1h_mtok",
    "output": "output_mtok",
}


class PriceFileError(ValueError):
    """The override file cannot be used; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class Rates:
    """USD per million tokens for each bucket, for calls whose prompt is above ``above`` tokens."""

    input: float
    cache_read: float
    cache_write_5m: float
    cache_write_1h: float
    output: float
    above: int = -1  # the base tier applies to every prompt size

    def cost(self, tokens: Tokens) -> float:
        return sum(getattr(tokens, b) * getattr(self, b) for b in PRICED) / 1_000_000

    def cost_by_bucket(self, tokens: Tokens) -> dict[str, float]:
        return {b: getattr(tokens, b) * getattr(self, b) / 1_000_000 for b in PRICED}


@dataclass(frozen=True, slots=True)
class ModelRates:
    """Every tier of one model's prices on one day, lowest threshold first."""

    provider: str | None
    model: str
    tiers: tuple[Rates, ...]
    origin: str  # "genai-prices 0.2.3" or the override file

    def for_prompt(self, prompt: int) -> Rates:
        chosen = self.tiers[0]
        for tier in self.tiers:
            if prompt > tier.above:
                chosen = tier
        return chosen

    def cost(self, tokens: Tokens) -> float:
        return self.for_prompt(tokens.prompt).cost(tokens)


@dataclass
class _Override:
    model: str
    provider: str | None
    tiers: tuple[Rates, ...]
    valid_from: date | None = None
    valid_until: date | None = None

    def matches(self, provider: str | None, model: str, day: date) -> bool:
        if self.provider and provider and self.provider != provider:
            return False
        if not fnmatch.fnmatchcase(model, self.model):
            return False
        if self.valid_from and day < self.valid_from:
            return False
        return not (self.valid_until and day > self.valid_until)


@dataclass
class PriceBook:
    """Looks up a model's rates; caches per (provider, model, day)."""

    overrides: list[_Override] = field(default_factory=list)
    override_file: str | None = None
    use_library: bool = True
    _cache: dict[tuple[str | None, str, date], ModelRates | None] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: str | Path | None = None) -> PriceBook:
        """The library's prices, with the overrides in ``path`` (YAML or JSON) on top."""
        if path is None:
            return cls()
        return cls(overrides=_read_overrides(Path(path)), override_file=str(path))

    def fingerprint(self) -> str:
        """Changes whenever the prices could: library version, override file contents, today's date."""
        import hashlib

        from importlib.metadata import version

        parts = [version("genai-prices"), str(_day(None))]
        if self.override_file:
            parts.append(hashlib.sha1(Path(self.override_file).read_bytes()).hexdigest())
        return ":".join(parts)

    def rates(self, provider: str | None, model: str | None, when: datetime | date | None = None) -> ModelRates | None:
        """The model's prices on ``when`` (default: today), or None when unpriced."""
        if not model:
            return None
        day = _day(when)
        key = (provider, model, day)
        if key not in self._cache:
            self._cache[key] = self._lookup(provider, model, day)
        return self._cache[key]

    def cost(self, provider: str | None, model: str | None, tokens: Tokens, when: datetime | date | None = None) -> float | None:
        rates = self.rates(provider, model, when)
        return None if rates is None else rates.cost(tokens)

    def batch_rates(self, provider: str | None, model: str | None, when: datetime | date | None = None) -> ModelRates | None:
        """The model's batch-processing prices on ``when`` (default: today), or None where none is known.

        Only genai-prices carries batch prices; a model priced by the override
        file has none (its negotiated rates may not apply to batches).
        """
        if not model:
            return None
        day = _day(when)
        if any(o.matches(provider, model, day) for o in self.overrides) or not self.use_library:
            return None
        return _from_genai_prices(provider, model, day, processing="batch")

    def _lookup(self, provider: str | None, model: str, day: date) -> ModelRates | None:
        for override in self.overrides:
            if override.matches(provider, model, day):
                return ModelRates(provider, model, override.tiers, f"override {self.override_file}")
        if not self.use_library:
            return None
        return _from_genai_prices(provider, model, day)


def _day(when: datetime | date | None) -> date:
    if when is None:
        return datetime.now(timezone.utc).date()
    if isinstance(when, datetime):
        return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).date()
    return when


_MODELS: dict[tuple[str | None, str], Any] = {}  # (provider, model) -> (genai ModelInfo, provider id) or None


def _genai_model(provider: str | None, model: str) -> Any:
    """Find the model once; its prices by date are then read without another lookup."""
    key = (provider, model)
    if key not in _MODELS:
        import genai_prices  # lazily: its data snapshot takes a moment to load

        found = None
        for provider_id in ([provider, None] if provider else [None]):
            try:
                calc = genai_prices.calc_price(genai_prices.Usage(input_tokens=0), model, provider_id=provider_id)
            except LookupError:
                continue  # the source guessed the provider wrong (a proxy, a reseller): try the model alone
            found = (calc.model, calc.provider.id)
            break
        _MODELS[key] = found
    return _MODELS[key]


def _from_genai_prices(provider: str | None, model: str, day: date, processing: str | None = None) -> ModelRates | None:
    import genai_prices

    found = _genai_model(provider, model)
    if found is None:
        return None
    info, provider_id = found
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)
    if processing is None:
        price = info.get_prices(noon)
    else:
        context = {"processing": processing}
        active = [v for v in info.price_variants or () if v.when == context
                  and (v.constraint is None or v.constraint.active(noon))]
        if not active:
            return None  # genai-prices knows no such price for this model on this day
        price = info.get_prices(noon, context)
    values = {bucket: getattr(price, key, None) for bucket, key in _GENAI_KEYS.items()}
    if values["input"] is None and values["output"] is None:
        return None
    starts = sorted({t.start for v in values.values() if hasattr(v, "tiers") for t in v.tiers})
    tiers = tuple(_tier(values, above) for above in [-1, *starts])
    origin = f"genai-prices {genai_prices.__version__}: {provider_id}/{info.id}" + (f" ({processing})" if processing else "")
    return ModelRates(provider, model, tiers, origin)


def _tier(values: dict[str, Any], above: int) -> Rates:
    def at(value: Any) -> float | None:
        if value is None:
            return None
        if hasattr(value, "tiers"):
            chosen = value.base
            for tier in value.tiers:
                if above >= tier.start:
                    chosen = tier.price
            return float(chosen)
        return float(Decimal(value))

    resolved = {bucket: at(v) for bucket, v in values.items()}
    return _complete(resolved, above)


def _complete(resolved: dict[str, float | None], above: int) -> Rates:
    base = resolved.get("input") or 0.0
    w5 = resolved.get("cache_write_5m")
    w5 = base if w5 is None else w5
    w1 = resolved.get("cache_write_1h")
    cache_read = resolved.get("cache_read")
    output = resolved.get("output")
    return Rates(
        input=base,
        cache_read=base if cache_read is None else cache_read,
        cache_write_5m=w5,
        cache_write_1h=w5 if w1 is None else w1,
        output=0.0 if output is None else output,
        above=above,
    )


def _read_overrides(path: Path) -> list[_Override]:
    import yaml

    try:
        doc = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise PriceFileError(f"{path}: cannot read price file: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise PriceFileError(f"{path}: not valid YAML or JSON: {exc}") from None
    entries = doc.get("models") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise PriceFileError(f"{path}: expected a top-level 'models:' list")
    return [_parse_entry(path, i, entry) for i, entry in enumerate(entries, 1)]


def _parse_entry(path: Path, index: int, entry: Any) -> _Override:
    where = f"{path}: models[{index}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("model"), str):
        raise PriceFileError(f"{where}: each entry needs a 'model' (a name or a glob pattern)")
    known = {"model", "provider", "tiers", "from", "until", *PRICED}
    unknown = set(entry) - known
    if unknown:
        raise PriceFileError(f"{where}: unknown field(s) {sorted(unknown)}; known: {sorted(known)}")
    if not isinstance(entry.get("input"), (int, float)):
        raise PriceFileError(f"{where} ({entry['model']}): 'input' (USD per million tokens) is required")
    base = {b: _price(where, b, entry.get(b)) for b in PRICED}
    tiers = [_complete(base, -1)]
    for tier in entry.get("tiers") or []:
        if not isinstance(tier, dict) or not isinstance(tier.get("above"), int):
            raise PriceFileError(f"{where}: each tier needs 'above' (prompt tokens, an integer)")
        merged = {b: _price(where, b, tier.get(b, base[b])) for b in PRICED}
        tiers.append(_complete(merged, tier["above"]))
    tiers.sort(key=lambda r: r.above)
    return _Override(
        model=entry["model"],
        provider=entry.get("provider"),
        tiers=tuple(tiers),
        valid_from=_date(where, entry.get("from")),
        valid_until=_date(where, entry.get("until")),
    )


def _price(where: str, bucket: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise PriceFileError(f"{where}: {bucket} must be a non-negative number (USD per million tokens), got {value!r}")
    return float(value)


def _date(where: str, value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise PriceFileError(f"{where}: dates are YYYY-MM-DD, got {value!r}") from None
