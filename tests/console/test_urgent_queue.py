"""Urgent cases (danger to life) come first in the owner's queue, whatever the sort, and are flagged."""

from __future__ import annotations

import re

from tests.console.conftest import login, make_staff
from tests.factories import console_case


def tickets_in_order(html: str) -> list[str]:
    return re.findall(r'<tr(?: class="urgent")?><td><a href="[^"]+">(DR-[0-9-]+)</a>', html)


def test_an_urgent_case_is_first_in_its_agencys_queue_and_flagged_whatever_the_sort(console, services):
    urgent = console_case(services, agency_id="bma", description="มีคนโดนไฟดูดที่เสาไฟหน้าตลาด", urgent=True)
    ordinary = [console_case(services, agency_id="bma") for _ in range(3)]  # newer: first by date alone
    make_staff(services, "bma1", "agency_staff", agency_id="bma")
    client = console.test_client()
    login(client, "bma1")
    for sort in ("newest", "oldest", "due", "updated"):
        html = client.get(f"/console/cases?sort={sort}").get_data(as_text=True)
        order = tickets_in_order(html)
        assert order[0] == urgent and set(order[1:]) == set(ordinary), (sort, order)
    flagged = rf'<tr class="urgent"><td><a [^>]+>{urgent}</a>\s*<span class="badge urgent"[^>]*>🚨 ด่วน'
    row = re.search(flagged, html)
    assert row, "the urgent row carries its flag"
    assert html.count('class="urgent"') == 1
