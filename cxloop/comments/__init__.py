"""What customers say: every comment's language, sentiment and themes (issue #14).

The taxonomy of themes a CX lead writes (:class:`~cxloop.comments.models.Theme`) and, for each
comment (a text answer of a customer's response), what :mod:`cxloop.text` found in it
(:class:`~cxloop.comments.models.CommentInsight`). Comments are enriched after their response is
announced by the one way in (:mod:`cxloop.comments.tasks`), and again by ``cxloop text rebuild``
after the taxonomy or the engine changes. Below the fact store and the feedback app, above the
survey records (docs/decisions/018-comments-app.md).
"""
