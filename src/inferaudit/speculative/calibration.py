"""What a CPU model server times about itself at start, kept in a file so that another start can reuse it.

The verify cost ``CostAwareK`` weighs drafts by (``policy.VerifyCost``) and,
where PyTorch has no oneDNN, the transformers backend's products plan
(``backends.gemm``) are timed at start: seconds each, and on a shared machine
never quite the same twice (two servers started one after the other on 2 cores
chose different forms for four of five weight shapes and measured v(3) = 1.21
and 1.53 after 106 tokens). Servers
compared side by side should run one plan and weigh drafts alike: one writes
its calibration (``serve-model --save-calibration FILE``), the others read it
(``--calibration FILE``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .backends.gemm import FORMS, plans_from_json, plans_to_json, unknown_forms
from .policy import VerifyCost


@dataclass
class Calibration:
    gemm_plans: dict[tuple[int, int], dict[int, str]] | None = None  # None: not measured (or not a transformers server)
    verify_cost: VerifyCost | None = None  # None: not measured (no --cost-aware)

    def to_json(self) -> dict[str, Any]:
        return {"gemm_plans": plans_to_json(self.gemm_plans) if self.gemm_plans is not None else None,
                "verify_cost": self.verify_cost.as_dict() if self.verify_cost is not None else None}

    @classmethod
    def from_json(cls, data: Any) -> Calibration:
        try:
            plans, cost = data["gemm_plans"], data["verify_cost"]
        except (TypeError, KeyError, IndexError):
            raise ValueError("a calibration is a JSON object with gemm_plans and verify_cost") from None
        plans = plans_from_json(plans) if plans is not None else None
        missing = unknown_forms(plans or {})
        if missing:  # e.g. written where PyTorch has oneDNN, read where it has not
            raise ValueError(f"its products plan uses {', '.join(missing)}, which this PyTorch lacks "
                             f"(it has {', '.join(FORMS)})")
        return cls(plans, VerifyCost.from_dict(cost) if cost is not None else None)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n")

    @classmethod
    def read(cls, path: Path) -> Calibration:
        """The calibration in ``path``; a ValueError that names the file when it cannot be read."""
        try:
            return cls.from_json(json.loads(path.read_text()))
        except OSError as exc:
            raise ValueError(f"{path}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise ValueError(f"{path}: not a calibration written by --save-calibration ({exc})") from None
