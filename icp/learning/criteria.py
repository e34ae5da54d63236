"""Turn the chosen outcome into weighted, readable criteria and tier cut-offs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from icp.learning.data import CATEGORY_FEATURES, MISSING, OTHER, usable_features
from icp.learning.validation import (
    MIN_CATEGORY_SHARE,
    RANDOM_STATE,
    auc_summary,
    fold_count,
    value_target,
)
from icp.learning.weighting import account_churn_rate, weighted_rate
from icp.scoring import criterion_label, criterion_matches, round_edge, score_frame

MIN_BIN_ACCOUNTS = 3


NUMERIC_QUANTILES = (0.25, 0.5, 0.75)


# Features with less than this share of the total permutation importance get no criterion.
MIN_IMPORTANCE_SHARE = 0.05


PERMUTATION_REPEATS = 10


def learn_criteria(deals: pd.DataFrame, accounts: pd.DataFrame, objective: str) -> list[dict]:
    """Turn the chosen outcome into one weighted criterion per feature that lifts it.

    Numeric features are cut at rounded quartiles and categories kept when they cover
    enough accounts. A criterion contains the bins whose lift over the baseline is above 1,
    with contiguous numeric bins merged into one range. Weights follow each feature's
    permutation importance in a model fitted on the binned features.
    """
    min_accounts = max(MIN_BIN_ACCOUNTS, math.ceil(MIN_CATEGORY_SHARE * len(accounts)))
    category, log_scaled, linear = usable_features(accounts)
    binned = pd.DataFrame(index=accounts.index)
    candidates = {}
    for feature in category + log_scaled + linear:
        if feature in CATEGORY_FEATURES:
            labels, candidate = _category_candidate(
                feature, deals, accounts, objective, min_accounts
            )
        else:
            labels, candidate = _range_candidate(feature, deals, accounts, objective, min_accounts)
        binned[feature] = labels
        if candidate is not None:
            candidates[feature] = candidate
    if not candidates:
        return []

    importance = _binned_importance(binned, deals, accounts, objective)
    positive = {name: importance[name] for name in candidates if importance[name] > 0}
    floor = MIN_IMPORTANCE_SHARE * sum(positive.values())
    weights = _integer_weights({name: value for name, value in positive.items() if value >= floor})

    criteria = []
    for feature in sorted(weights, key=lambda name: (-weights[name], name)):
        criterion = {**candidates[feature], "weight": weights[feature]}
        criterion = {"key": feature, "label": criterion_label(criterion), **criterion}
        criterion.update(_support_and_lift(criterion, deals, accounts))
        criteria.append(criterion)
    return criteria


def _bin_lift(labels: pd.Series, deals, accounts, objective: str) -> pd.Series:
    """Return each bin's outcome relative to the baseline: weighted win rate, or mean won value."""
    if objective == "won":
        deal_labels = deals["account_id"].map(labels)
        weights = deals["weight"]
        baseline = weighted_rate(deals["won"], weights)
        won_weights = weights.where(deals["won"], 0.0).groupby(deal_labels).sum()
        outcome = won_weights / weights.groupby(deal_labels).sum()
    else:
        baseline = accounts["won_value"].mean()
        outcome = accounts["won_value"].groupby(labels).mean()
    if not baseline:
        return pd.Series(np.nan, index=outcome.index)
    return outcome / baseline


def _category_candidate(feature, deals, accounts, objective, min_accounts):
    values = accounts[feature]
    counts = values.value_counts()
    frequent = sorted(counts[counts >= min_accounts].index)
    labels = values.where(values.isin(frequent), OTHER).where(values.notna(), MISSING)
    lift = _bin_lift(labels, deals, accounts, objective)
    chosen = [value for value in frequent if lift.get(value, 0) > 1]
    if not chosen or len(chosen) == len(counts):
        return labels, None
    chosen.sort(key=lambda value: (-lift[value], value))
    return labels, {"field": feature, "kind": "category", "values": chosen}


