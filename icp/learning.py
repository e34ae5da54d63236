"""Learn readable ICP criteria from closed deals and report how far they can be trusted.

`learn_profile` takes one row per closed deal joined to its account's features and
cross-validates two questions. The first is whether the firmographics separate won
deals from lost ones. The second is whether they separate the accounts that brought
the most won value from the rest. It picks the outcome that carries signal and
turns it into weighted criteria that `icp.scoring` can apply. Everything is
deterministic: folds, models and permutations use a fixed random state.
"""

from __future__ import annotations

import datetime
import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from icp.scoring import criterion_label, criterion_matches, round_edge, score_frame
from tenancy.errors import DomainError

MIN_CLOSED_DEALS = 40
MIN_WON_DEALS = 10
MIN_LOST_DEALS = 10
MIN_ACCOUNTS = 15

CATEGORY_FEATURES = ("industry", "country")
# Skewed counts and amounts are modelled on a log scale, the founding year as is.
LOG_FEATURES = ("employees", "annual_revenue")
LINEAR_FEATURES = ("year_established",)
NUMERIC_FEATURES = LOG_FEATURES + LINEAR_FEATURES

RANDOM_STATE = 0
MAX_FOLDS = 5
STRONG_AUC = 0.65
WEAK_AUC = 0.55
# Won value must clear a higher bar than won vs lost, because it is judged on accounts,
# which are far fewer than deals.
VALUE_SIGNAL_AUC = 0.60
# Categories below this share of rows are grouped as "infrequent" by the encoder. A
# category or numeric bin needs this share of accounts, and at least MIN_BIN_ACCOUNTS,
# to become part of a criterion.
MIN_CATEGORY_SHARE = 0.05
MIN_BIN_ACCOUNTS = 3
NUMERIC_QUANTILES = (0.25, 0.5, 0.75)
# Features with less than this share of the total permutation importance get no criterion.
MIN_IMPORTANCE_SHARE = 0.05
PERMUTATION_REPEATS = 10
MISSING = "(missing)"
OTHER = "(other)"


class InsufficientData(DomainError):
    """Too few closed deals or accounts to learn an ICP from."""

    code = "insufficient_data"


@dataclass(frozen=True)
class LearnedProfile:
    """Criteria, tier cut-offs and validation figures learned from closed deals."""

    objective: str
    signal: str
    summary: str
    criteria: list[dict]
    tier_cutoffs: dict
    metrics: dict
    trained_from: datetime.date | None
    trained_to: datetime.date | None


def learn_profile(deals: pd.DataFrame) -> LearnedProfile:
    """Learn an ICP from closed deals and return criteria, cut-offs and metrics.

    `deals` has one row per closed deal with `account_id`, `won` (bool), `amount`,
    `close_date` and the account's `industry`, `country`, `employees`,
    `annual_revenue` and `year_established`. Raises InsufficientData when there are
    too few deals, won deals, lost deals or accounts.
    """
    deals = _prepare_deals(deals)
    _check_enough(deals)
    accounts = _accounts_table(deals)

    cv_won = _cross_validate_won(deals)
    cv_value = _cross_validate_value(accounts)
    spearman = _spearman_with_won_value(accounts)
    objective, signal = _choose_objective(cv_won, cv_value)

    criteria = _learn_criteria(deals, accounts, objective)
    scores = score_frame(accounts, criteria, {"A": 101, "B": 101, "C": 101})["score"]
    tier_cutoffs = _tier_cutoffs(scores.to_numpy())
    accounts["tier"] = score_frame(accounts, criteria, tier_cutoffs)["tier"]

    metrics = {
        "objective": objective,
        "counts": _counts(deals),
        "cv_auc_won": cv_won,
        "cv_auc_value": cv_value,
        "cv_auc_criteria": _cross_validate_criteria(deals, accounts, objective),
        "spearman": spearman,
        "tiers": _tier_metrics(accounts),
        "tier_basis": "in-sample scores of the training accounts",
        "trained_from": _iso(deals["close_date"].min()),
        "trained_to": _iso(deals["close_date"].max()),
    }
    return LearnedProfile(
        objective=objective,
        signal=signal,
        summary=_summary(objective, signal, cv_won, cv_value, spearman),
        criteria=criteria,
        tier_cutoffs=tier_cutoffs,
        metrics=metrics,
        trained_from=_date(deals["close_date"].min()),
        trained_to=_date(deals["close_date"].max()),
    )


