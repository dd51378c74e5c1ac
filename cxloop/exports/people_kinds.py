"""Exports of people_kinds (see :mod:`cxloop.exports.kinds`)."""

EXPORTS = ()
