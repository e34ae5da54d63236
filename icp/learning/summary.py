"""The plain-language verdict a learned version carries."""

from __future__ import annotations


def _auc_text(cv: dict, folds: bool = True) -> str:
    if cv["mean"] is None:
        return "ROC AUC not measurable, because no fold had both outcomes"
    text = f"ROC AUC {cv['mean']:.2f} ± {cv['std']:.2f}"
    return f"{text} over {cv['folds']} folds" if folds else text


def write_summary(objective: str, signal: str, cv_won: dict, cv_value: dict, spearman: dict) -> str:
    """Write the plain-language verdict shown with the version."""
    if objective == "won" and signal != "none":
        return (
            f"Won vs lost shows {signal} signal in these firmographics ({_auc_text(cv_won)}), "
            "so the criteria rank accounts by their chance of closing a deal."
        )

    no_won_signal = (
        f"Won vs lost shows no signal in these firmographics ({_auc_text(cv_won)}), "
        "so the profile cannot predict which deals close."
    )
    correlation = ""
    known = {feature: rho for feature, rho in spearman.items() if rho is not None}
    if known:
        feature = max(sorted(known), key=lambda name: abs(known[name]))
        name = feature.replace("_", " ")
        correlation = f", and Spearman {known[feature]:.2f} with {name} across accounts"
    value_text = f"{_auc_text(cv_value, folds=False)} for above-median accounts{correlation}"
    if objective == "won_value" and signal != "none":
        return (
            f"{no_won_signal} Won value does carry {signal} signal ({value_text}), "
            "so the criteria rank accounts by the value they bring."
        )
    return (
        f"{no_won_signal} Won value shows no signal either ({value_text}). "
        "No criteria beat chance, so do not rank accounts by this version's scores."
    )
