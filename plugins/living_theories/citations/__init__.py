"""Citations: Pandoc citation syntax, the BibTeX bibliography, and CSL formatting."""
