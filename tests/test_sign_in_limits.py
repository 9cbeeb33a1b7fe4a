"""Issue 16, point 6: sign-in that cannot be raced or used to lock others out.

Failed attempts are counted in the database, atomically, so every worker and
instance shares them; passwords are checked a few at a time; locking one account
out does not lock out another from the same address; and the client address is
taken from forwarded headers only from the proxies named in a setting.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from services.container import Waymark
from services.settings import Settings
from services.sign_in import SignIn, SignInLimits, TooManyAttempts
from tests.conftest import SCRAPER, TEST_METRICS_TOKEN, TEST_SECRET, fresh_postgres_database
from tests.helpers import assert_problem, make_user
from tests.observe import parse_metrics, value
from tests.processes import Server
from web.app import create_app

RIGHT = "a long and right password"
OTHER_RIGHT = "another long right password"
ADDRESS = "203.0.113.9"
BURST = 100
MiB = 1024 * 1024


def _rss() -> int:
    """This process's resident memory now, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def _rss_of(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return 0
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class PeakMemory:
    """Samples a measure of memory every few milliseconds, keeping the highest."""

    def __init__(self, measure: Callable[[], int]) -> None:
        self.measure = measure
        self.peak = measure()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.measure())

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def two_instances(settings: Settings) -> Iterator[tuple[Waymark, Waymark]]:
    """Two instances on one store, as two workers (or two servers) would be."""
    first = Waymark(settings)
    second = Waymark(settings)
    try:
        make_user(first, "jo", "admin")
        make_user(first, "kim", "reviewer")
        first.credentials.set_password("jo", RIGHT)
        first.credentials.set_password("kim", OTHER_RIGHT)
        yield first, second
    finally:
        second.close()
        first.close()


def _attempt(instance: Waymark, username: str, password: str, address: str) -> str:
    return _attempt_with(instance.sign_ins, username, password, address)


def _attempt_with(sign_ins: SignIn, username: str, password: str, address: str) -> str:
    try:
        session = sign_ins.sign_in(username, password, address)
    except TooManyAttempts:
        return "throttled"
    return "signed in" if session else "wrong"


def test_a_burst_of_wrong_passwords_across_two_instances_gets_the_configured_checks_only(
    two_instances: tuple[Waymark, Waymark],
) -> None:
    # Given one account, and two instances sharing the store
    first, second = two_instances
    allowed = first.settings.sign_in_attempts
    checks_before = first.sign_ins.checks + second.sign_ins.checks

    # When 100 wrong passwords arrive at once, half at each instance, from one address,
    # while another account signs in from that address
    with ThreadPoolExecutor(max_workers=32) as pool:
        guesses = [
            pool.submit(_attempt, (first, second)[i % 2], "jo", f"guess number {i}", ADDRESS)
            for i in range(BURST)
        ]
        meanwhile = pool.submit(_attempt, second, "kim", OTHER_RIGHT, ADDRESS)
        outcomes = Counter(g.result() for g in guesses)

    # Then exactly the configured number of passwords were checked; the rest were refused
    # before any check; and the other account signed in
    assert outcomes == {"wrong": allowed, "throttled": BURST - allowed}
    assert meanwhile.result() == "signed in"
    checks = first.sign_ins.checks + second.sign_ins.checks - checks_before
    assert checks == allowed + 1  # the guesses, and the other account's right password
    # And the account stays locked for its owner too, at either instance, until it passes
    assert _attempt(first, "jo", RIGHT, "198.51.100.7") == "throttled"
    assert _attempt(second, "jo", RIGHT, ADDRESS) == "throttled"
    assert first.sign_ins.checks + second.sign_ins.checks - checks_before == allowed + 1


def test_passwords_are_checked_a_few_at_a_time_so_a_burst_does_not_grow_memory(
    settings: Settings,
) -> None:
    # Given forty accounts (argon2 takes 64 MiB for each password it checks), and a
    # sign-in that checks two at a time and lets the rest wait as long as it takes
    instance = Waymark(settings)
    try:
        names = [f"user{i}" for i in range(40)]
        for name in names:
            make_user(instance, name, "reviewer")
            instance.credentials.set_password(name, f"{name} has a long password")
        patient = SignIn(
            instance.credentials, instance.database, SignInLimits(concurrent_checks=2, wait=600)
        )
        baseline = _rss()

        # When each gets a wrong password at once
        def attempt(name: str) -> bool:
            return patient.sign_in(name, "not it at all", ADDRESS) is None

        with PeakMemory(_rss) as memory, ThreadPoolExecutor(max_workers=40) as pool:
            refused = list(pool.map(attempt, names))

        # Then every one was checked, but only two at a time: memory grew by about
        # two checks' worth, not forty (2.5 GiB)
        assert refused == [True] * 40
        assert patient.checks == 40
        assert memory.peak - baseline < 300 * MiB, (memory.peak - baseline) // MiB
    finally:
        instance.close()


