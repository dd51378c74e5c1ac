"""Exports of loop_kinds (see :mod:`cxloop.exports.kinds`)."""

EXPORTS = ()
