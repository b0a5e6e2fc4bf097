"""Copy: live pages and cost while the copier is on, a Stop button, then what it cost.

One screen in two states, because a session's result replaces its live view in place:
whatever ended it (Stop, idle, credit), the user sees the figures where they looked.
The figures are the agent's; the screen only words them.
"""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout

from agent.api.payloads import CopyProgress, CopyResult
from ui import strings
from ui.host import PanelHost
from ui.screens.base import PanelScreen
from ui.widgets import Text, big_button, spacer

ENDED = ("settled", "review")


def pages_text(pages: int) -> str:
    return strings.COPY_PAGE if pages == 1 else strings.COPY_PAGES.format(pages=pages)


def kinds_text(view: CopyProgress | CopyResult) -> str:
    """E.g. '5 black and white · 2 colour': what each kind of page was, as priced."""
    kinds = view.pages_by_kind
    return "  \u00b7  ".join(strings.COPY_KIND.get(kind, "{pages} " + kind).format(pages=n)
                             for kind, n in kinds.items() if n)


def split_adds_up(result: CopyResult) -> bool:
    """The pages by kind are worth a line when there are two kinds and they make up the
    total (a session for review may charge pages the board never sorted into kinds)."""
    kinds = result.pages_by_kind
    return len(kinds) > 1 and sum(kinds.values()) == result.pages


def ended_text(result: CopyResult) -> str:
    return strings.COPY_ENDED.get(result.reason, strings.COPY_ENDED["stop"])


def charged_text(result: CopyResult) -> str:
    """What went off the balance, in the agent's money format (as for prints)."""
    if not result.charged:
        return strings.COPY_RESULT_NOTHING
    return strings.COPY_RESULT_CHARGED.format(amount=result.charged_text)


def logged_out_text(result: CopyResult) -> str:
    """One line for the login screen: a session that ended with the logout, settled after
    the user's screens were gone."""
    fields = {"ended": ended_text(result), "pages": pages_text(result.pages),
              "amount": result.charged_text}
    if not result.charged:
        return strings.COPY_LOGGED_OUT_NOTHING.format(**fields)
    return strings.COPY_LOGGED_OUT.format(**fields)


def copy_result_lines(result: CopyResult) -> list[str]:
    """The plain-words summary of one settled copy session."""
    pages = result.pages
    lines = [ended_text(result),
             strings.COPY_RESULT_PAGE if pages == 1
             else strings.COPY_RESULT_PAGES.format(pages=pages),
             *([kinds_text(result)] if split_adds_up(result) else []),
             strings.COPY_RESULT_COST.format(cost=result.cost_text),
             charged_text(result)]
    if result.review:
        lines.append(strings.COPY_RESULT_REVIEW)
    return lines


class CopyScreen(PanelScreen):
    def __init__(self, app: PanelHost) -> None:
        super().__init__(app, "copy", strings.COPY_TITLE)
        c, m = self.colours, self.metrics
        self.session_key = ""
        self.result: CopyResult | None = None
        self.stopping = False
        self.enforced = True
        self.texts: list[str] = []
        self.pages = Text(text="", font_size=m.font_huge, bold=True, color=c.text,
                          halign="center", size_hint_y=None, height=m.font_huge * 1.6)
        self.kinds = Text(text="", font_size=m.font_body, color=c.muted, halign="center",
                          size_hint_y=None, height=m.font_body * 1.5)
        self.cost = Text(text="", font_size=m.font_title, color=c.text, halign="center",
                         size_hint_y=None, height=m.font_title * 1.6)
        self.note = Text(text="", font_size=m.font_body, color=c.muted, halign="center",
                         fit=True)
        self.stop = big_button(strings.COPY_STOP, c, m, self.stop_copying, kind="danger",
                               size_hint_x=None, width=m.button_h * 5,
                               pos_hint={"center_x": 0.5})
        self.done_bar = BoxLayout(size_hint_y=None, height=m.button_h, spacing=m.spacing)
        self.more = big_button(strings.RESULT_MORE, c, m, app.controller.show_jobs)
        self.logout = big_button(strings.RESULT_LOGOUT, c, m, app.controller.logout,
                                 kind="secondary")
        self.done_bar.add_widget(self.more)
        self.done_bar.add_widget(self.logout)
        self.lines = BoxLayout(orientation="vertical", spacing=m.spacing)
        self._live()

    def starting(self) -> None:
        """Tapped Copy: the agent is switching the copier on."""
        self.session_key, self.result = "", None
        self._live()
        self.pages.text = self.kinds.text = self.cost.text = ""
        self.note.text = strings.COPY_STARTING
        self.stop.disabled = True

    def show_progress(self, view: CopyProgress) -> bool:
        """Live pages and cost of the session this panel started (or found running); False
        for a late page count after the session's result."""
        key = view.session_key
        if self.result is not None and key == self.session_key:
            return False
        if key != self.session_key:
            self.session_key, self.result = key, None
            self._live()
        self.pages.text = pages_text(view.pages)
        self.kinds.text = kinds_text(view)
        self.cost.text = strings.COPY_COST.format(cost=view.cost_text)
        self.enforced = view.enforced
        if not self.stopping:
            self.note.text = self.ready_text()
            self.stop.disabled = False
        return True

    def show_result(self, result: CopyResult) -> bool:
        """The settled session; False when it is not this screen's session."""
        key = result.session_key
        if self.session_key and key != self.session_key:
            return False
        self.session_key, self.result = key, result
        self.texts = copy_result_lines(result)
        self.header.title.text = strings.COPY_DONE_TITLE
        self.body.clear_widgets()
        self.lines.clear_widgets()
        c, m = self.colours, self.metrics
        for index, line in enumerate(self.texts):
            self.lines.add_widget(Text(
                text=line, fit=True, color=c.danger if line == strings.COPY_RESULT_REVIEW
                else c.text, bold=index == 1,
                font_size=m.font_title if index == 1 else m.font_body))
        self.lines.add_widget(spacer())
        self.body.add_widget(self.lines)
        self.body.add_widget(self.done_bar)
        return True

    def stop_copying(self) -> None:
        self.stopping = self.stop.disabled = True
        self.note.text = strings.COPY_STOPPING
        self.app.controller.stop_copy()

    def stop_failed(self, message: str) -> None:
        """Stop did not reach the agent: say so and offer the button again. A session that
        ended meanwhile (idle, credit) has its result on screen: nothing to offer."""
        if self.result is not None:
            return
        self.stopping = self.stop.disabled = False
        self.note.text = self.ready_text()
        self.show_error(message)

    def ready_text(self) -> str:
        """What to do now; on a copier the terminal cannot switch, said plainly."""
        return strings.COPY_READY if self.enforced else strings.COPY_NOT_ENFORCED

    @property
    def running(self) -> str:
        """The key of the session on screen while it has no result yet ("" for none)."""
        return self.session_key if self.result is None else ""

    def _live(self) -> None:
        self.stopping = False
        self.banner.clear()
        self.header.title.text = strings.COPY_TITLE
        if self.stop.parent is None:
            self.body.clear_widgets()
            for widget in (self.pages, self.kinds, self.cost, self.note, spacer(),
                           self.stop):
                self.body.add_widget(widget)
