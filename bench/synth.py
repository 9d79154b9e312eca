"""Synthetic evidence records for the benchmark: N valid, realistic, reproducible YAML files.

The same (n, seed) always gives byte-identical files. Records use the real vocabularies, so
they are spread over every condition and every EV source (the first records go round-robin
over both lists, the rest are drawn with a skew toward the common ones, as in the literature),
and each carries several pooled effects, subgroups, quality ratings, dosing and a summary of
realistic length. Every file passes `python build.py validate --evidence DIR`.

    python -m bench.synth 500 /tmp/ev500 [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from evidence_map.records.vocab import load_vocabularies

HEADER = "# yaml-language-server: $schema=../schema/record.schema.json\n"

SURNAMES = (
    "Abbasi",
    "Bao",
    "Castro",
    "Dawson",
    "Eriksen",
    "Fujita",
    "Gomez",
    "Haddad",
    "Ito",
    "Jensen",
    "Kovacs",
    "Liang",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Qureshi",
    "Rossi",
    "Sato",
    "Tanaka",
    "Usman",
    "Vargas",
    "Wang",
    "Xu",
    "Yilmaz",
    "Zhang",
    "Alves",
    "Brandt",
    "Cheng",
    "Duarte",
    "Esposito",
    "Fischer",
    "Gupta",
    "Hansen",
    "Iyer",
    "Jung",
    "Kim",
    "Lopez",
    "Mehta",
    "Nguyen",
    "Olsen",
    "Park",
    "Reyes",
    "Singh",
    "Torres",
    "Ueda",
    "Vogel",
    "Weber",
    "Yang",
    "Zhou",
    "Li",
    "Chen",
    "Liu",
    "Zhao",
    "Huang",
    "Wu",
    "Sun",
    "Ma",
    "Hu",
    "Guo",
    "He",
    "Lin",
    "Luo",
    "Tang",
    "Xie",
    "Han",
    "Song",
    "Cao",
    "Deng",
    "Feng",
)
JOURNALS = (
    "Stem Cell Res Ther",
    "J Extracell Vesicles",
    "Front Immunol",
    "Stem Cell Rev Rep",
    "Int J Mol Sci",
    "Cells",
    "Theranostics",
    "J Nanobiotechnology",
    "Front Bioeng Biotechnol",
    "Cytotherapy",
    "Sci Rep",
    "PLoS One",
)
OUTCOMES = {
    "function": ("Functional score", "Motor function (BBB score)", "Ejection fraction", "Serum creatinine"),
    "inflammation": ("TNF-α level", "IL-6 level", "IL-10 level", "Neutrophil infiltration"),
    "apoptosis": ("Apoptotic cells (TUNEL)", "Cleaved caspase-3", "Bax/Bcl-2 ratio"),
    "histology": ("Lesion volume", "Fibrosis area", "Vessel density", "Tissue injury score"),
    "survival": ("Survival (hazard of death)", "Mortality"),
    "other": ("Oxidative stress (MDA)", "Body weight", "Pain threshold"),
}
# Outcomes where a smaller value is better for the animal.
LOWER_IS_BETTER = {
    "Serum creatinine",
    "TNF-α level",
    "IL-6 level",
    "Neutrophil infiltration",
    "Apoptotic cells (TUNEL)",
    "Cleaved caspase-3",
    "Bax/Bcl-2 ratio",
    "Lesion volume",
    "Fibrosis area",
    "Tissue injury score",
    "Mortality",
    "Survival (hazard of death)",
    "Oxidative stress (MDA)",
}
ROB_TOOLS = ("SYRCLE", "SYRCLE", "SYRCLE", "SYRCLE", "CAMARADES", "CAMARADES", "Cochrane", "Custom (10 criteria)")
ROB_LEVELS = ("low", "low-moderate", "moderate", "moderate-high", "high", "unclear", "not-reported")
AMSTAR = ("high", "moderate", "moderate", "low", "low", "critically-low", "not-rated")
BIASES = ("allocation concealment", "blinding of assessors", "random housing", "selective reporting", "small samples")
SPECIES_SKEW = ("rat", "mouse", "rat", "mouse", "rabbit", "pig", "sheep", "dog", "monkey")
FLAWS = ["protocol", "search", "RoB"]
FACTORS = ("dose", "timing", "model", "modification", "delivery", "comparator")
SENTENCES = (
    "Most included studies used young male animals and short follow-up, which limits what the pooled "
    "estimate says about older or female animals.",
    "The authors found that earlier administration gave larger effects than delayed treatment.",
    "Vesicle isolation methods varied widely, from ultracentrifugation to commercial kits, and few "
    "studies characterised the particles to current reporting standards.",
    "Heterogeneity was substantial and was only partly explained by species and dose.",
    "Funnel plot asymmetry suggested that small negative studies may be missing.",
    "Several studies reported outcomes only as figures, which the authors digitised for pooling.",
    "Engineered or preconditioned vesicles did somewhat better than native ones in subgroup analysis.",
    "No study reported adverse events in a structured way.",
)


class _NoAliasDumper(yaml.SafeDumper):
    """The strict loader refuses anchors and aliases, so never emit them."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """A bound sign ("<", "=") in double quotes, as the record template and the real records write it."""
    style = '"' if value in ("<", "=", "<=", ">") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_NoAliasDumper.add_representer(str, _str)


def _ci(rng: random.Random, measure: str) -> tuple[float, float, float]:
    """(estimate, low, high), rounded as papers print them; the estimate lies inside the CI."""
    if measure in ("HR", "OR", "RR"):
        est = round(rng.lognormvariate(-0.6, 0.45), 2)
        est = max(est, 0.05)
        spread = rng.uniform(1.15, 2.2)
        return est, max(round(est / spread, 2), 0.01), round(est * spread, 2)
    if measure == "SMD":
        est = round(rng.gauss(1.6, 0.9), 2)
        half = round(rng.uniform(0.3, 1.4), 2)
    else:
        est = round(rng.gauss(12, 8), 2)
        half = round(rng.uniform(2, 9), 2)
    return est, round(est - half, 2), round(est + half, 2)


def _effect(rng: random.Random, condition: str | None) -> dict[str, Any]:
    domain = rng.choices(list(OUTCOMES), weights=(5, 4, 2, 4, 1, 1))[0]
    outcome = rng.choice(OUTCOMES[domain])
    if domain == "survival":
        measure = rng.choice(("HR", "OR", "RR"))
    else:
        measure = rng.choices(("SMD", "WMD", "MD"), weights=(8, 2, 1))[0]
    est, lo, hi = _ci(rng, measure)
    improves = "lower" if outcome in LOWER_IS_BETTER else "higher"
    if improves == "lower" and measure not in ("HR", "OR", "RR"):
        est, lo, hi = -est, -hi, -lo
    e: dict[str, Any] = {"outcome": outcome, "domain": domain, "measure": measure, "estimate": est}
    if rng.random() < 0.9:
        e["ci_low"], e["ci_high"] = lo, hi
    if rng.random() < 0.7:
        e["i2"] = rng.choice((0, 12, 35, 48, 56, 64, 71, 78, 85, 92))
    if rng.random() < 0.35:
        e["p"] = rng.choice((0.001, 0.003, 0.01, 0.02, 0.04, 0.2))
        if rng.random() < 0.5:
            e["p_bound"] = "<"
    e["improves"] = improves
    e["source"] = f"Figure {rng.randint(2, 9)}" if rng.random() < 0.5 else f"Table {rng.randint(2, 5)}"
    if condition is not None:
        e["condition"] = condition
    return e


def make_record(i: int, rng: random.Random, vocab: Any, today: date) -> dict[str, Any]:
    conds, sources, routes = vocab.conditions.ids, vocab.sources.ids, vocab.routes.ids
    # Round-robin first so every condition and source is used, then a skew toward the common ones.
    first_cond = conds[i % len(conds)] if i < 3 * len(conds) else rng.choices(conds, weights=_skew(len(conds)))[0]
    conditions = [first_cond]
    if rng.random() < 0.15:
        conditions.append(rng.choice([c for c in conds if c != first_cond]))
    first_src = (
        sources[i % len(sources)] if i < 2 * len(sources) else rng.choices(sources, weights=_skew(len(sources)))[0]
    )
    src = [first_src, *rng.sample([s for s in sources[:8] if s != first_src], rng.randint(0, 3))]
    species = sorted(set(rng.sample(SPECIES_SKEW, rng.randint(1, 3))))
    year = rng.randint(2012, min(2025, today.year))
    author = rng.choice(SURNAMES)
    rid = f"{author.lower()}-{year}-s{i:05d}"
    n_effects = rng.choices((2, 3, 4, 5, 6), weights=(3, 4, 3, 2, 1))[0]
    effects = [_effect(rng, rng.choice(conditions) if len(conditions) > 1 else None) for _ in range(n_effects)]
    added = date(2025, 1, 1) + timedelta(days=rng.randint(0, 300))
    updated = added + timedelta(days=rng.choice((0, 0, 0, 14, 60)))
    amstar = rng.choice(AMSTAR)
    i2s = sorted([e["i2"] for e in effects if "i2" in e] or rng.sample(range(0, 100), 2))
    rec: dict[str, Any] = {
        "id": rid,
        "citation": {
            "first_author": author,
            "label": f"{author} et al. ({year})",
            "year": year,
            "journal": rng.choice(JOURNALS),
            "title": f"Extracellular vesicles from mesenchymal stem cells in animal models of "
            f"{vocab.conditions.get(first_cond).name}: a systematic review and meta-analysis",
            "doi": f"10.{rng.randint(1000, 9999)}/synth.{i:05d}",
        },
        # Synthetic identifiers, each with the address that would have confirmed it.
        "lookup": {"doi": f"https://example.org/synth/{i:05d}", "citation": f"https://example.org/synth/{i:05d}"},
        "n_studies": rng.randint(5, 90),
        "conditions": {"reported": [vocab.conditions.get(c).name for c in conditions], "ids": conditions},
        "intervention": rng.choice(("MSC-EVs", "MSC-derived exosomes", "MSC small EVs")),
        "sources": {"reported": [vocab.sources.get(s).name for s in src], "ids": src},
        "species": {"reported": [vocab.species.get(s).name for s in species], "ids": species},
        "outcomes": sorted({e["outcome"] for e in effects}),
        "effects": effects,
        "subgroups": [
            {
                "factor": "source" if k == 0 else rng.choice(FACTORS),
                "level": src[0] if k == 0 else rng.choice(("early", "high dose", "hypoxic preconditioning", "rats")),
                "finding": "This group gave a larger pooled benefit than the others compared.",
                "source": f"Table {rng.randint(2, 5)}",
            }
            for k in range(rng.randint(0, 2))
        ],
        "heterogeneity": {"i2_min": i2s[0], "i2_max": i2s[-1], "source": "Table 3"},
        "risk_of_bias": {
            "tool": rng.choice(ROB_TOOLS),
            "overall": rng.choice(ROB_LEVELS),
            "common_biases": rng.sample(BIASES, rng.randint(1, 3)),
            "source": "Table 6",
        },
        "publication_bias": {"assessed": True, "detected": rng.random() < 0.4, "source": "Table 2"},
        "amstar2": {
            "rating": amstar,
            "critical_flaws": None if rng.random() < 0.5 else rng.sample(FLAWS, rng.randint(0, 2)),
            "source": "Section 3.3",
        },
        "dosing": {
            "doses": [f"{rng.randint(10, 100)}–{rng.randint(101, 400)} µg EV protein"],
            "units": ["µg"],
            "routes": {"reported": ["IV"], "ids": sorted(set(rng.sample(routes, rng.randint(1, 3))))},
            "dose_response": rng.choice(("yes", "no", "partially")),
            "source": "Table 4",
        },
        "summary": (
            f"Across {rng.randint(5, 90)} animal studies of {vocab.conditions.get(first_cond).name.lower()}, "
            f"MSC-EVs improved most of the pooled outcomes. " + " ".join(rng.sample(SENTENCES, 3))
        ),
        "provenance": {"citation": "Title page", "effects": "Table 3 and forest plots", "dosing": "Table 4"},
        "added": added.isoformat(),
        "updated": min(updated, today).isoformat(),
    }
    if rng.random() < 0.3:
        rec["discrepancies"] = [
            {
                "kind": "disagreement",
                "field": "risk_of_bias.overall",
                "description": "The abstract and the risk-of-bias table rate the included studies differently; "
                "the record keeps the table's rating.",
            }
        ]
    return rec


def _skew(n: int) -> list[float]:
    """Zipf-like weights: the first ids in a vocabulary (the common ones) get most records."""
    return [1 / (k + 1) ** 0.8 for k in range(n)]


def write_records(n: int, folder: Path, seed: int = 1) -> list[Path]:
    """Write n records into `folder` (emptied first); returns the paths in order."""
    vocab = load_vocabularies()
    rng = random.Random(seed)
    today = date.today()
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    paths = []
    for i in range(n):
        rec = make_record(i, rng, vocab, today)
        text = HEADER + yaml.dump(rec, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True, width=100)
        path = folder / f"{rec['id']}.yaml"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("n", type=int)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    write_records(args.n, args.folder, args.seed)
    print(f"wrote {args.n} records to {args.folder}")


if __name__ == "__main__":
    main()
