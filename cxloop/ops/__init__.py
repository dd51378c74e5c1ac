"""Running cxloop in production: health, metrics, structured logs (docs/deploy.md)."""
