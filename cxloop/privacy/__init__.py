"""Personal data: export and erase one contact's data everywhere, retention rules, and the
admin's audit log and personal-data pages (docs/decisions/006-audit-and-personal-data.md).

In the top layer because erasing reaches every app that holds a contact's data: customers,
surveys, feedback, the fact store and the caches.
"""
