"""Pure text analytics for Russian and English (L0: no Django, no cxloop apps).

    from cxloop.text import detect_language, lemmas, sentiment, assign_themes, suggest_themes

Everything runs offline: the lemmatisers' dictionaries and the sentiment weights ship in installed
packages (docs/text-model-card.md says how the weights were made and how well they do).
"""

from cxloop.text.language import detect_language
from cxloop.text.lemmas import lemmas, word_forms
from cxloop.text.sentiment import Sentiment, engine_name, sentiment
from cxloop.text.suggest import SuggestedTheme, suggest_themes
from cxloop.text.themes import CommentWords, ThemeMatcher, assign_themes, comment_words

__all__ = [
    "CommentWords",
    "Sentiment",
    "SuggestedTheme",
    "ThemeMatcher",
    "assign_themes",
    "comment_words",
    "detect_language",
    "engine_name",
    "lemmas",
    "sentiment",
    "suggest_themes",
    "word_forms",
]
