import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import reverse

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxloop.settings")
application = get_wsgi_application()
# Import every view now (reversing a name loads the whole URL map), not on the first request:
# each worker loads the application when it starts, so nobody waits a second and a half for
# their first page.
reverse("home")

# The garbage collector, for a server's requests. A 1,000-response batch holds tens of
# thousands of objects at once, all alive until it ends: with the default threshold (700) the
# collector ran 30 times a batch, promoting them until full collections walked the 265,000
# objects of the loaded application, a fifth of the batch's CPU (measured with gc.callbacks).
# What the application loaded stays for the process's life: frozen, no collection walks it;
# and collections start only after 50,000 new objects, by when a request's have been freed.
gc.freeze()
gc.set_threshold(50_000)
