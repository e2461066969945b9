"""Balance diagnostics: a report card comparing any subset of the examples with the pool.

Class balance (counts, shares, retention, Jensen–Shannon divergence, chi-square), spectral balance (per-class
covariance spectra: effective rank, participation ratio, top-k share, decay slope, and their spread across classes,
paired with a per-class k-NN probe), coverage and diversity (distance pool → nearest selected, facility location,
Vendi score), quality-score distributions and preference-pair figures, with plain-language alerts.

    ctx = ReportContext.build(ws, label_column="label")     # once: everything that does not depend on the subset
    card = ctx.report(ranking.top(budget))                  # per budget: tens of ms at 100k rows
    card.alerts, card.classes, card.spectral, card.to_dict()
"""
from __future__ import annotations

from curation.diagnostics.report import ReportCard, ReportContext, ReportParams, format_card

__all__ = ["ReportCard", "ReportContext", "ReportParams", "format_card"]
