"""Account: balance and the last transactions with the portal's seven columns.

A site hides parts with `[panel] hidden`: "account.balance", "account.transactions", or a
single column such as "account.transactions.comment".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.properties import ListProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.recycleboxlayout import RecycleBoxLayout
from kivy.uix.recycleview import RecycleView

from agent.api.payloads import Account, Row
from ui import strings
from ui.host import PanelHost
from ui.screens.base import PanelScreen, short_time
from ui.widgets import Box, Text

# Relative column widths; the order is the portal's.
COLUMNS = {"date": 1.25, "transacted_by": 1.0, "type": 0.8, "system_note": 1.5,
           "comment": 1.3, "amount_text": 0.85, "balance_text": 0.85}
RIGHT_ALIGNED = {"amount_text", "balance_text"}
CELLS: dict[str, Callable[[Row], str]] = {
    "date": lambda row: short_time(row.date), "transacted_by": lambda row: row.transacted_by,
    "type": lambda row: row.type, "system_note": lambda row: row.system_note,
    "comment": lambda row: row.comment, "amount_text": lambda row: row.amount_text,
    "balance_text": lambda row: row.balance_text}


class TableRow(BoxLayout):
    """One transaction line; RecycleView sets `cells` as rows scroll into view."""

    cells = ListProperty()

    def __init__(self, **kwargs: Any) -> None:
        from kivy.app import App

        app = App.get_running_app()
        super().__init__(**kwargs)
        m = app.metrics
        self.spacing, self.padding = m.spacing, (m.spacing, 0)
        self.labels: list[Text] = []
        for column in app.screen("account").columns:
            label = Text(font_size=m.font_small, color=app.colours.text, shorten=True,
                         shorten_from="right", size_hint_x=COLUMNS[column],
                         halign="right" if column in RIGHT_ALIGNED else "left")
            self.labels.append(label)
            self.add_widget(label)

    def on_cells(self, _row: object, cells: list[str]) -> None:
        for label, text in zip(self.labels, cells, strict=False):
            label.text = text


class AccountScreen(PanelScreen):
    def __init__(self, app: PanelHost) -> None:
        super().__init__(app, "account", strings.ACCOUNT_TITLE, buttons=[
            (strings.HEADER_BACK, app.controller.show_jobs),
            (strings.HEADER_LOGOUT, app.controller.logout),
        ])
        c, m = self.colours, self.metrics
        hidden = app.panel_config.is_hidden
        self.columns = [col for col in COLUMNS if not hidden(f"account.transactions.{col}")]
        self.balance = Text(text="", font_size=m.font_title, bold=True, color=c.text,
                            size_hint_y=None, height=m.font_title * 1.6)
        if not hidden("account.balance"):
            self.body.add_widget(self.balance)
        self.status = Text(text=strings.ACCOUNT_LOADING, font_size=m.font_body,
                           color=c.muted, size_hint_y=None, height=m.font_body * 1.6)
        self.table = RecycleView(do_scroll_x=False, bar_width=max(6, m.spacing),
                                 scroll_type=["bars", "content"])
        layout = RecycleBoxLayout(orientation="vertical", size_hint_y=None,
                                  default_size=(None, m.button_h * 0.75),
                                  default_size_hint=(1, None), spacing=1)
        layout.bind(minimum_height=layout.setter("height"))
        self.table.add_widget(layout)
        self.table.viewclass = TableRow  # only sticks once the layout manager is in place
        if not hidden("account.transactions"):
            heading = Box(bg=c.secondary, size_hint_y=None, height=m.font_small * 2.2,
                          spacing=m.spacing, padding=(m.spacing, 0))
            for column in self.columns:
                heading.add_widget(Text(
                    text=strings.ACCOUNT_COLUMNS[column], font_size=m.font_small, bold=True,
                    color=c.secondary_text, size_hint_x=COLUMNS[column], shorten=True,
                    halign="right" if column in RIGHT_ALIGNED else "left"))
            self.body.add_widget(heading)
            self.body.add_widget(self.status)
            self.body.add_widget(self.table)
        self.rows: list[list[str]] = []

    def show_loading(self) -> None:
        self.banner.clear()
        self.status.text = strings.ACCOUNT_LOADING
        self.table.data = []

    def show_account(self, summary: Account) -> None:
        """An `account.summary` result: balance and up to 100 rows."""
        self.balance.text = strings.ACCOUNT_BALANCE.format(balance=summary.balance_text)
        self.rows = [[CELLS[col](row) for col in self.columns]
                     for row in summary.transactions]
        self.table.data = [{"cells": cells} for cells in self.rows]
        self.status.text = "" if self.rows else strings.ACCOUNT_EMPTY
        self.status.height = 0 if self.rows else self.metrics.font_body * 1.6
