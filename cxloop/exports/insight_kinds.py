"""Exports of insight_kinds (see :mod:`cxloop.exports.kinds`)."""

EXPORTS = ()
