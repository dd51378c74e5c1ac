"""Pure text analytics for Russian and English (L0); filled by the text-analytics issue."""
