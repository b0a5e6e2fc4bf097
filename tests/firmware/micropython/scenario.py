# Runs unchanged under MicroPython and CPython; the test compares the two outputs line by line.
import protocol as p
from core import Board


class Hal:
    def __init__(self):
        self.now = 0
        self.out = bytearray()
        self.relay_on = None

    def ticks_ms(self):
        return self.now

    def ticks_add(self, t, ms):
        return t + ms

    def ticks_diff(self, a, b):
        return a - b

    def relay(self, on):
        self.relay_on = on

    def uart_write(self, data):
        self.out.extend(data)

    def random_u32(self):
        return 0xA5A55A5A

    def reset_cause(self):
        return 0


print("crc", p.crc16(b"123456789"))
status = p.pack_status(0xDEADBEEF, 1000, 1, 0, 3, 20, 2, [(0xFFFFFFFF, 7), (0, 0), (1, 1), (2, 2)])
wire = p.encode(200, p.REPORT, status) + p.encode(0x7E, p.ENABLE, p.pack_enable(20, 30000))
print("wire", "".join(f"{b:02x}" for b in wire))
dec = p.Decoder()
got = []
for b in b"\x7e\x33" + wire:
    got += dec.feed(bytes((b,)))
print("frames", [(s, k, len(pl)) for s, k, pl in got], dec.skipped)
print("unpack", p.unpack_status(got[0][2]))

hal = Hal()
board = Board(hal)
print("boot relay", hal.relay_on)
host = p.Decoder()


def send(seq, kind, payload=b""):
    board.on_bytes(p.encode(seq, kind, payload))
    out = host.feed(bytes(hal.out))
    hal.out = bytearray()
    return [(s, k, "".join(f"{b:02x}" for b in pl)) for s, k, pl in out]


print(send(1, p.IDENTIFY, p.pack_identify()))
print(send(2, p.CONFIGURE, p.pack_configure(0, 0, 0, 0, 2, 40, 1)))
print(send(3, p.ENABLE, p.pack_enable(2, 1000)))
for _ in range(4):
    hal.now += 10
    board.on_edge(0, 1, hal.now)
    hal.now += 50
    board.on_edge(0, 0, hal.now)
    board.tick(hal.now)
print("after pulses", hal.relay_on, board.used, board.off_reason)
print(send(4, p.READ))
print(send(5, p.RENEW, p.pack_renew(1000)))
