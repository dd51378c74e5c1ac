"""Initiatives, roll-back watch, cycle review (L4); filled by the improvement-cycle issue."""
