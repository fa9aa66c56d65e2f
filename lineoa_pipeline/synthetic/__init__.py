"""Made-up LINE chats for the demo, the tests and the benchmark: conversations, scale, and chats of a chosen
shape written straight into a warehouse (`shapes.py`, with `warehouse/`'s SQL). Imports `warehouse/` and
`line_export/`."""
