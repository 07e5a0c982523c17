"""The request story's own rules: bound for its block only, fields for the log line."""

from observability.context import RequestStory, current_story, story_bound


def test_the_story_is_bound_only_inside_its_block():
    assert current_story() is None
    with story_bound(RequestStory(request_id="r1", client_ip="127.0.0.1")) as story:
        assert current_story() is story
    assert current_story() is None