def _range_candidate(feature, deals, accounts, objective, min_accounts):
    values = accounts[feature]
    present = values.dropna()
    quantiles = present.quantile(list(NUMERIC_QUANTILES))
    edges = sorted({round_edge(float(edge), feature) for edge in quantiles})
    edges = [edge for edge in edges if present.min() < edge <= present.max()]
    codes = np.searchsorted(edges, values.to_numpy(), side="right")
    labels = pd.Series(codes.astype(str), index=values.index).where(values.notna(), MISSING)
    if not edges:
        return labels, None

    lift = _bin_lift(labels, deals, accounts, objective)
    counts = labels.value_counts()
    gains = []
    for code in range(len(edges) + 1):
        label = str(code)
        eligible = counts.get(label, 0) >= min_accounts and lift.get(label, 0) > 1
        gains.append((lift[label] - 1) * counts[label] if eligible else None)

    # Keep the run of adjacent lifting bins with the largest lift-weighted support.
    best, run = None, None
    for code, gain in enumerate(gains + [None]):
        if gain is not None:
            run = (run[0], code, run[2] + gain) if run else (code, code, gain)
            continue
        if run and (best is None or run[2] > best[2]):
            best = run
        run = None
    if best is None or (best[0] == 0 and best[1] == len(edges)):
        return labels, None
    low = _plain_number(edges[best[0] - 1]) if best[0] > 0 else None
    high = _plain_number(edges[best[1]]) if best[1] < len(edges) else None
    return labels, {"field": feature, "kind": "range", "min": low, "max": high}


def _plain_number(value: float):
    return int(value) if float(value).is_integer() else float(value)


def _binned_importance(binned, deals, accounts, objective) -> dict[str, float]:
    """Return each feature's permutation importance (ROC AUC drop), clipped at zero."""
    if objective == "won":
        inputs = binned.loc[deals["account_id"]].reset_index(drop=True)
        target = deals["won"].to_numpy(dtype=int)
        weights = deals["weight"].to_numpy(dtype=float)
    else:
        inputs = binned.reset_index(drop=True)
        target = value_target(accounts)
        weights = None
    if target.min() == target.max():
        return dict.fromkeys(binned.columns, 0.0)

    model = make_pipeline(OneHotEncoder(handle_unknown="ignore"), LogisticRegression(max_iter=1000))
    model.fit(inputs, target, logisticregression__sample_weight=weights)
    result = permutation_importance(
        model,
        inputs,
        target,
        scoring="roc_auc",
        n_repeats=PERMUTATION_REPEATS,
        random_state=RANDOM_STATE,
        sample_weight=weights,
    )
    importances = np.clip(result.importances_mean, 0, None)
    return {column: float(value) for column, value in zip(inputs.columns, importances, strict=True)}


def _integer_weights(importance: dict[str, float]) -> dict[str, int]:
    """Scale importances to integers summing to 100 by the largest remainder method."""
    total = sum(importance.values())
    if total <= 0:
        return {}
    raw = {feature: value / total * 100 for feature, value in importance.items()}
    weights = {feature: math.floor(value) for feature, value in raw.items()}
    leftover = 100 - sum(weights.values())
    by_remainder = sorted(raw, key=lambda feature: (weights[feature] - raw[feature], feature))
    for feature in by_remainder[:leftover]:
        weights[feature] += 1
    return {feature: weight for feature, weight in weights.items() if weight > 0}


def _support_and_lift(criterion: dict, deals, accounts) -> dict:
    """Return the deals and accounts a criterion matches and its lift over all of them.

    Win rate lift compares weighted win rates, won value lift the mean won value per
    account, and lifetime value lift the mean won value per account net of churn.
    """
    matched = criterion_matches(accounts, criterion)
    deal_matched = deals["account_id"].isin(accounts.index[matched])
    weights = deals["weight"]
    win_rate = _ratio(
        weighted_rate(deals.loc[deal_matched, "won"], weights[deal_matched]),
        weighted_rate(deals["won"], weights),
    )
    lift = {"win_rate": _rounded(win_rate, 2)}
    for column in ("won_value", "lifetime_value"):
        ratio = _ratio(accounts.loc[matched, column].mean(), accounts[column].mean())
        lift[column] = _rounded(ratio, 2)
    return {
        "support": {"deals": int(deal_matched.sum()), "accounts": int(matched.sum())},
        "lift": lift,
    }


def _ratio(value, baseline) -> float | None:
    if value is None or baseline is None or not np.isfinite(baseline) or baseline == 0:
        return None
    return float(value) / float(baseline)


def _rounded(value, digits: int):
    if value is None or not np.isfinite(value):
        return None
    return round(float(value), digits)


