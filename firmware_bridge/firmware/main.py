"""Board entry point (MicroPython): relay off, then the main loop that feeds the watchdog.

Install: copy protocol.py, core.py, hal_rp2.py and this file to the board's
root (`mpremote cp ... :`); see docs/copier-board.md.
"""

import time

from core import Board
from hal_rp2 import Rp2Hal


def run():
    hal = Rp2Hal()
    board = Board(hal)
    hal.attach(board)
    while True:
        data = hal.uart_read()
        if data:
            board.on_bytes(data)
        board.tick(hal.ticks_ms())
        hal.feed()
        time.sleep_ms(1)


run()
