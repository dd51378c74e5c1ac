"""The closed loop: alert rules, cases, inquiries (L4); filled by the closed-loop issue."""
