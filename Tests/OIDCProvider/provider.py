#!/usr/bin/env python3
"""A real OpenID Connect provider for Sesame's tests: django-oauth-toolkit (PyPI) with OIDC enabled.

Nobody on the Sesame team wrote this provider; this file only configures it. It serves on 127.0.0.1 at the given
port, keeps its data (SQLite database, RSA signing key) in the given directory, and on start makes sure there is
a confidential client for Sesame (authorization code, PKCE required, RS256 ID tokens) and a test user.

    python3 Tests/OIDCProvider/provider.py --port 9451 --data /tmp/oidc --redirect-uri http://127.0.0.1:8080/auth/django/callback

Client ID `sesame`, client secret `sesame-secret-for-tests`, user `ada` / `correct-horse-battery-staple`
(email ada@example.com). The issuer is http://127.0.0.1:PORT/o. It prints `ready` on stdout once it listens.
"""

import argparse
import io
import os
import signal
import sys
import threading

CLIENT_ID = "sesame"
CLIENT_SECRET = "sesame-secret-for-tests"
USERNAME = "ada"
PASSWORD = "correct-horse-battery-staple"
EMAIL = "ada@example.com"


def configure(port: int, data: str) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.conf import settings

    key_file = os.path.join(data, "oidc-rsa.pem")
    if not os.path.exists(key_file):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        with open(key_file, "wb") as handle:
            handle.write(pem)
    with open(key_file) as handle:
        private_key = handle.read()

    settings.configure(
        DEBUG=False,
        SECRET_KEY="sesame-test-provider-not-secret",
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "oauth2_provider",
        ],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(data, "db.sqlite3")}},
        TEMPLATES=[{
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "OPTIONS": {"loaders": [("django.template.loaders.locmem.Loader", {
                "registration/login.html": (
                    "<!doctype html><title>Test provider sign-in</title>"
                    "<form method='post' action=''>{% csrf_token %}"
                    "<input name='username'><input name='password' type='password'>"
                    "<input type='hidden' name='next' value='{{ next }}'><button>Sign in</button></form>"
                ),
            })]},
        }],
        # Distinct cookie names: the provider and Sesame share 127.0.0.1, and browsers ignore ports for cookies.
        SESSION_COOKIE_NAME="idp_sessionid",
        CSRF_COOKIE_NAME="idp_csrftoken",
        LOGIN_URL="/accounts/login/",
        USE_TZ=True,
        OAUTH2_PROVIDER={
            "OIDC_ENABLED": True,
            "OIDC_RSA_PRIVATE_KEY": private_key,
            "PKCE_REQUIRED": True,
            "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
            "ALLOWED_SCHEMES": ["http", "https"],
            "OAUTH2_VALIDATOR_CLASS": __name__ + ".EmailClaims",
            "SCOPES": {"openid": "OpenID Connect", "email": "Email address", "profile": "Profile"},
            # A refresh token works once: each refresh rotates it, and a reused one revokes its whole family.
            "ROTATE_REFRESH_TOKEN": True,
            "REFRESH_TOKEN_REUSE_PROTECTION": True,
        },
    )


def make_validator():
    from oauth2_provider.oauth2_validators import OAuth2Validator

    class EmailClaims(OAuth2Validator):
        oidc_claim_scope = OAuth2Validator.oidc_claim_scope

        def get_additional_claims(self, request):
            user = request.user
            return {"email": user.email, "email_verified": True, "name": user.get_full_name() or user.username}

    return EmailClaims


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--redirect-uri", action="append", required=True)
    parser.add_argument("--exit-with-stdin", action="store_true", help="exit when stdin reaches end of file")
    args = parser.parse_args()
    os.makedirs(args.data, exist_ok=True)
    configure(args.port, args.data)

    import django
    django.setup()
    globals()["EmailClaims"] = make_validator()

    from django.contrib.auth import views as auth_views
    from django.urls import include, path

    globals()["urlpatterns"] = [
        path("accounts/login/", auth_views.LoginView.as_view()),
        path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    ]

    from django.core.management import call_command
    call_command("migrate", verbosity=0, interactive=False)

    from django.contrib.auth.models import User
    from oauth2_provider.models import Application

    if not User.objects.filter(username=USERNAME).exists():
        User.objects.create_user(USERNAME, EMAIL, PASSWORD, first_name="Ada", last_name="Lovelace")
    Application.objects.filter(client_id=CLIENT_ID).delete()
    Application.objects.create(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(args.redirect_uri),
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
        name="Sesame tests",
    )

    from wsgiref.simple_server import WSGIRequestHandler, make_server
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIServer
    from django.core.wsgi import get_wsgi_application

    class ThreadingServer(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *_):
            pass

    # Stop on SIGTERM even when the parent started us with signals blocked, and when the parent goes away
    # (its end of our stdin closes), so no provider outlives its test run.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    if args.exit_with_stdin:
        threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()

    # Counts the refresh grants that reach the token endpoint, for the tests that show a refresh happens once:
    # GET /test/refresh-count answers the count.
    django_app = get_wsgi_application()
    refreshes = {"count": 0}
    lock = threading.Lock()

    def counting_app(environ, start_response):
        if environ.get("PATH_INFO") == "/test/refresh-count":
            start_response("200 OK", [("Content-Type", "text/plain")])
            with lock:
                return [str(refreshes["count"]).encode()]
        if environ.get("PATH_INFO") == "/o/token/" and environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
            if b"grant_type=refresh_token" in body:
                with lock:
                    refreshes["count"] += 1
        return django_app(environ, start_response)

    server = make_server("127.0.0.1", args.port, counting_app, server_class=ThreadingServer, handler_class=QuietHandler)
    print("ready", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
