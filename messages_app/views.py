"""Message pages: the list with its form and search box, and deleting one message."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiwoo import events
from messages_app.forms import MessageForm, SearchForm
from messages_app.selectors import message_get, message_list
from messages_app.services import message_create, message_delete

PAGE_SIZE = 20


@login_required
def message_list_page(request):
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        message = message_create(author=request.user, text=form.cleaned_data["text"])
        events.emit(request, "message.create", "message saved", message_id=message.pk, length=len(message.text))
        messages.success(request, _("Message saved."))
        return redirect("messages:list")

    search = SearchForm(request.GET)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    page = Paginator(message_list(author=request.user, query=query), PAGE_SIZE).get_page(request.GET.get("page"))
    if query:
        events.emit(
            request,
            "message.search",
            "messages searched",
            query_length=len(query),
            results=page.paginator.count,
        )
    elif request.method == "GET":
        events.emit(request, "page.view", "messages page viewed", page=page.number)
    return render(
        request,
        "messages_app/message_list.html",
        {"form": form, "search": search, "query": query, "page": page},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def message_delete_view(request, pk: int):
    message = message_get(author=request.user, pk=pk)
    message_delete(message=message)
    events.emit(request, "message.delete", "message deleted", message_id=pk)
    messages.success(request, _("Message deleted."))
    return redirect("messages:list")
