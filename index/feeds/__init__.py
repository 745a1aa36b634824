"""The feeds: which are configured (`config`), what each poll learned (`state`, in
`state.sqlite`), and the poller that keeps the index fresh (`watch`).

Nothing is imported here, so that `index.ingest` can use `index.feeds.config` while
`index.feeds.watch` uses the ingest.
"""
