"""Fraud signals: rules that find suspicious partner activity, the holds they put on
commissions, and the review that releases or voids them.

`scan.fraud_scan` runs the rules in `rules/`, stores what they find through
`signals`, and holds the covered ledger entries through `holds`. `review`
dismisses or confirms a signal; `selectors` reads signals for the pages and the API.
docs/fraud.md describes every rule and its thresholds.
"""
