import os

from django.core.wsgi import get_wsgi_application
from django.urls import reverse

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxloop.settings")
application = get_wsgi_application()
# Import every view now (reversing a name loads the whole URL map), not on the first request:
# each worker loads the application when it starts, so nobody waits a second and a half for
# their first page.
reverse("home")
