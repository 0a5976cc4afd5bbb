"""The page shell: base layout, language switch, home page and allauth pages inside it."""

from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

PASSWORD = "Un-long-mot-de-passe-42"


class _Collector(HTMLParser):
    """Collects the tags of a page with their attributes, and the text of each <label>."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.label_text: dict[str, str] = {}
        self._label_for: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "label":
            self._label_for = attributes.get("for")
            self.label_text.setdefault(self._label_for or "", "")

    def handle_endtag(self, tag):
        if tag == "label":
            self._label_for = None

    def handle_data(self, data):
        if self._label_for is not None:
            self.label_text[self._label_for] += data.strip()

    def find(self, tag, **wanted):
        return [
            attributes
            for name, attributes in self.tags
            if name == tag and all(attributes.get(k) == v for k, v in wanted.items())
        ]


def parse(response) -> _Collector:
    collector = _Collector()
    collector.feed(response.content.decode())
    return collector


def assert_labelled(page: _Collector, input_id: str, input_type: str) -> None:
    (field,) = page.find("input", id=input_id)
    assert field["type"] == input_type
    assert page.label_text.get(input_id), f"no visible label for #{input_id}"


@pytest.mark.django_db
def test_pages_are_in_french_by_default(client):
    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert '<html lang="fr"' in response.content.decode()


@pytest.mark.django_db
def test_a_browser_asking_for_english_gets_english(client):
    response = client.get(reverse("home"), headers={"accept-language": "en"})

    assert response.status_code == 200
    assert '<html lang="en"' in response.content.decode()


@pytest.mark.django_db
def test_the_language_switch_posts_to_set_language_and_sticks(client):
    page = parse(client.get(reverse("home")))
    (form,) = [f for f in page.find("form") if f.get("action") == reverse("set_language")]
    assert form["method"] == "post"
    assert page.find("select", id="language-select", name="language")
    assert page.label_text.get("language-select")
    assert page.find("button", id="language-submit", type="submit")
    assert page.find("input", name="next", value=reverse("home"))

    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("home")})

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert '<html lang="en"' in client.get(reverse("home")).content.decode()
    assert '<html lang="en"' in client.get(reverse("account_login")).content.decode()


@pytest.mark.django_db
def test_the_layout_has_landmarks_a_skip_link_and_a_live_region_for_messages(client):
    html = client.get(reverse("home")).content.decode()
    page = parse(client.get(reverse("home")))

    assert '<main id="main"' in html
    assert page.find("a", href="#main", **{"class": "skip-link"})
    assert page.find("header")
    assert page.find("footer")
    assert page.find("nav")[0].get("aria-label")
    assert page.find("div", id="messages", role="status")


@pytest.mark.django_db
def test_an_anonymous_visitor_sees_the_public_links_and_log_in_sign_up(client):
    page = parse(client.get(reverse("home")))
    links = {attributes.get("href") for attributes in page.find("a")}

    assert reverse("home") in links
    assert reverse("ledger:chain_list") in links
    assert reverse("ledger:receipt_verify") in links
    assert "/api/docs/" in links
    assert reverse("account_login") in links
    assert reverse("account_signup") in links
    assert "" not in links


@pytest.mark.django_db
def test_a_member_sees_their_profile_and_logs_out_with_a_post_form(client, django_user_model):
    user = django_user_model.objects.create_user("ana", "ana@example.org", PASSWORD)
    client.force_login(user)

    page = parse(client.get(reverse("home")))

    assert page.find("a", href=reverse("identity:profile"))
    assert not page.find("a", href=reverse("account_login"))
    (logout,) = page.find("form", action=reverse("account_logout"))
    assert logout["method"] == "post"
    assert page.find("input", name="csrfmiddlewaretoken")


@pytest.mark.django_db
def test_the_login_page_has_labelled_email_and_password_fields(client):
    response = client.get(reverse("account_login"))
    page = parse(response)

    assert response.status_code == 200
    assert '<main id="main"' in response.content.decode()
    assert page.find("form", method="post", action=reverse("account_login"))
    assert_labelled(page, "id_login", "email")
    assert_labelled(page, "id_password", "password")


@pytest.mark.django_db
def test_the_signup_page_has_labelled_email_and_password_fields(client):
    response = client.get(reverse("account_signup"))
    page = parse(response)

    assert response.status_code == 200
    assert page.find("form", method="post", action=reverse("account_signup"))
    assert_labelled(page, "id_email", "email")
    assert_labelled(page, "id_password1", "password")
    assert_labelled(page, "id_password2", "password")


@pytest.mark.django_db
def test_signing_up_creates_the_user_and_redirects(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "louise@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 302
    assert get_user_model().objects.filter(email="louise@example.org").exists()


@pytest.mark.django_db
def test_a_signup_error_is_shown_next_to_its_field(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "louise@example.org", "password1": PASSWORD, "password2": PASSWORD + "x"},
    )
    page = parse(response)

    assert response.status_code == 200
    assert not get_user_model().objects.filter(email="louise@example.org").exists()
    (field,) = page.find("input", id="id_password2")
    assert field.get("aria-invalid") == "true"
    assert "id_password2_error" in field.get("aria-describedby", "")
    assert page.find("ul", id="id_password2_error", **{"class": "errorlist"})


@pytest.mark.django_db
def test_a_wrong_password_is_reported_on_the_login_page(client, django_user_model):
    django_user_model.objects.create_user("ana", "ana@example.org", PASSWORD)

    response = client.post(
        reverse("account_login"), {"login": "ana@example.org", "password": "not-the-one"}
    )

    assert response.status_code == 200
    assert 'class="form-errors" role="alert"' in response.content.decode()
    assert "_auth_user_id" not in client.session
