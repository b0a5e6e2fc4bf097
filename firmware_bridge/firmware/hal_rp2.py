"""The RP2040 hardware layer (MicroPython): relay pin, counting inputs, UART, watchdog.

Pin numbers are the board's wiring (docs/copier-board.md): relay driver on
GP15, opto-isolated inputs 0-3 on GP2-GP5, UART0 on GP0/GP1 at 115200 8N1.
"""

import os
import time

import machine

RELAY_GPIO = 15
INPUT_GPIOS = (2, 3, 4, 5)
UART_ID = 0
BAUD = 115200
WATCHDOG_MS = 2000


class Rp2Hal:
    def __init__(self):
        # The relay first: off before anything else can run.
        self.relay_pin = machine.Pin(RELAY_GPIO, machine.Pin.OUT, value=0)
        self.uart = machine.UART(UART_ID, BAUD, tx=machine.Pin(0), rx=machine.Pin(1),
                                 rxbuf=1024)
        self.inputs = [machine.Pin(g, machine.Pin.IN, machine.Pin.PULL_UP)
                       for g in INPUT_GPIOS]
        self.cause = machine.reset_cause()
        self.wdt = None

    def attach(self, board):
        """Route each input edge to the board, with the time it happened."""
        for index, pin in enumerate(self.inputs):
            def handler(p, index=index):
                board.on_edge(index, p.value(), time.ticks_ms())
            pin.irq(handler, machine.Pin.IRQ_RISING | machine.Pin.IRQ_FALLING)
        self.wdt = machine.WDT(timeout=WATCHDOG_MS)

    def ticks_ms(self):
        return time.ticks_ms()

    def ticks_add(self, t, ms):
        return time.ticks_add(t, ms)

    def ticks_diff(self, a, b):
        return time.ticks_diff(a, b)

    def relay(self, on):
        self.relay_pin.value(1 if on else 0)

    def uart_write(self, data):
        self.uart.write(data)

    def uart_read(self):
        return self.uart.read() if self.uart.any() else None

    def random_u32(self):
        return int.from_bytes(os.urandom(4), "little")

    def reset_cause(self):
        if self.cause == machine.PWRON_RESET:
            return 0
        if self.cause == machine.WDT_RESET:
            return 1
        return 2

    def feed(self):
        self.wdt.feed()