def _prepare_deals(deals: pd.DataFrame) -> pd.DataFrame:
    frame = deals.loc[deals["account_id"].notna()].copy()
    frame["won"] = frame["won"].astype(bool)
    frame["amount"] = pd.to_numeric(frame["amount"], errors="coerce").astype(float).fillna(0.0)
    frame["close_date"] = pd.to_datetime(frame["close_date"], errors="coerce")
    for feature in CATEGORY_FEATURES:
        text = frame.get(feature, pd.Series(index=frame.index, dtype="object"))
        text = text.astype("string").str.strip().str.casefold()
        cleaned = text.mask(text == "")
        frame[feature] = cleaned.astype("object").where(cleaned.notna(), np.nan)
    for feature in NUMERIC_FEATURES:
        values = frame.get(feature, pd.Series(index=frame.index, dtype="float64"))
        frame[feature] = pd.to_numeric(values, errors="coerce").astype("float64")
    return frame.reset_index(drop=True)


def _counts(deals: pd.DataFrame) -> dict:
    won = int(deals["won"].sum())
    return {
        "closed": len(deals),
        "won": won,
        "lost": len(deals) - won,
        "accounts": int(deals["account_id"].nunique()),
    }


def _check_enough(deals: pd.DataFrame) -> None:
    counts = _counts(deals)
    needed = {"closed": MIN_CLOSED_DEALS, "won": MIN_WON_DEALS, "lost": MIN_LOST_DEALS}
    needed["accounts"] = MIN_ACCOUNTS
    short = [name for name, minimum in needed.items() if counts[name] < minimum]
    if not short:
        return
    have = ", ".join(f"{counts[name]} {name}" for name in needed)
    want = ", ".join(f"{needed[name]} {name}" for name in needed)
    raise InsufficientData(
        f"Too few closed deals to learn an ICP: found {have}, and learning needs at least "
        f"{want} (short on {', '.join(short)}).",
        field="deals",
        value=counts,
        fix="Import more won and lost deals with their accounts, or write the ICP by hand.",
    )


def _accounts_table(deals: pd.DataFrame) -> pd.DataFrame:
    """Return one row per account: its features, closed and won deal counts, won value."""
    with_value = deals.assign(won_amount=deals["amount"].where(deals["won"], 0.0))
    grouped = with_value.groupby("account_id", sort=True)
    accounts = grouped[list(CATEGORY_FEATURES + NUMERIC_FEATURES)].first()
    accounts["closed_deals"] = grouped.size()
    accounts["won_deals"] = grouped["won"].sum().astype(int)
    accounts["won_value"] = grouped["won_amount"].sum()
    return accounts


def _usable_features(frame: pd.DataFrame) -> tuple[list[str], list[str], list[str]]:
    def present(names):
        return [name for name in names if frame[name].notna().any()]

    return present(CATEGORY_FEATURES), present(LOG_FEATURES), present(LINEAR_FEATURES)


def _log1p_nonnegative(values):
    return np.log1p(np.clip(values, 0, None))


def _model(frame: pd.DataFrame) -> Pipeline:
    """Build the one-hot, log-scaled and imputed logistic regression on usable features."""
    category, log_scaled, linear = _usable_features(frame)
    transformers = []
    if category:
        encoder = OneHotEncoder(
            min_frequency=MIN_CATEGORY_SHARE,
            handle_unknown="infrequent_if_exist",
            sparse_output=False,
        )
        transformers.append(("category", encoder, category))
    if log_scaled:
        log_step = FunctionTransformer(_log1p_nonnegative, feature_names_out="one-to-one")
        imputer = SimpleImputer(strategy="median", add_indicator=True)
        steps = make_pipeline(log_step, imputer, StandardScaler())
        transformers.append(("log_numeric", steps, log_scaled))
    if linear:
        imputer = SimpleImputer(strategy="median", add_indicator=True)
        transformers.append(("numeric", make_pipeline(imputer, StandardScaler()), linear))
    columns = ColumnTransformer(transformers)
    return Pipeline([("features", columns), ("model", LogisticRegression(max_iter=1000))])


def _model_inputs(frame: pd.DataFrame) -> pd.DataFrame:
    inputs = frame[list(CATEGORY_FEATURES + NUMERIC_FEATURES)].copy()
    for feature in CATEGORY_FEATURES:
        inputs[feature] = inputs[feature].fillna(MISSING).astype(str)
    return inputs


