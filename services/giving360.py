"""A programme's grants as a 360Giving data package (JSON) and as its flat CSV.

The 360Giving Data Standard (https://standard.threesixtygiving.org, schema 1.4)
publishes grants. Each grant awarded to a project of the programme is one grant
of the package, with its values in force (after corrections) as the record
stood at the instant asked for:

- ``id``: the ``WAYMARK_360GIVING_PREFIX`` setting, a dash, the grant entry's id;
- ``title``: the project's title; ``description``: the grant's purpose;
- ``currency`` GBP; ``amountAwarded``; ``amountDisbursed``, the sum of its
  payments in force; ``awardDate``, the date the award was decided;
- ``plannedDates`` from the planned start and end, where given;
- ``recipientOrganization``: the council, by its code (an org-id such as
  ``GB-LAE-EXE``) and name; ``beneficiaryLocation``: the council's area, by its
  GSS code where one is recorded;
- ``fundingOrganization``: the funder's org-id where the grant gives one, else
  an identifier made from the prefix and the funder's name;
- ``grantProgramme``: the fund and round, where given; ``dateModified``: when
  the grant, a correction of it, a payment or its closure was last recorded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from domain.errors import Conflict

#: The version of the standard the package follows (its schema's major.minor).
VERSION = "1.4"
#: GSS codes' entity codes (their first three characters), as 360Giving's geoCodeType
#: codelist names the areas councils govern.
GEO_CODE_TYPES = {
    "E06": "UA",
    "E07": "NMD",
    "E08": "MD",
    "E09": "LONB",
    "E10": "CTY",
    "W06": "UA",
    "S12": "UA",
    "N09": "LGD",
}
#: The flat CSV: each column's title, as the standard's spreadsheet template has it.
CSV_COLUMNS = (
    "Identifier",
    "Title",
    "Description",
    "Currency",
    "Amount Awarded",
    "Amount Disbursed",
    "Award Date",
    "Planned Dates:Start Date",
    "Planned Dates:End Date",
    "Recipient Org:Identifier",
    "Recipient Org:Name",
    "Funding Org:Identifier",
    "Funding Org:Name",
    "Grant Programme:Title",
    "Beneficiary Location:Name",
    "Beneficiary Location:Geographic Code",
    "Beneficiary Location:Geographic Code Type",
    "Last Modified",
)


class NoGrants(Conflict):
    """The programme had awarded no grants (as of the instant asked for): the standard's
    package needs at least one grant, so there is nothing to publish."""

    def __init__(self, programme_name: str, as_of: str | None) -> None:
        when = f"as of {as_of}" if as_of else "yet"
        super().__init__(
            f"{programme_name} has awarded no grants {when}: a 360Giving data package "
            "needs at least one grant, so there is nothing to publish"
        )
        self.as_of = as_of


def package(
    *,
    programme: Mapping[str, Any],
    projects: Sequence[Mapping[str, Any]],
    councils: Mapping[str, Mapping[str, Any]],
    prefix: str,
    modified: str,
    as_of: bool = False,
) -> dict[str, Any]:
    """The package of every grant of ``projects`` (as ``projections.funding`` gives them).

    ``councils`` are the recipients by code (``name``, ``gss_code``); ``modified``
    is the instant the record is shown as of (now, or the ``as_of`` asked for); ``as_of``
    is given when the record is shown as it stood. Raises ``NoGrants`` when there are none.
    """
    grants = [
        _grant(grant, project, councils.get(project["council_code"], {}), prefix)
        for project in projects
        for grant in project["grants"]
    ]
    if not grants:
        raise NoGrants(programme["name"], modified if as_of else None)
    publisher = programme.get("sponsor_body") or programme["name"]
    return {
        "version": VERSION,
        "title": f"{programme['name']}: grants",
        "description": f"Grants awarded to the projects of {programme['name']}, as recorded "
        f"in Waymark as of {modified}.",
        "identifier": f"{prefix}-programme-{programme['programme_id']}",
        "modified": modified,
        "publisher": {"name": publisher},
        "grants": grants,
    }


def _grant(
    grant: Mapping[str, Any],
    project: Mapping[str, Any],
    council: Mapping[str, Any],
    prefix: str,
) -> dict[str, Any]:
    code = project["council_code"]
    council_name = council.get("name") or code
    found: dict[str, Any] = {
        "id": f"{prefix}-{grant['entry_id']}",
        "title": project["title"],
        "description": grant["purpose"],
        "currency": "GBP",
        "amountAwarded": _number(grant["amount"]),
        "amountDisbursed": _number(grant["paid"]),
        "awardDate": grant["decided_on"],
        "recipientOrganization": [{"id": code, "name": council_name}],
        "fundingOrganization": [
            {
                "id": grant.get("funder_id") or _made_id(prefix, grant["funder"]),
                "name": grant["funder"],
            }
        ],
        "dateModified": grant["modified_at"],
    }
    planned = {
        key: grant[name]
        for key, name in (("startDate", "planned_start"), ("endDate", "planned_end"))
        if grant.get(name)
    }
    if planned:
        found["plannedDates"] = [planned]
    if grant.get("fund"):
        found["grantProgramme"] = [{"title": grant["fund"]}]
    gss_code = council.get("gss_code")
    if gss_code:
        location = {"name": council_name, "geoCode": gss_code}
        geo_type = GEO_CODE_TYPES.get(gss_code[:3])
        if geo_type:
            location["geoCodeType"] = geo_type
        found["beneficiaryLocation"] = [location]
    return found


def csv_rows(found: Mapping[str, Any]) -> list[list[str]]:
    """The package's grants as rows of the flat CSV (``CSV_COLUMNS``), amounts exact."""
    rows = []
    for g in found["grants"]:
        planned = (g.get("plannedDates") or [{}])[0]
        location = (g.get("beneficiaryLocation") or [{}])[0]
        programme = (g.get("grantProgramme") or [{}])[0]
        rows.append(
            [
                g["id"],
                g["title"],
                g["description"],
                g["currency"],
                _exact(g["amountAwarded"]),
                _exact(g["amountDisbursed"]),
                g["awardDate"],
                planned.get("startDate", ""),
                planned.get("endDate", ""),
                g["recipientOrganization"][0]["id"],
                g["recipientOrganization"][0]["name"],
                g["fundingOrganization"][0]["id"],
                g["fundingOrganization"][0]["name"],
                programme.get("title", ""),
                location.get("name", ""),
                location.get("geoCode", ""),
                location.get("geoCodeType", ""),
                g["dateModified"],
            ]
        )
    return rows


def _made_id(prefix: str, funder: str) -> str:
    """An identifier for a funder with no org-id: the prefix and its name, as a slug."""
    slug = re.sub(r"[^a-z0-9]+", "-", funder.lower()).strip("-") or "funder"
    return f"{prefix}-funder-{slug}"


def _number(amount: str) -> int | float:
    """An exact amount (pence at most) as the JSON number the standard asks for."""
    value = Decimal(amount)
    return int(value) if value == value.to_integral_value() else float(value)


def _exact(number: int | float) -> str:
    return str(Decimal(str(number)).quantize(Decimal("0.01")))