def choose_tier_cutoffs(scores: np.ndarray) -> dict[str, int]:
    """Choose A, B and C cut-offs so that A, A-B and A-C contain about 25%, 50% and 75%.

    Each cut-off is a positive score level that some account reaches, the one whose
    share of accounts at or above it is closest to the target (ties go to the higher
    level). C is at least 1, so an account that matches no criterion is always tier D.
    """
    levels = sorted({int(score) for score in scores if score > 0}, reverse=True)
    shares = {level: float((scores >= level).mean()) for level in levels}
    cutoffs = []
    previous = 101
    for target_share in (0.25, 0.5, 0.75):
        below = [level for level in levels if level < previous]
        if below:
            previous = min(below, key=lambda level: (abs(shares[level] - target_share), -level))
        else:
            previous -= 1
        cutoffs.append(previous)

    # Keep 100 >= A > B > C >= 1 even when the scores take fewer than three levels.
    a_cutoff = min(max(cutoffs[0], 3), 100)
    b_cutoff = min(max(cutoffs[1], 2), a_cutoff - 1)
    c_cutoff = min(max(cutoffs[2], 1), b_cutoff - 1)
    return {"A": a_cutoff, "B": b_cutoff, "C": c_cutoff}


TIER_SUMS = (
    "closed_deals",
    "won_deals",
    "won_value",
    "weighted_closed",
    "weighted_won",
    "lifetime_value",
)


def tier_metrics(accounts: pd.DataFrame, *, churn_known: bool) -> dict:
    """Sum each tier's training accounts: deals, weighted win rate, won and lifetime value.

    `win_rate` is weighted by the deals' sample weights, so it equals won over closed
    deals only without weighting. `churn_rate` is the share of the tier's accounts
    with a recorded win that churned, or None when no training account has a churn
    date (`churn_known` False).
    """
    totals = accounts.groupby("tier")[list(TIER_SUMS)].sum()
    sizes = accounts.groupby("tier").size()
    metrics = {}
    for tier in ("A", "B", "C", "D"):
        count = int(sizes.get(tier, 0))
        closed = int(totals["closed_deals"].get(tier, 0))
        won = int(totals["won_deals"].get(tier, 0))
        weighted_closed = float(totals["weighted_closed"].get(tier, 0.0))
        weighted_won = float(totals["weighted_won"].get(tier, 0.0))
        won_value = float(totals["won_value"].get(tier, 0.0))
        lifetime_value = float(totals["lifetime_value"].get(tier, 0.0))
        churn_rate = None
        if churn_known:
            in_tier = accounts.loc[accounts["tier"] == tier]
            churn_rate = account_churn_rate(in_tier["churned"], in_tier["customer"])
        metrics[tier] = {
            "accounts": count,
            "closed_deals": closed,
            "won_deals": won,
            "win_rate": round(weighted_won / weighted_closed, 3) if weighted_closed else None,
            "won_value": round(won_value, 2),
            "mean_won_value": round(won_value / count, 2) if count else None,
            "lifetime_value": round(lifetime_value, 2),
            "mean_lifetime_value": round(lifetime_value / count, 2) if count else None,
            "churn_rate": None if churn_rate is None else round(churn_rate, 3),
        }
    return metrics


def cross_validate_criteria(deals, accounts, objective: str) -> dict:
    """Return the ROC AUC of the readable criteria's scores on held-out accounts.

    Each fold relearns the criteria on the other accounts. With the won objective the
    score of each held-out deal's account is judged against won vs lost, with the
    deals' sample weights, otherwise the account's score against above-median won value.
    """
    target = value_target(accounts)
    minority = int(min(target.sum(), len(target) - target.sum()))
    if minority < 2:
        return auc_summary([])
    folds = StratifiedKFold(n_splits=fold_count(minority), shuffle=True, random_state=RANDOM_STATE)
    no_tiers = {"A": 101, "B": 101, "C": 101}
    aucs = []
    for train, test in folds.split(accounts, target):
        train_accounts = accounts.iloc[train]
        train_deals = deals.loc[deals["account_id"].isin(train_accounts.index)]
        criteria = learn_criteria(train_deals, train_accounts, objective)
        scores = score_frame(accounts.iloc[test], criteria, no_tiers)["score"]
        weights = None
        if objective == "won":
            test_deals = deals.loc[deals["account_id"].isin(scores.index)]
            outcome = test_deals["won"].to_numpy(dtype=int)
            predicted = test_deals["account_id"].map(scores).to_numpy()
            weights = test_deals["weight"].to_numpy(dtype=float)
        else:
            outcome, predicted = target[test], scores.to_numpy()
        if outcome.min() != outcome.max():
            aucs.append(float(roc_auc_score(outcome, predicted, sample_weight=weights)))
    return auc_summary(aucs)