def test_a_sign_in_that_waits_too_long_for_its_turn_is_told_to_try_again(
    settings: Settings,
) -> None:
    instance = Waymark(settings)
    try:
        make_user(instance, "jo", "admin")
        instance.credentials.set_password("jo", RIGHT)
        hurried = SignIn(
            instance.credentials, instance.database, SignInLimits(concurrent_checks=1, wait=0)
        )
        outcomes = Counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            for result in pool.map(
                lambda i: _attempt_with(hurried, "jo", RIGHT, f"192.0.2.{i}"), range(8)
            ):
                outcomes[result] += 1
        # Some found no free turn and were told to try again; those did not use up the
        # account's attempts, so its owner signs in at once afterwards
        assert outcomes["signed in"] >= 1 and sum(outcomes.values()) == 8
        assert hurried.checks == outcomes["signed in"]
        assert _attempt_with(hurried, "jo", RIGHT, ADDRESS) == "signed in"
    finally:
        instance.close()


def test_a_locked_account_does_not_lock_out_another_account_from_the_same_address(
    client: TestClient,
) -> None:
    waymark: Waymark = client.app.state.waymark  # type: ignore[attr-defined]
    make_user(waymark, "jo", "admin")
    make_user(waymark, "kim", "reviewer")
    waymark.credentials.set_password("jo", RIGHT)
    waymark.credentials.set_password("kim", OTHER_RIGHT)
    client.headers.pop("Authorization")
    for _ in range(waymark.settings.sign_in_attempts):
        assert_problem(client.post("/auth/sign-in", data={"username": "jo", "password": "x"}), 401)
    for _ in range(20):  # an attacker keeps going: refused before any check, not counted
        locked = client.post("/auth/sign-in", data={"username": "jo", "password": "y"})
        assert_problem(locked, 429)
    assert 0 < int(locked.headers["Retry-After"]) <= 900

    other = client.post("/auth/sign-in", data={"username": "kim", "password": OTHER_RIGHT})
    assert other.status_code == 200, other.text
    assert other.json()["username"] == "kim"


def test_a_right_password_clears_the_count(settings: Settings) -> None:
    instance = Waymark(settings)
    try:
        make_user(instance, "jo", "admin")
        instance.credentials.set_password("jo", RIGHT)
        for _ in range(settings.sign_in_attempts - 1):
            assert _attempt(instance, "jo", "wrong guess", ADDRESS) == "wrong"
        assert _attempt(instance, "jo", RIGHT, ADDRESS) == "signed in"
        for _ in range(settings.sign_in_attempts):  # the count started again from nothing
            assert _attempt(instance, "jo", "wrong guess", ADDRESS) == "wrong"
        assert _attempt(instance, "jo", RIGHT, ADDRESS) == "throttled"
    finally:
        instance.close()


def test_a_lockout_ends_when_its_window_passes(settings: Settings) -> None:
    window = 5.0
    short = settings.model_copy(update={"sign_in_window_seconds": window, "sign_in_attempts": 1})
    instance = Waymark(short)
    try:
        make_user(instance, "jo", "admin")
        instance.credentials.set_password("jo", RIGHT)
        started = time.time()
        assert _attempt(instance, "jo", "wrong guess", ADDRESS) == "wrong"
        assert _attempt(instance, "jo", RIGHT, ADDRESS) == "throttled"
        time.sleep(max(0.0, started + window + 0.2 - time.time()))
        assert _attempt(instance, "jo", RIGHT, ADDRESS) == "signed in"
    finally:
        instance.close()


def test_an_address_failing_at_many_accounts_is_refused(settings: Settings) -> None:
    strict = settings.model_copy(update={"sign_in_address_failures": 3})
    instance = Waymark(strict)
    try:
        for name in ("a1", "a2", "a3", "a4"):
            make_user(instance, name, "reviewer")
            instance.credentials.set_password(name, RIGHT)
        for name in ("a1", "a2", "a3"):
            assert _attempt(instance, name, "one guess each", ADDRESS) == "wrong"
        assert _attempt(instance, "a4", "one guess each", ADDRESS) == "throttled"
        assert _attempt(instance, "a4", RIGHT, "198.51.100.7") == "signed in"
    finally:
        instance.close()