def _auc_summary(aucs: list[float]) -> dict:
    if not aucs:
        return {"mean": None, "std": None, "folds": 0}
    return {
        "mean": round(float(np.mean(aucs)), 3),
        "std": round(float(np.std(aucs)), 3),
        "folds": len(aucs),
    }


def _fold_aucs(inputs: pd.DataFrame, target: np.ndarray, splits) -> list[float]:
    """Fit on each training fold and return the ROC AUC of every test fold with both classes."""
    aucs = []
    for train, test in splits:
        if target[test].min() == target[test].max() or target[train].min() == target[train].max():
            continue
        model = _model(inputs.iloc[train])
        with warnings.catch_warnings():
            # Categories seen only in the test fold are encoded as zeros, as intended.
            warnings.filterwarnings("ignore", message="Found unknown categories")
            model.fit(inputs.iloc[train], target[train])
            probabilities = model.predict_proba(inputs.iloc[test])[:, 1]
        aucs.append(float(roc_auc_score(target[test], probabilities)))
    return aucs


def _fold_count(smallest_group: int) -> int:
    return max(2, min(MAX_FOLDS, smallest_group))


def _cross_validate_won(deals: pd.DataFrame) -> dict:
    """Return the ROC AUC of won vs lost, with folds grouped by account."""
    target = deals["won"].to_numpy(dtype=int)
    folds = StratifiedGroupKFold(
        n_splits=_fold_count(deals["account_id"].nunique()),
        shuffle=True,
        random_state=RANDOM_STATE,
    )
    inputs = _model_inputs(deals)
    splits = folds.split(inputs, target, groups=deals["account_id"].to_numpy())
    return _auc_summary(_fold_aucs(inputs, target, splits))


def _value_target(accounts: pd.DataFrame) -> np.ndarray:
    """Return 1 for accounts whose won value is above the median, else 0."""
    won_value = accounts["won_value"].to_numpy()
    return (won_value > np.median(won_value)).astype(int)


def _cross_validate_value(accounts: pd.DataFrame) -> dict:
    """Return the ROC AUC of above-median won value vs the rest, over accounts."""
    target = _value_target(accounts)
    minority = int(min(target.sum(), len(target) - target.sum()))
    if minority < 2:
        return _auc_summary([])
    folds = StratifiedKFold(n_splits=_fold_count(minority), shuffle=True, random_state=RANDOM_STATE)
    inputs = _model_inputs(accounts)
    return _auc_summary(_fold_aucs(inputs, target, folds.split(inputs, target)))


def _spearman_with_won_value(accounts: pd.DataFrame) -> dict:
    """Return the Spearman correlation of each numeric feature with won value per account."""
    correlations = {}
    for feature in NUMERIC_FEATURES:
        present = accounts[feature].notna()
        values = accounts.loc[present, feature]
        won_value = accounts.loc[present, "won_value"]
        if present.sum() < 3 or values.nunique() < 2 or won_value.nunique() < 2:
            correlations[feature] = None
            continue
        correlations[feature] = round(float(spearmanr(values, won_value).statistic), 3)
    return correlations


def _signal_level(auc: float | None) -> str:
    if auc is not None and auc >= STRONG_AUC:
        return "strong"
    if auc is not None and auc >= WEAK_AUC:
        return "weak"
    return "none"


def _choose_objective(cv_won: dict, cv_value: dict) -> tuple[str, str]:
    """Pick won vs lost when it has any signal, else won value when its AUC clears 0.6."""
    won_signal = _signal_level(cv_won["mean"])
    if won_signal != "none":
        return "won", won_signal
    value_auc = cv_value["mean"]
    if value_auc is not None and value_auc >= VALUE_SIGNAL_AUC:
        return "won_value", _signal_level(value_auc)
    better = "won" if (cv_won["mean"] or 0) >= (value_auc or 0) else "won_value"
    return better, "none"


