"""Message pages: the list with its form and search box, and deleting one message."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.errors import allow_methods
from messages_app.forms import MessageForm, SearchForm
from messages_app.selectors import MAX_PAGE_NUMBER, message_get, message_page
from messages_app.services import message_create, message_delete
from observability import events

PAGE_SIZE = 20


@allow_methods("GET", "HEAD", "POST")
@login_required
def message_list_page(request):
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            message_create(author=request.user, text=form.cleaned_data["text"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Message saved."))
            return redirect("messages:list")

    search = SearchForm(request.GET)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    page = _page(request, query)
    if not query and request.method == "GET":
        events.emit("page.view", "messages page viewed", page=page.number)
    return render(
        request,
        "messages_app/message_list.html",
        {"form": form, "search": search, "query": query, "page": page},
        status=400 if form.errors or search.errors else 200,
    )


def _page(request, query: str):
    """The asked-for page; a bad or missing number means the first, one past the end the last."""
    try:
        # A bigger number in the address is taken as the biggest.
        number = min(max(1, int(request.GET.get("page", 1))), MAX_PAGE_NUMBER)
    except (TypeError, ValueError):
        number = 1
    return message_page(author=request.user, query=query, number=number, size=PAGE_SIZE, last_past_end=True)


@allow_methods("POST")
@login_required
def message_delete_view(request, pk: int):
    message_delete(message=message_get(author=request.user, pk=pk))
    messages.success(request, _("Message deleted."))
    return redirect("messages:list")


@allow_methods("GET", "HEAD")
def home(request):
    """Send a logged-in user to their messages, anyone else to the log-in page."""
    return redirect("messages:list" if request.user.is_authenticated else "accounts:login")
