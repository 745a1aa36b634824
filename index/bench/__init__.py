"""`python -m index bench`: the benchmark (`run`), its synthetic corpora (`corpus`), the
search process it starts (`child`, `python -m index.bench.child`) and its report
(`report`).

Nothing is imported here: the search process's cold start counts only what it needs.
"""
