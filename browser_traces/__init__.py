"""The relay that takes the browser's spans and re-exports them as ``<service>-frontend``."""
