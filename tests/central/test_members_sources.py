"""Membership sources: OfficeRnD against a local stand-in over real HTTP, and member files."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from central.members.file_source import FileSource, parse_members
from central.members.officernd import OfficeRnD, OfficeRnDSettings, _member
from central.members.source import FeeRequest, MembershipError
from tests.central.officernd_standin import StandIn


@pytest.fixture
def standin() -> Iterator[StandIn]:
    s = StandIn().start()
    for c in range(7):
        s.add_company(f"co{c}", f"Company {c}")
    for m in range(120):
        s.add_member(f"m{m:03d}", f"Member {m}", f"m{m}@example.org",
                     company=f"co{m % 7}" if m % 4 else None, tags=["print"] if m % 2 else [])
    yield s
    s.stop()


class Naps:
    """Records the waits the client asks for instead of sleeping through them."""

    def __init__(self) -> None:
        self.taken: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)


def client(s: StandIn, naps: Naps | None = None, **kw: object) -> OfficeRnD:
    fields = {"org": s.org, "client_id": s.client_id, "client_secret": s.client_secret,
              "api_url": s.url, "identity_url": s.url, **kw}
    return OfficeRnD(OfficeRnDSettings(**fields), sleep=naps or Naps())  # type: ignore[arg-type]


def test_members_and_companies_come_in_pages(standin: StandIn) -> None:
    directory = client(standin).directory()
    assert len(directory.members) == 120 and len(directory.companies) == 7
    assert standin.requests["GET /members"] == 3  # 50 + 50 + 20
    m5 = directory.members[5]
    assert (m5.id, m5.email, m5.company, m5.tags) == ("m005", "m5@example.org", "co5",
                                                      ("print",))
    assert directory.members[4].company is None  # an individual member
    assert standin.requests["POST /oauth/token"] == 1


def test_an_expired_token_is_renewed_once(standin: StandIn) -> None:
    orn = client(standin)
    orn.directory()
    standin.expire_tokens()
    assert len(orn.directory().members) == 120
    assert standin.requests["POST /oauth/token"] == 2


def test_429_waits_as_told_and_5xx_backs_off(standin: StandIn) -> None:
    naps = Naps()
    standin.fail("/members", 429, times=2, retry_after="3")
    standin.fail("/companies", 503, times=2)
    assert len(client(standin, naps).directory().members) == 120
    assert naps.taken == [0.5, 1.0, 3.0, 3.0]  # companies first, then members


@pytest.mark.parametrize(("setup", "message"), [
    (lambda s: s.fail("/members", 503, times=9), r"server error \(503\) while listing members"),
    (lambda s: s.fail("/members", 429, times=9, retry_after="1"), r"slow down \(429\)"),
    (lambda s: setattr(s, "client_secret", "rotated"), "refused the application's client id"),
    (lambda s: setattr(s, "org", "other"), "does not know the organisation 'acme'"),
    (lambda s: s.fail("/companies", 403), r"may not do this while listing companies \(403\)"),
])
def test_plain_words_when_it_cannot_work(standin: StandIn, setup: object, message: str
                                         ) -> None:
    orn = client(standin, org=standin.org)
    setup(standin)  # type: ignore[operator]
    with pytest.raises(MembershipError, match=message):
        orn.directory()


def test_an_unreachable_server_is_named(standin: StandIn) -> None:
    orn = client(standin, attempts=2)
    standin.stop()
    with pytest.raises(MembershipError, match=r"could not reach OfficeRnD at http://127\.0\.0"):
        orn.directory()


def fee(ref: str, amount: int = 734, currency: str = "EUR") -> FeeRequest:
    return FeeRequest("m001", amount, currency, ref, dt.date(2026, 3, 2), company_id="co1")


def test_a_fee_is_booked_with_the_exact_price(standin: StandIn) -> None:
    orn = client(standin)
    fee_id = orn.create_fee(fee("ref-1"))
    jpy = orn.create_fee(fee("ref-2", 500, "JPY"))
    assert [(f["_id"], f["price"], f["member"], f["date"]) for f in standin.fees] == [
        (fee_id, "7.34", "m001", "2026-03-02"), (jpy, "500", "m001", "2026-03-02")]
    assert orn.find_fee("m001", "ref-1") == fee_id and orn.find_fee("m001", "ref-9") is None


def test_a_fee_whose_answer_was_lost_is_found_not_booked_twice(standin: StandIn) -> None:
    orn = client(standin)
    standin.lose_fee_answers = 1
    fee_id = orn.create_fee(fee("ref-lost"))
    assert [f["_id"] for f in standin.fees] == [fee_id]


def test_a_fee_refused_with_5xx_and_not_booked_is_tried_again(standin: StandIn) -> None:
    naps = Naps()
    orn = client(standin, naps)
    standin.fail("/fees", 500)  # the POST fails before booking
    fee_id = orn.create_fee(fee("ref-5xx"))
    assert [f["_id"] for f in standin.fees] == [fee_id] and naps.taken == [0.5]


# --- files --------------------------------------------------------------------------------------

def test_a_csv_member_file(tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_text("id,name,email,company_id,company,status,plans,tags\n"
                    "1,Ann,ann@x.org,c1,Acme,active,Desk;Print,vip\n"
                    "2,,bo@x.org,,,former,,\n")
    source = FileSource(path, tmp_path / "fees.jsonl")
    d = source.directory()
    assert [(c.id, c.name) for c in d.companies] == [("c1", "Acme")]
    assert [(m.id, m.name, m.company, m.status, m.plans, m.tags) for m in d.members] == [
        ("1", "Ann", "c1", "active", ("Desk", "Print"), ("vip",)),
        ("2", "bo@x.org", None, "former", (), ())]
    assert source.create_fee(fee("r1")) == "r1"
    assert source.find_fee("m001", "r1") == "r1" and source.find_fee("m002", "r1") is None


def test_a_json_member_file(tmp_path: Path) -> None:
    data = {"companies": [{"id": "c1", "name": "Acme"}],
            "members": [{"id": "1", "email": "a@x.org", "company": "c1", "tags": ["t"]}]}
    d = parse_members(json.dumps(data).encode(), "m.json")
    assert (d.companies[0].name, d.members[0].company, d.members[0].tags) == ("Acme", "c1",
                                                                             ("t",))


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"name\nAnn\n", "m.csv", "needs a header line with at least 'id' and 'email'"),
    (b"id,email\n1,\n2,b@x\n", "m.csv", "line 2: the id and the email must not be empty"),
    (b"\xff\xfe", "m.csv", "not UTF-8 text"),
    (b'{"members": [{"id": "1"}]}', "m.json", "member 1: 'email' is missing"),
    (b'{"members": {}}', "m.json", 'must be an object with a "members" list'),
    (b"[1,", "m.json", "not JSON"),
])
def test_bad_member_files_are_named(data: bytes, name: str, message: str) -> None:
    with pytest.raises(MembershipError, match=message):
        parse_members(data, name)


@settings(max_examples=300)
@given(st.binary(max_size=300), st.sampled_from(["m.csv", "m.json"]))
def test_any_bytes_give_members_or_a_plain_error(data: bytes, name: str) -> None:
    try:
        directory = parse_members(data, name)
    except MembershipError as exc:
        assert str(exc)
    else:
        assert all(m.id and m.email for m in directory.members)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


@settings(max_examples=300)
@given(st.fixed_dictionaries({"_id": JSON}, optional={
    k: JSON for k in ("name", "email", "company", "status", "location", "tags")}))
def test_any_member_record_from_the_api_is_read(raw: dict[str, object]) -> None:
    member = _member(raw)  # no exception for any shape of the other fields
    assert member.id == str(raw["_id"]) and all(isinstance(t, str) for t in member.tags)


def test_a_csv_the_csv_module_cannot_read_is_a_plain_error() -> None:
    """Found by hypothesis: a carriage return then a NUL raised csv.Error to the caller."""
    with pytest.raises(MembershipError, match="the members CSV cannot be read: "):
        parse_members(b"\r\x00", "m.csv")
