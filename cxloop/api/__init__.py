"""The JSON API (L6); filled by the integration issue."""
