"""Set up my devices: a QR code for the portal URL from the site config, and the URL."""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image

from ui import strings
from ui.host import PanelHost
from ui.qr import qr_texture
from ui.screens.base import PanelScreen
from ui.widgets import Text, spacer


class DevicesScreen(PanelScreen):
    def __init__(self, app: PanelHost) -> None:
        super().__init__(app, "devices", strings.DEVICES_TITLE,
                         buttons=[(strings.HEADER_BACK, app.go_home)])
        c, m = self.colours, self.metrics
        url = app.panel_config.panel.portal_url
        row = BoxLayout(orientation="horizontal", spacing=m.pad * 2)
        side = m.scale * 330
        self.qr = Image(size_hint=(None, None), size=(side, side), fit_mode="contain")
        if url:
            self.qr.texture = qr_texture(url)
            row.add_widget(self.qr)
        text = BoxLayout(orientation="vertical", spacing=m.pad)
        text.add_widget(Text(text=strings.DEVICES_SCAN if url else strings.DEVICES_NO_URL,
                             font_size=m.font_title, color=c.text, fit=True))
        if url:
            text.add_widget(Text(text=strings.DEVICES_OR, font_size=m.font_body,
                                 color=c.muted, fit=True))
            text.add_widget(Text(text=url, font_size=m.font_body, bold=True,
                                 color=c.accent, fit=True))
        text.add_widget(spacer())
        row.add_widget(text)
        self.body.add_widget(row)
        self.url = url
