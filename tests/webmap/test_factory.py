"""The app factory and the overview page, against the real test database."""

from __future__ import annotations

import pytest

from tests.webmap.conftest import app_for
from webmap import create_app

pytestmark = pytest.mark.db


def test_factory_does_not_connect():
    """Creating the app with an unreachable database works; nothing connects until a request."""
    app = create_app(
        {"TESTING": True, "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    )
    assert app.testing
    assert "visitmap_engine" not in app.extensions


@pytest.fixture
def client(database_url, reference_data):
    with app_for(database_url) as app, app.test_client() as client:
        yield client


def test_overview_lists_every_dong_with_counts(client):
    response = client.get("/overview")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count('data-code="11410') == 14
    assert "천연동" in page and "북가좌2동" in page
    # 112 facilities in the reference data, shown in the total row
    assert "<td>112</td>" in page


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
