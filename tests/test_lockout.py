"""Sign-in lockout cannot be turned against a user (issue #9, finding 4): wrong passwords lock a
user name only from the address they came from; an address trying many names is stopped; the
user and the administrators are told."""

from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from cxloop.outbox.models import OutboxMessage
from cxloop.security.lockout import ADDRESS_LIMIT, PAIR_LIMIT
from cxloop.test import PASSWORD, BaseTestCase

HOME = "10.0.0.1"


def told() -> list[tuple[str, str]]:
    """(kind, recipient) of every e-mail queued in the outbox."""
    return sorted(OutboxMessage.objects.values_list("kind", "recipient"))


@override_settings(LANGUAGE_CODE="en")
class LockoutTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        User.objects.create_superuser("root", "root@example.org", PASSWORD)

    def setUp(self):
        cache.clear()  # the once-per-lockout notice is remembered in the cache

    def sign_in(self, username, password, address):
        return self.client.post(
            reverse("login"),
            {"username": username, "password": password},
            REMOTE_ADDR=address,
            HTTP_ACCEPT_LANGUAGE="en",
        )

    def signed_in(self) -> bool:
        return "_auth_user_id" in self.client.session

    def test_it_lets_the_user_in_from_their_address_after_attackers_elsewhere(self):
        for attacker in ("203.0.113.5", "203.0.113.6"):
            for _ in range(PAIR_LIMIT + 2):
                self.sign_in("owner", "wrong", attacker)
        # The attackers are locked out even with the right password...
        self.assertEqual(self.sign_in("owner", PASSWORD, "203.0.113.5").status_code, 429)
        self.assertFalse(self.signed_in())
        # ...and the owner signs in from their own address.
        response = self.sign_in("owner", PASSWORD, HOME)
        self.assertRedirects(response, reverse("home"), fetch_redirect_response=False)
        self.assertTrue(self.signed_in())

    def test_it_locks_one_name_from_one_address_but_not_other_names_there(self):
        for _ in range(PAIR_LIMIT):
            self.sign_in("owner", "wrong", HOME)
        self.assertEqual(self.sign_in("owner", PASSWORD, HOME).status_code, 429)
        # A colleague behind the same address is not locked out.
        self.sign_in("teammate", PASSWORD, HOME)
        self.assertTrue(self.signed_in())

    def test_it_stops_an_address_that_tries_many_user_names(self):
        for i in range(ADDRESS_LIMIT - 1):
            self.assertNotEqual(self.sign_in(f"guess{i}", "wrong", "198.51.100.7").status_code, 429)
        # The failure that reaches the address's limit is answered with the lockout page.
        self.assertEqual(self.sign_in("guess-last", "wrong", "198.51.100.7").status_code, 429)
        response = self.sign_in("teammate", PASSWORD, "198.51.100.7")
        self.assertEqual(response.status_code, 429)
        self.assertFalse(self.signed_in())
        self.assertContains(response, "from this address", status_code=429)
        self.assertEqual(told(), [("lockout", "root@example.org")])

    def test_it_forgets_only_the_own_count_on_a_sign_in(self):
        # An insider with a valid account cannot reset the count against another name.
        for _ in range(PAIR_LIMIT - 1):
            self.sign_in("owner", "wrong", HOME)
        self.sign_in("teammate", PASSWORD, HOME)
        self.client.logout()
        self.sign_in("owner", "wrong", HOME)
        self.assertEqual(self.sign_in("owner", PASSWORD, HOME).status_code, 429)

    def test_it_tells_the_user_and_the_admins_once(self):
        for _ in range(PAIR_LIMIT + 3):
            response = self.sign_in("owner", "wrong", "203.0.113.5")
        self.assertEqual(response.status_code, 429)
        self.assertContains(response, "<strong>owner</strong>", status_code=429)
        self.assertContains(response, "Try again after", status_code=429)
        self.assertContains(response, "(15 min.)", status_code=429)
        self.assertEqual(
            told(), [("lockout", "owner@example.org"), ("lockout", "root@example.org")]
        )
        to_owner = OutboxMessage.objects.get(recipient="owner@example.org")
        self.assertIn("203.0.113.5", to_owner.text)
        self.assertIn(f"{PAIR_LIMIT} times", to_owner.text)
        # The admin sees the attempts and the notices.
        self.client.force_login(User.objects.get(username="root"))
        attempts = self.client.get("/admin/axes/accessattempt/")
        self.assertContains(attempts, "203.0.113.5")
        self.assertContains(self.client.get("/admin/outbox/outboxmessage/"), "owner@example.org")

    @override_settings(HTTPS_PROXY=True)
    def test_it_tells_clients_apart_behind_the_proxy_whatever_they_claim(self):
        def through_proxy(username, password, client_address, claimed=""):
            forwarded = f"{claimed}, {client_address}" if claimed else client_address
            return self.client.post(
                reverse("login"),
                {"username": username, "password": password},
                REMOTE_ADDR="192.0.2.1",  # the proxy
                HTTP_X_FORWARDED_FOR=forwarded,
                HTTP_X_FORWARDED_PROTO="https",
                secure=True,
            )

        # The attacker claims to be the owner's address; the proxy appends their real one.
        for _ in range(PAIR_LIMIT):
            through_proxy("owner", "wrong", "203.0.113.5", claimed=HOME)
        self.assertEqual(through_proxy("owner", PASSWORD, "203.0.113.5").status_code, 429)
        self.assertEqual(
            list(AccessAttempt.objects.values_list("ip_address", flat=True).distinct()),
            ["203.0.113.5"],
        )
        through_proxy("owner", PASSWORD, HOME)
        self.assertTrue(self.signed_in())
