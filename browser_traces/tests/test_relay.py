"""The relay's own rules, without a request: what is kept of a batch and what is cut."""

import copy

from browser_traces import relay
from browser_traces.tests.test_api import page_load_batch


def test_strip_url_cuts_queries_and_fragments_of_url_like_values_only():
    assert relay.strip_url("https://x.example/a?b=c#d") == "https://x.example/a"
    assert relay.strip_url("/messages/?q=word") == "/messages/"
    assert relay.strip_url("a question? yes") == "a question? yes"


def test_the_batch_model_is_not_mutated_by_parsing():
    body = page_load_batch()
    before = copy.deepcopy(body)
    relay.parse_batch(relay.TracesRequest.model_validate(body))
    assert body == before
