"""The `rpi` key of cloud-config, as cloud-init's `cc_raspberry_pi` module documents it.

Debian 12's cloud-init (22.4) predates that module and lets any `rpi:` value through, so
we check it here. Written from the module's documentation and source (cloud-init 25.x):
`interfaces` takes booleans for spi, i2c and onewire, and for serial either a boolean or
a table of booleans `console` and `hardware`; `enable_usb_gadget` is a boolean. Unknown
keys are only warned about by the module, so a typo would silently do nothing: we reject.
"""

RPI_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "interfaces": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "spi": {"type": "boolean"},
                "i2c": {"type": "boolean"},
                "onewire": {"type": "boolean"},
                "serial": {"oneOf": [
                    {"type": "boolean"},
                    {"type": "object", "additionalProperties": False,
                     "properties": {"console": {"type": "boolean"},
                                    "hardware": {"type": "boolean"}}},
                ]},
            },
        },
        "enable_usb_gadget": {"type": "boolean"},
    },
}
