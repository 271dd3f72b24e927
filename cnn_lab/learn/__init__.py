"""Teaching: glossary, troubleshooting, the coach, advice, guided experiments and the walkthrough."""
