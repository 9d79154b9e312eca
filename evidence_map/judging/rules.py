"""The grading rules as data (rules/grading.yaml): thresholds, the verdict scale and its order.

The engine, the methods page, the condition pages and the chart legends all read one `Rules`
object, so a threshold is written in one place only. Nothing here decides a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from evidence_map.paths import ROOT

RULES_FILE = ROOT / "rules" / "grading.yaml"
THRESHOLDS = (
    "smd_large",
    "smd_meaningful",
    "p_high",
    "p_significant",
    "i2_limit",
    "reviews_for_high",
    "smd_implausible",
)


@dataclass(frozen=True)
class Level:
    label: str
    when: str
    means: str


@dataclass(frozen=True)
class SecondCriteria:
    """The thresholds of the umbrella-review evidence classes shown beside the verdicts (classes.py)."""

    cases_min: int
    p_class_ii: float
    p_class_iii: float
    p_class_iv: float
    i2_class_i: float


@dataclass(frozen=True)
class CertaintyRules:
    """The certainty rating's settings (rules/grading.yaml, `certainty`): read by certainty.py."""

    levels: tuple[str, ...] = ("high", "moderate", "low", "very low")
    rob_acceptable: tuple[str, ...] = ("low", "low-moderate")
    rob_very_serious: tuple[str, ...] = ("high",)
    i2_serious: float = 50.0
    k_min: int = 10
    downgrade_untested_bias: bool = True
    indirectness: str = ""


@dataclass(frozen=True)
class Rules:
    smd_large: float
    smd_meaningful: float
    p_high: float
    p_significant: float
    i2_limit: float
    reviews_for_high: int
    smd_implausible: float
    scale: tuple[Level, ...]
    order: tuple[str, ...]
    second: SecondCriteria
    robust_i2: tuple[float, ...] = ()
    robust_smd_shift: float = 0.0
    certainty: CertaintyRules = CertaintyRules()
    i2_range_end: str = "max"  # which end of a published I² range the rules read ("max": the cautious one)
    robust_i2_range_end: tuple[str, ...] = ()

    @property
    def labels(self) -> tuple[str, ...]:
        """The verdicts from the strongest evidence to the weakest."""
        return tuple(level.label for level in self.scale)

    def values(self) -> dict[str, str]:
        return {name: fmt(getattr(self, name)) for name in THRESHOLDS}

    def when(self, label: str) -> str:
        """The rule for a verdict in plain words, thresholds filled in."""
        return self.level(label).when.format(**self.values())

    def level(self, label: str) -> Level:
        for level in self.scale:
            if level.label == label:
                return level
        raise KeyError(f"not a verdict: {label!r}")

    def rank(self, label: str) -> int:
        """1 for the strongest verdict."""
        return self.labels.index(label) + 1


def variants(rules: Rules) -> list[tuple[str, Rules]]:
    """The thresholds moved one way at a time, for the robustness check: (what moved, the rules)."""
    out = [(f"I² cut-off {fmt(x)}%", replace(rules, i2_limit=x)) for x in rules.robust_i2 if x != rules.i2_limit]
    for end in rules.robust_i2_range_end:
        if end != rules.i2_range_end:
            word = "lowest" if end == "min" else "highest"
            out.append((f"I² ranges read at their {word} value", replace(rules, i2_range_end=end)))
    d = rules.robust_smd_shift
    if d:
        for sign, word in ((-1, "lowered"), (1, "raised")):
            moved = replace(rules, smd_large=rules.smd_large + sign * d, smd_meaningful=rules.smd_meaningful + sign * d)
            large, meaningful = fmt(moved.smd_large), fmt(moved.smd_meaningful)
            out.append((f"SMD cut-offs {word} by {fmt(d)} (large above {large}, meaningful from {meaningful})", moved))
    return out


def fmt(value: float) -> str:
    """A threshold as people write it: 70, not 70.0; 0.01 as it is."""
    return f"{value:g}"


def rules_from(data: dict[str, Any]) -> Rules:
    t = data["thresholds"]
    missing = [name for name in THRESHOLDS if name not in t]
    if missing:
        raise ValueError(f"rules file: thresholds lack {', '.join(missing)}")
    scale = tuple(Level(str(s["label"]), " ".join(str(s["when"]).split()), str(s["means"])) for s in data["scale"])
    order = tuple(str(x) for x in data["order"])
    c = data["second_criteria"]
    if sorted(order) != sorted(level.label for level in scale):
        raise ValueError("rules file: `order` must name every verdict of `scale` once")
    return Rules(
        smd_large=float(t["smd_large"]),
        smd_meaningful=float(t["smd_meaningful"]),
        p_high=float(t["p_high"]),
        p_significant=float(t["p_significant"]),
        i2_limit=float(t["i2_limit"]),
        reviews_for_high=int(t["reviews_for_high"]),
        smd_implausible=float(t["smd_implausible"]),
        scale=scale,
        order=order,
        second=SecondCriteria(
            cases_min=int(c["cases_min"]),
            p_class_ii=float(c["p_class_ii"]),
            p_class_iii=float(c["p_class_iii"]),
            p_class_iv=float(c["p_class_iv"]),
            i2_class_i=float(c["i2_class_i"]),
        ),
        robust_i2=tuple(float(x) for x in data.get("robustness", {}).get("i2_limit", ())),
        robust_smd_shift=float(data.get("robustness", {}).get("smd_shift", 0.0)),
        i2_range_end=_range_end(data.get("assumptions", {}).get("i2_range_end", "max")),
        certainty=_certainty(data.get("certainty")),
        robust_i2_range_end=tuple(_range_end(x) for x in data.get("robustness", {}).get("i2_range_end", ())),
    )


def _certainty(data: Any) -> CertaintyRules:
    if not data:
        return CertaintyRules()
    levels = tuple(str(x) for x in data["levels"])
    if len(levels) != 4:
        raise ValueError("rules file: certainty.levels must name four levels, highest first")
    return CertaintyRules(
        levels=levels,
        rob_acceptable=tuple(str(x) for x in data["risk_of_bias"]["acceptable"]),
        rob_very_serious=tuple(str(x) for x in data["risk_of_bias"].get("very_serious", ())),
        i2_serious=float(data["inconsistency"]["i2_serious"]),
        k_min=int(data["imprecision"]["k_min"]),
        downgrade_untested_bias=bool(data["publication_bias"]["downgrade_when_untested"]),
        indirectness=" ".join(str(data.get("indirectness", "")).split()),
    )


def _range_end(value: Any) -> str:
    if value not in ("min", "max"):
        raise ValueError(f"rules file: an I² range end must be min or max, not {value!r}")
    return str(value)


@cache
def load_rules(path: Path = RULES_FILE) -> Rules:
    with open(path, encoding="utf-8") as fh:
        return rules_from(yaml.safe_load(fh))
