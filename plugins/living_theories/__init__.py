"""Living Theories: realist programme theories published as a cross-linked MkDocs site."""

__version__ = "0.1.0"
