"""Issue 16, point 9: less exposed to strangers.

/metrics asks for its own token; the API documentation serves its own copy of
Swagger UI under a CSP without inline scripts; a project one may not read
answers the same whether or not its council is enrolled; sign-in and sign-out
forms refuse other sites; authenticated responses are not stored by caches;
key files are private; passwords follow the NCSC's guidance.
"""

from __future__ import annotations

import re
import stat
from datetime import date
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from domain.errors import InvalidValue
from domain.project import Project
from services.container import Waymark
from services.credentials import password_problem
from services.demo import create_demo_users, load_and_sign_demo
from services.settings import Settings
from tests.conftest import SCRAPER
from tests.helpers import assert_problem, make_user
from web.app import create_app
from web.cli import app as cli
from web.deps import SESSION_COOKIE

PASSWORD = "a long enough password"


def _waymark(client: TestClient) -> Waymark:
    waymark: Waymark = client.app.state.waymark  # type: ignore[attr-defined]
    return waymark


# -- /metrics ------------------------------------------------------------------------------


def test_metrics_answer_only_the_scrapers_token(client: TestClient) -> None:
    assert client.get("/metrics", headers=SCRAPER).status_code == 200
    assert_problem(client.get("/metrics"), 401)  # a user's token is not the scraper's
    assert_problem(client.get("/metrics", headers={"Authorization": ""}), 401)
    assert_problem(client.get("/metrics", headers={"Authorization": "Bearer wrong"}), 401)
    refused = client.get("/metrics", headers={"Authorization": "Bearer \u00e9t\u00e9".encode()})
    assert_problem(refused, 401)


def test_without_a_metrics_token_metrics_are_off(settings: Settings) -> None:
    unset = settings.model_copy(update={"metrics_token": None})
    with TestClient(create_app(unset)) as client:
        for headers in ({}, SCRAPER):
            refused = client.get("/metrics", headers=headers)
            assert_problem(refused, 403)
            assert "WAYMARK_METRICS_TOKEN" in refused.json()["detail"]


def test_an_empty_or_short_metrics_token_is_not_a_token() -> None:
    assert Settings(metrics_token="").metrics_token is None  # as `WAYMARK_METRICS_TOKEN=`
    assert Settings(metrics_token="   ").metrics_token is None
    with pytest.raises(ValueError, match="at least 16 characters"):
        Settings(metrics_token="short")


# -- the API documentation -----------------------------------------------------------------


def test_the_api_docs_serve_their_own_swagger_ui_under_a_csp_without_inline_scripts(
    client: TestClient,
) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    csp = docs.headers["content-security-policy"]
    scripts = re.search(r"script-src ([^;]*)", csp)
    assert scripts is not None and scripts.group(1).split() == ["'self'"]
    assert "http" not in csp  # no CDN
    # Every script is a file of ours; nothing is fetched from elsewhere
    assert re.findall(r"<script[^>]*>\s*</script>", docs.text) == [
        '<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>',
        '<script src="/static/app/api-docs.js"></script>',
    ]
    assert "http" not in docs.text and "//" not in docs.text  # every address is our own
    for asset in (
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui/swagger-ui.css",
        "/static/app/api-docs.js",
    ):
        assert client.get(asset).status_code == 200, asset
    assert client.get("/docs/oauth2-redirect").status_code == 404
    assert client.get("/redoc").status_code == 404  # it loaded its script from a CDN


# -- no enrolment oracle -------------------------------------------------------------------


