"""The columnar fact store (L3); filled by the analytics-path issue."""
