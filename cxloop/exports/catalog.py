"""Every kind of export, by name: the lists and dashboards of :mod:`.kinds` and of the modules
beside it, one module a part of the product."""

from cxloop.exports import insight_kinds, kinds, loop_kinds, people_kinds

KINDS = {
    kind.name: kind
    for module in (kinds, insight_kinds, loop_kinds, people_kinds)
    for kind in module.EXPORTS
}
