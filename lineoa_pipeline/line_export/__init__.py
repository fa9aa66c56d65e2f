"""What LINE's chat exports look like: header languages, placeholders, code pages, chat names from file
names, and writing exports (for the demo and the tests). Imports nothing of the package."""