def _world(waymark: Waymark) -> tuple[UUID, dict[str, str]]:
    records = waymark.records
    programme = records.launch_programme(name="P", description="", sponsor_body="", actor="t")
    cohort = records.form_cohort(
        programme_id=programme.id,
        name="C",
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 6, 1),
        actor="t",
    ).id
    for code in ("GB-EXE", "GB-DEV", "GB-HCK"):
        records.register_council(
            code=code,
            name=code,
            council_type="district",
            region="south_west",
            population=None,
            gss_code=None,
            political_control=None,
            actor="t",
        )
    records.enrol_council(cohort_id=cohort, council_code="GB-EXE", title="X", actor="t")
    other = records.launch_programme(name="Q", description="", sponsor_body="", actor="t").id
    tokens = {
        "outsider": make_user(waymark, "part.out", "participant", council_code="GB-HCK"),
        "other_manager": make_user(waymark, "pm.out", "programme_manager", programme_id=str(other)),
        "admin": make_user(waymark, "admin.user", "admin"),
    }
    return cohort, tokens


@pytest.mark.parametrize("path", ["/api/projects/{}", "/api/projects/{}/history", "/projects/{}"])
def test_a_project_one_may_not_read_answers_the_same_whether_or_not_it_exists(
    client: TestClient, path: str
) -> None:
    cohort, tokens = _world(_waymark(client))
    enrolled = Project.create_id(cohort, "GB-EXE")
    not_enrolled = Project.create_id(cohort, "GB-DEV")  # a council of the register
    for person in ("outsider", "other_manager"):
        headers = {"Authorization": f"Bearer {tokens[person]}"}
        answers = [
            client.get(path.format(project), headers=headers)
            for project in (enrolled, not_enrolled)
        ]
        assert answers[0].status_code == answers[1].status_code == 403, person
        assert answers[0].text == answers[1].text, person
    # Those who may read every cohort still hear that a project does not exist
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    assert client.get(path.format(not_enrolled), headers=admin).status_code == 404
    assert client.get(path.format(enrolled), headers=admin).status_code == 200


# -- sign-in and sign-out forms refuse other sites -----------------------------------------


@pytest.fixture
def browser(client: TestClient) -> TestClient:
    waymark = _waymark(client)
    make_user(waymark, "jo", "admin")
    waymark.credentials.set_password("jo", PASSWORD)
    return TestClient(client.app)


CROSS_SITE = [
    {"Origin": "https://attacker.example"},
    {"Origin": "null"},
    {"Origin": "http://testserver.attacker.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "http://testserver", "Sec-Fetch-Site": "cross-site"},
]


@pytest.mark.parametrize("path", ["/auth/sign-in", "/sign-in"])
@pytest.mark.parametrize("headers", CROSS_SITE)
def test_a_sign_in_posted_from_another_site_is_refused(
    browser: TestClient, path: str, headers: dict[str, str]
) -> None:
    refused = browser.post(
        path, data={"username": "jo", "password": PASSWORD}, headers=headers, follow_redirects=False
    )
    assert refused.status_code == 403
    assert SESSION_COOKIE not in refused.headers.get("set-cookie", "")


@pytest.mark.parametrize("path", ["/auth/sign-in", "/sign-in"])
def test_a_sign_in_from_our_own_page_or_a_non_browser_client_works(
    browser: TestClient, path: str
) -> None:
    for headers in (
        {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},  # typed into the address bar, or a bookmark
        {},  # not a browser: no Origin, no Sec-Fetch-Site
    ):
        response = browser.post(
            path,
            data={"username": "jo", "password": PASSWORD},
            headers=headers,
            follow_redirects=False,
        )
        assert response.status_code in (200, 303), (headers, response.text)
        assert SESSION_COOKIE in response.headers["set-cookie"]
        browser.cookies.clear()


@pytest.mark.parametrize("path", ["/auth/sign-out", "/sign-out"])
def test_a_sign_out_posted_from_another_site_is_refused(browser: TestClient, path: str) -> None:
    signed_in = browser.post("/auth/sign-in", data={"username": "jo", "password": PASSWORD})
    csrf = signed_in.json()["csrf_token"]
    refused = browser.post(
        path,
        data={"csrf_token": csrf},
        headers={"Origin": "https://attacker.example", "X-CSRF-Token": csrf},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert browser.get("/api/me").status_code == 200  # still signed in


# -- no-store ------------------------------------------------------------------------------


def test_authenticated_responses_are_not_stored(browser: TestClient, client: TestClient) -> None:
    for path in ("/api/me", "/api/programmes", "/api/nowhere"):
        assert client.get(path).headers["cache-control"] == "no-store", path
    signed_in = browser.post("/auth/sign-in", data={"username": "jo", "password": PASSWORD})
    assert signed_in.headers["cache-control"] == "no-store"  # it carries the CSRF token
    for path in ("/", "/api/me", "/councils"):
        assert browser.get(path).headers["cache-control"] == "no-store", path
    browser.cookies.clear()
    anonymous = TestClient(client.app)
    for path in ("/healthz", "/sign-in", "/static/app/init.js"):
        assert "cache-control" not in anonymous.get(path).headers, path


# -- private files -------------------------------------------------------------------------


def test_the_signing_key_is_created_readable_by_its_owner_only(waymark: Waymark) -> None:
    key = waymark.settings.signing_key_path
    assert not key.exists()
    assert waymark.ledger.signing_key is not None  # made on first use
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


# -- passwords -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short one", "at least 12 characters"),
        ("elevenchars", "at least 12 characters"),
        ("password1234", "used most often"),
        ("Password1234", "used most often"),
        ("qwertyuiop123", "used most often"),
        ("123456789012", "run of keys"),
        ("0987654321098", "run of keys"),
        ("qwerty uiop asdf", "run of keys"),
        ("abcdefghijklmn", "run of keys"),
        ("aaaaaaaaaaaaaaaa", "repeat"),
        ("abababababababab", "repeat"),
        ("someone", "at least 12 characters"),
        ("plum harbour violin", None),
    ],
)
def test_passwords_follow_the_ncsc_guidance(password: str, problem: str | None) -> None:
    found = password_problem(password, "someone")
    assert (found is None) if problem is None else (problem in (found or "")), found


