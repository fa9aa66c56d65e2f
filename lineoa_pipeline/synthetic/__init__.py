"""Made-up LINE chats for the demo, the tests and the benchmark: conversations and scale. Imports only
`line_export/`."""
