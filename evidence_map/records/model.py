"""The validated model: typed, read-only records built from data the validator has accepted.

What a contributor wrote lives here; what the build computes from it (verdicts, charts, pages)
lives in other modules and never writes back into a record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RATIO_MEASURES = frozenset({"HR", "OR", "RR"})


@dataclass(frozen=True)
class Effect:
    outcome: str
    domain: str
    measure: str
    improves: str
    source: str
    estimate: float | None = None  # absent only for a reported non-significant result (significant: false)
    ci_low: float | None = None
    ci_high: float | None = None
    i2: float | None = None
    i2_min: float | None = None  # a range the source gives for this estimate instead of one I²
    i2_max: float | None = None
    p: float | None = None
    p_bound: str = "="
    difference: str = "ev-minus-control"
    condition: str | None = None
    note: str | None = None
    unit: str | None = None  # of a raw difference (WMD, MD): a forest panel never mixes units
    origin: str = "umbrella-review"  # or "original-article", read at origin_url
    origin_url: str | None = None
    significant: bool | None = None  # the source's word on significance, where it prints no p or CI
    k: int | None = None  # studies pooled
    animals: int | None = None
    scope: str = "msc-ev"  # or msc-and-ev, stem-cell-ev, any-cell-ev: only msc-ev counts toward a verdict
    graded: bool = True  # false when another entry gives the same result from a better source
    not_graded_because: str | None = None

    @property
    def counts(self) -> bool:
        """Whether this estimate may feed an MSC-EV verdict (its scope, and not set aside by the record)."""
        return self.scope == "msc-ev" and self.graded

    @property
    def from_original(self) -> bool:
        return self.origin == "original-article"

    @property
    def is_ratio(self) -> bool:
        return self.measure in RATIO_MEASURES

    @property
    def null_value(self) -> float:
        return 1.0 if self.is_ratio else 0.0


@dataclass(frozen=True)
class Subgroup:
    factor: str
    level: str
    finding: str
    source: str


@dataclass(frozen=True)
class Discrepancy:
    kind: str
    field: str
    description: str


@dataclass(frozen=True)
class Record:
    id: str
    path: str  # repository-relative path of the YAML file
    first_author: str
    label: str
    year: int
    journal: str
    n_studies: int
    conditions_reported: tuple[str, ...]
    conditions: tuple[str, ...]
    intervention: str
    sources_reported: tuple[str, ...]
    sources: tuple[str, ...]
    species_reported: tuple[str, ...]
    species: tuple[str, ...]
    outcomes: tuple[str, ...]
    effects: tuple[Effect, ...]
    summary: str
    added: str
    updated: str
    risk_of_bias: dict[str, Any]
    title: str | None = None
    authors: tuple[str, ...] = ()
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    url: str | None = None
    lookup: dict[str, Any] = field(default_factory=dict)
    effect_notes: tuple[str, ...] = ()
    subgroups: tuple[Subgroup, ...] = ()
    heterogeneity: dict[str, Any] = field(default_factory=dict)
    publication_bias: dict[str, Any] = field(default_factory=dict)
    amstar2: dict[str, Any] = field(default_factory=dict)
    dosing: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, str] = field(default_factory=dict)
    discrepancies: tuple[Discrepancy, ...] = ()
    notes: str | None = None
    found_by: str = "umbrella-review"  # or hand-search, standing-search: a review the map added itself

    @property
    def beyond_source(self) -> bool:
        """A review the map added, not one of the umbrella review's."""
        return self.found_by != "umbrella-review"

    @property
    def appraised_by(self) -> str:
        """Who appraised the review with AMSTAR-2: umbrella-review, evidence-map or not-appraised."""
        if not self.amstar2:
            return "not-appraised"
        return str(self.amstar2.get("appraised_by", "umbrella-review"))

    @property
    def not_found(self) -> frozenset[str]:
        """Citation fields searched for and not confirmed (the page says "not found")."""
        return frozenset(self.lookup.get("not_found", ()))

    def misattributed(self, section: str) -> bool:
        """Whether the source's row for `section` (dosing, ...) belongs to another review."""
        return any(d.kind == "misattributed" and d.field.split(".")[0] == section for d in self.discrepancies)

    @property
    def dosing_counts(self) -> bool:
        """Whether this record's doses and routes feed the aggregates (not a misattributed row)."""
        return bool(self.dosing) and not self.misattributed("dosing")

    @property
    def counted_routes(self) -> tuple[str, ...]:
        """The routes that feed the aggregates: none from a dosing row printed under the wrong review."""
        return self.routes if self.dosing_counts else ()

    @property
    def original_discrepancies(self) -> tuple[Discrepancy, ...]:
        """Where the umbrella review and the original article disagree about this review."""
        return tuple(d for d in self.discrepancies if d.kind == "umbrella-vs-original")

    @property
    def rob_tool(self) -> str:
        return str(self.risk_of_bias.get("tool", ""))

    @property
    def rob_overall(self) -> str:
        return str(self.risk_of_bias.get("overall", ""))

    @property
    def amstar2_rating(self) -> str:
        return str(self.amstar2.get("rating", "not-rated"))

    @property
    def critical_flaws(self) -> tuple[str, ...] | None:
        flaws = self.amstar2.get("critical_flaws")
        return None if flaws is None else tuple(flaws)

    @property
    def i2_max(self) -> float | None:
        value = self.heterogeneity.get("i2_max")
        return float(value) if value is not None else None

    @property
    def i2_min(self) -> float | None:
        value = self.heterogeneity.get("i2_min", self.heterogeneity.get("i2_max"))
        return float(value) if value is not None else None

    @property
    def routes(self) -> tuple[str, ...]:
        return tuple(self.dosing.get("routes", {}).get("ids", ()))

    def effects_for(self, condition: str) -> tuple[Effect, ...]:
        """The effects that speak for one of this record's conditions."""
        return tuple(e for e in self.effects if e.condition in (None, condition))