def test_long_passphrases_without_composition_rules_are_accepted() -> None:
    for password in (
        "correct horse battery staple",
        "three random words",
        "twelve chars",  # exactly 12, all lower case, no digits: no composition rules
        "ünïcödé pässwörd",
    ):
        assert password_problem(password) is None, password
    assert password_problem("jo.smith.long", "jo.smith.long") == "must not be the username"
    assert password_problem("x" * 1001) is not None


def test_a_password_the_guidance_rules_out_is_refused_and_not_stored(
    client: TestClient,
) -> None:
    waymark = _waymark(client)
    make_user(waymark, "jo", "admin")
    with pytest.raises(InvalidValue) as refused:
        waymark.credentials.set_password("jo", "password1234")
    assert refused.value.field == "password"
    assert waymark.database.one("SELECT 1 AS x FROM credential_passwords") is None


def test_the_demo_passwords_follow_the_guidance(settings: Settings) -> None:
    waymark = Waymark(settings.model_copy(update={"demo": True}))
    try:
        load_and_sign_demo(waymark)
        sign_ins = create_demo_users(waymark)
    finally:
        waymark.close()
    assert sign_ins
    for sign_in in sign_ins:
        assert password_problem(sign_in.password, sign_in.username) is None


def test_users_add_refuses_a_weak_password_before_recording_anything(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "WAYMARK_DATA_DIR": str(settings.data_dir),
        "WAYMARK_DATABASE_URL": settings.database_url or "",
        "WAYMARK_SECRET_KEY": settings.secret_key.get_secret_value(),
    }.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    weak = runner.invoke(
        cli,
        ["users", "add", "sam", "--role", "reviewer", "--password"],
        input="password1234\npassword1234\n",
    )
    assert weak.exit_code == 2, weak.output
    assert "used most often" in weak.output
    good = runner.invoke(
        cli,
        ["users", "add", "sam", "--role", "reviewer", "--password"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert good.exit_code == 0, good.output  # "sam" was not recorded by the refused one
