"""PDF, XLSX and Parquet exports and digests (L6); filled by the reports issue."""
