"""Building blocks of ``actlab report``: statistics (:mod:`.stats`) and plots (:mod:`.plots`).

The orchestration (reading MLflow, grouping runs, tables, files) lives in
:mod:`actlab.report`; these modules are pure functions of numpy arrays so they can be
tested and reused (e.g. from a notebook) without an MLflow store.
"""
