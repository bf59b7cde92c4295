"""The installed top package, `idem_fix`: its subpackages are cli/ and codemods/ (see pyproject.toml), and
this folder gives it `python -m idem_fix`."""