def _spray(client: TestClient, accounts: list[str], forwarded_for: str) -> list[int]:
    return [
        client.post(
            "/auth/sign-in",
            data={"username": name, "password": "a wrong password"},
            headers={"X-Forwarded-For": forwarded_for, "Authorization": ""},
        ).status_code
        for name in accounts
    ]


def test_forwarded_addresses_are_ignored_unless_the_proxy_is_named(settings: Settings) -> None:
    strict = settings.model_copy(update={"sign_in_address_failures": 2})
    # Without WAYMARK_FORWARDED_ALLOW_IPS, a caller cannot choose its address by header
    with TestClient(create_app(strict)) as client:
        assert _spray(client, ["b1", "b2"], "198.51.100.1") == [401, 401]
        assert _spray(client, ["b3"], "198.51.100.2") == [429]
    # Named as a proxy (the test client connects as "testclient"), its header is believed
    trusting = strict.model_copy(update={"forwarded_allow_ips": "testclient"})
    with TestClient(create_app(trusting)) as client:
        assert _spray(client, ["c1", "c2"], "198.51.100.3") == [401, 401]
        assert _spray(client, ["c3"], "198.51.100.3") == [429]
        assert _spray(client, ["c3"], "198.51.100.4") == [401]


@pytest.fixture
def served(postgres_admin: str, tmp_path: Path) -> Iterator[Server]:
    """`waymark serve --workers 2` on PostgreSQL, with two users who have passwords."""
    for url in fresh_postgres_database(postgres_admin):
        settings = Settings(
            data_dir=tmp_path,
            database_url=url,
            secret_key=TEST_SECRET,
            metrics_token=TEST_METRICS_TOKEN,
        )
        instance = Waymark(settings)
        try:
            for name, password in (("jo", RIGHT), ("kim", OTHER_RIGHT)):
                make_user(instance, name, "reviewer")
                instance.credentials.set_password(name, password)
        finally:
            instance.close()
        # One more failure from an address than the burst makes: see the test
        server = Server(settings, WAYMARK_SIGN_IN_ADDRESS_FAILURES="6")
        server.args += ["--workers", "2"]
        server.start(wait=False)
        try:
            server.wait_until_up(timeout=120)
            yield server
        finally:
            server.stop()


def _workers(parent: int) -> list[int]:
    """The worker processes under the server (uvicorn's children)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.postgres
def test_a_burst_at_a_two_worker_server_is_checked_the_configured_times_in_bounded_memory(
    served: Server,
) -> None:
    assert served.process is not None
    workers = _workers(served.process.pid)
    assert len(workers) >= 2, workers

    def sign_in(username: str, password: str, claimed: str = "198.51.100.1") -> int:
        response = httpx.post(
            f"{served.url}/auth/sign-in",
            data={"username": username, "password": password},
            # new connections, shared out between workers; a header naming another address,
            # which a loopback caller is not believed about (no proxy is named)
            headers={"Connection": "close", "X-Forwarded-For": claimed},
            timeout=60,
        )
        return response.status_code

    # When 100 wrong passwords for one account arrive at once, while another account
    # signs in
    with (
        PeakMemory(lambda: max(_rss_of(pid) for pid in workers)) as largest,
        PeakMemory(lambda: sum(_rss_of(pid) for pid in workers)) as together,
        ThreadPoolExecutor(max_workers=50) as pool,
    ):
        guesses = [pool.submit(sign_in, "jo", f"wrong {i}") for i in range(BURST)]
        meanwhile = pool.submit(sign_in, "kim", OTHER_RIGHT)
        statuses = Counter(g.result() for g in guesses)

    # Then five were checked (and refused), the rest throttled, and the other signed in
    assert statuses == {401: 5, 429: BURST - 5}, statuses
    assert meanwhile.result() == 200
    scrape = httpx.get(f"{served.url}/metrics", headers=SCRAPER, timeout=10)
    assert value(parse_metrics(scrape.text), "waymark_password_checks_total") == 6
    # And no worker grew past 300 MB (nor both together past twice that)
    assert largest.peak < 300 * MiB, largest.peak // MiB
    assert together.peak < 2 * 300 * MiB, together.peak // MiB

    # And the address is the connection's, whatever X-Forwarded-For claims: its sixth
    # failure is its last (WAYMARK_SIGN_IN_ADDRESS_FAILURES=6)
    assert sign_in("kim", "wrong once", claimed="198.51.100.2") == 401
    assert sign_in("kim", OTHER_RIGHT, claimed="198.51.100.3") == 429