def _tuple(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value or ())


def record_from_data(data: dict[str, Any], path: str) -> Record:
    """Build a Record from data that has passed validation."""
    cit = data["citation"]
    return Record(
        id=data["id"],
        path=path,
        first_author=cit["first_author"],
        label=cit["label"],
        year=int(cit["year"]),
        journal=cit["journal"],
        title=cit.get("title"),
        authors=_tuple(cit.get("authors")),
        volume=cit.get("volume"),
        issue=cit.get("issue"),
        pages=cit.get("pages"),
        doi=cit.get("doi"),
        pmid=cit.get("pmid"),
        pmcid=cit.get("pmcid"),
        url=cit.get("url"),
        lookup=dict(data.get("lookup", {})),
        n_studies=int(data["n_studies"]),
        conditions_reported=_tuple(data["conditions"]["reported"]),
        conditions=_tuple(data["conditions"]["ids"]),
        intervention=data["intervention"],
        sources_reported=_tuple(data["sources"]["reported"]),
        sources=_tuple(data["sources"]["ids"]),
        species_reported=_tuple(data["species"]["reported"]),
        species=_tuple(data["species"]["ids"]),
        outcomes=_tuple(data["outcomes"]),
        effects=tuple(Effect(**{k: v for k, v in e.items()}) for e in data.get("effects", [])),
        effect_notes=_tuple(data.get("effect_notes")),
        subgroups=tuple(Subgroup(**s) for s in data.get("subgroups", [])),
        heterogeneity=dict(data.get("heterogeneity", {})),
        risk_of_bias=dict(data["risk_of_bias"]),
        publication_bias=dict(data.get("publication_bias", {})),
        amstar2=dict(data.get("amstar2", {})),
        dosing=dict(data.get("dosing", {})),
        summary=data["summary"],
        provenance={str(k): str(v) for k, v in data.get("provenance", {}).items()},
        discrepancies=tuple(Discrepancy(**d) for d in data.get("discrepancies", [])),
        added=data["added"],
        updated=data["updated"],
        notes=data.get("notes"),
        found_by=data.get("found_by", "umbrella-review"),
    )
