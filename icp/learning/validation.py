"""Cross-validated tests of which outcome the firmographics can predict."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from icp.learning.data import CATEGORY_FEATURES, MISSING, NUMERIC_FEATURES, usable_features

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


def _log1p_nonnegative(values):
    return np.log1p(np.clip(values, 0, None))


def _model(frame: pd.DataFrame) -> Pipeline:
    """Build the one-hot, log-scaled and imputed logistic regression on usable features."""
    category, log_scaled, linear = usable_features(frame)
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


def auc_summary(aucs: list[float]) -> dict:
    if not aucs:
        return {"mean": None, "std": None, "folds": 0}
    return {
        "mean": round(float(np.mean(aucs)), 3),
        "std": round(float(np.std(aucs)), 3),
        "folds": len(aucs),
    }


def _fold_aucs(
    inputs: pd.DataFrame, target: np.ndarray, splits, weights: np.ndarray | None = None
) -> list[float]:
    """Fit on each training fold and return the ROC AUC of every test fold with both classes.

    With `weights`, the model is fitted with them as sample weights and each test
    fold's ROC AUC is weighted the same way.
    """
    aucs = []
    for train, test in splits:
        if target[test].min() == target[test].max() or target[train].min() == target[train].max():
            continue
        model = _model(inputs.iloc[train])
        fit_params = {} if weights is None else {"model__sample_weight": weights[train]}
        with warnings.catch_warnings():
            # Categories seen only in the test fold are encoded as zeros, as intended.
            warnings.filterwarnings("ignore", message="Found unknown categories")
            model.fit(inputs.iloc[train], target[train], **fit_params)
            probabilities = model.predict_proba(inputs.iloc[test])[:, 1]
        test_weights = None if weights is None else weights[test]
        aucs.append(float(roc_auc_score(target[test], probabilities, sample_weight=test_weights)))
    return aucs


def fold_count(smallest_group: int) -> int:
    return max(2, min(MAX_FOLDS, smallest_group))


def cross_validate_won(deals: pd.DataFrame) -> dict:
    """Return the ROC AUC of won vs lost, with folds grouped by account and deals weighted."""
    target = deals["won"].to_numpy(dtype=int)
    weights = deals["weight"].to_numpy(dtype=float)
    folds = StratifiedGroupKFold(
        n_splits=fold_count(deals["account_id"].nunique()),
        shuffle=True,
        random_state=RANDOM_STATE,
    )
    inputs = _model_inputs(deals)
    splits = folds.split(inputs, target, groups=deals["account_id"].to_numpy())
    return auc_summary(_fold_aucs(inputs, target, splits, weights))


def value_target(accounts: pd.DataFrame) -> np.ndarray:
    """Return 1 for accounts whose won value is above the median, else 0."""
    # NOTE: cross-validation labels every fold with the median of all accounts, so
    # the test folds help set the threshold. The effect on the reported ROC AUC is
    # expected to be small and has not been measured.
    won_value = accounts["won_value"].to_numpy()
    return (won_value > np.median(won_value)).astype(int)


def cross_validate_value(accounts: pd.DataFrame) -> dict:
    """Return the ROC AUC of above-median won value vs the rest, over accounts.

    Accounts count once each under every weighting, because the target already
    measures value. Weighting accounts by value as well would count it twice.
    """
    target = value_target(accounts)
    minority = int(min(target.sum(), len(target) - target.sum()))
    if minority < 2:
        return auc_summary([])
    folds = StratifiedKFold(n_splits=fold_count(minority), shuffle=True, random_state=RANDOM_STATE)
    inputs = _model_inputs(accounts)
    return auc_summary(_fold_aucs(inputs, target, folds.split(inputs, target)))


def spearman_with_won_value(accounts: pd.DataFrame) -> dict:
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


def choose_objective(cv_won: dict, cv_value: dict) -> tuple[str, str]:
    """Pick won vs lost when it has any signal, else won value when its AUC clears 0.6."""
    won_signal = _signal_level(cv_won["mean"])
    if won_signal != "none":
        return "won", won_signal
    value_auc = cv_value["mean"]
    if value_auc is not None and value_auc >= VALUE_SIGNAL_AUC:
        return "won_value", _signal_level(value_auc)
    better = "won" if (cv_won["mean"] or 0) >= (value_auc or 0) else "won_value"
    return better, "none"
