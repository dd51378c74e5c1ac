"""Every URL of the product is classified: it shows a customer's or contact's data (and its
reads are logged) or it is exempted with a reason. A new page nobody classified fails here."""

from django.contrib import admin
from django.test import SimpleTestCase
from django.urls import URLPattern, URLResolver, get_resolver

from cxloop.audit import registry


def url_names(resolver=None, namespace=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}{pattern.namespace}:"
            yield from url_names(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield namespace + pattern.name


class RegistryTests(SimpleTestCase):
    def test_it_classifies_every_named_url(self):
        names = set(url_names())
        self.assertGreater(len(names), 60)  # the walk reached the admin's model pages
        unclassified = sorted(n for n in names if not registry.classified(n))
        self.assertEqual(unclassified, [], "add them to cxloop/audit/registry.py")

    def test_it_classifies_every_model_in_the_admin(self):
        models = {f"{m._meta.app_label}_{m._meta.model_name}" for m in admin.site._registry}
        known = set(registry.ADMIN_PERSONAL_MODELS) | set(registry.ADMIN_OTHER_MODELS)
        self.assertEqual(sorted(models - known), [])

    def test_no_url_is_both_personal_and_exempt(self):
        self.assertEqual(set(registry.PERSONAL_READS) & set(registry.EXEMPT), set())
        both = set(registry.ADMIN_PERSONAL_MODELS) & set(registry.ADMIN_OTHER_MODELS)
        self.assertEqual(both, set())

    def test_every_personal_admin_model_logs_its_list_and_change_pages(self):
        for model, kind in registry.ADMIN_PERSONAL_MODELS.items():
            self.assertEqual(registry.personal_read(f"admin:{model}_changelist"), (kind, ""))
            self.assertEqual(registry.personal_read(f"admin:{model}_change"), (kind, "object_id"))
        self.assertIsNone(registry.personal_read("admin:surveys_survey_change"))
