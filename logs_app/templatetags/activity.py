"""Template tags of the activity page."""

from django import template

from logs_app.grafana import grafana_links

register = template.Library()

# Stands for the trace id in the link templates: activity.js puts each row's id in its place.
TRACE_ID_PLACEHOLDER = "__trace_id__"


@register.simple_tag
def grafana_link_templates() -> dict:
    """The Grafana links of a placeholder trace id, so the live view links rows the way the server does."""
    return grafana_links(TRACE_ID_PLACEHOLDER) or {}