def _learn_criteria(deals: pd.DataFrame, accounts: pd.DataFrame, objective: str) -> list[dict]:
    """Turn the chosen outcome into one weighted criterion per feature that lifts it.

    Numeric features are cut at rounded quartiles and categories kept when they cover
    enough accounts. A criterion contains the bins whose lift over the baseline is above 1,
    with contiguous numeric bins merged into one range. Weights follow each feature's
    permutation importance in a model fitted on the binned features.
    """
    min_accounts = max(MIN_BIN_ACCOUNTS, math.ceil(MIN_CATEGORY_SHARE * len(accounts)))
    category, log_scaled, linear = _usable_features(accounts)
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
    """Return each bin's outcome relative to the baseline: win rate, or mean won value."""
    if objective == "won":
        deal_labels = deals["account_id"].map(labels)
        baseline = deals["won"].mean()
        outcome = deals["won"].groupby(deal_labels).mean()
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
    else:
        inputs = binned.reset_index(drop=True)
        target = _value_target(accounts)
    if target.min() == target.max():
        return dict.fromkeys(binned.columns, 0.0)

    model = make_pipeline(OneHotEncoder(handle_unknown="ignore"), LogisticRegression(max_iter=1000))
    model.fit(inputs, target)
    result = permutation_importance(
        model,
        inputs,
        target,
        scoring="roc_auc",
        n_repeats=PERMUTATION_REPEATS,
        random_state=RANDOM_STATE,
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
    matched = criterion_matches(accounts, criterion)
    deal_matched = deals["account_id"].isin(accounts.index[matched])
    win_rate = deals.loc[deal_matched, "won"].mean() / deals["won"].mean()
    won_value = accounts.loc[matched, "won_value"].mean() / accounts["won_value"].mean()
    return {
        "support": {"deals": int(deal_matched.sum()), "accounts": int(matched.sum())},
        "lift": {"win_rate": _rounded(win_rate, 2), "won_value": _rounded(won_value, 2)},
    }


def _rounded(value, digits: int):
    if value is None or not np.isfinite(value):
        return None
    return round(float(value), digits)


def _tier_cutoffs(scores: np.ndarray) -> dict[str, int]:
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


def _tier_metrics(accounts: pd.DataFrame) -> dict:
    totals = accounts.groupby("tier")[["closed_deals", "won_deals", "won_value"]].sum()
    sizes = accounts.groupby("tier").size()
    metrics = {}
    for tier in ("A", "B", "C", "D"):
        count = int(sizes.get(tier, 0))
        closed = int(totals["closed_deals"].get(tier, 0))
        won = int(totals["won_deals"].get(tier, 0))
        won_value = float(totals["won_value"].get(tier, 0.0))
        metrics[tier] = {
            "accounts": count,
            "closed_deals": closed,
            "won_deals": won,
            "win_rate": round(won / closed, 3) if closed else None,
            "won_value": round(won_value, 2),
            "mean_won_value": round(won_value / count, 2) if count else None,
        }
    return metrics


def _cross_validate_criteria(deals, accounts, objective: str) -> dict:
    """Return the ROC AUC of the readable criteria's scores on held-out accounts.

    Each fold relearns the criteria on the other accounts. With the won objective the
    score of each held-out deal's account is judged against won vs lost, otherwise
    the account's score against above-median won value.
    """
    target = _value_target(accounts)
    minority = int(min(target.sum(), len(target) - target.sum()))
    if minority < 2:
        return _auc_summary([])
    folds = StratifiedKFold(n_splits=_fold_count(minority), shuffle=True, random_state=RANDOM_STATE)
    no_tiers = {"A": 101, "B": 101, "C": 101}
    aucs = []
    for train, test in folds.split(accounts, target):
        train_accounts = accounts.iloc[train]
        train_deals = deals.loc[deals["account_id"].isin(train_accounts.index)]
        criteria = _learn_criteria(train_deals, train_accounts, objective)
        scores = score_frame(accounts.iloc[test], criteria, no_tiers)["score"]
        if objective == "won":
            test_deals = deals.loc[deals["account_id"].isin(scores.index)]
            outcome = test_deals["won"].to_numpy(dtype=int)
            predicted = test_deals["account_id"].map(scores).to_numpy()
        else:
            outcome, predicted = target[test], scores.to_numpy()
        if outcome.min() != outcome.max():
            aucs.append(float(roc_auc_score(outcome, predicted)))
    return _auc_summary(aucs)


def _auc_text(cv: dict, folds: bool = True) -> str:
    if cv["mean"] is None:
        return "ROC AUC not measurable, because no fold had both outcomes"
    text = f"ROC AUC {cv['mean']:.2f} ± {cv['std']:.2f}"
    return f"{text} over {cv['folds']} folds" if folds else text


def _summary(objective: str, signal: str, cv_won: dict, cv_value: dict, spearman: dict) -> str:
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


def _iso(value) -> str | None:
    return None if pd.isna(value) else value.date().isoformat()


def _date(value) -> datetime.date | None:
    return None if pd.isna(value) else value.date()
