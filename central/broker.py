"""The Mosquitto ACL that central's deployment relies on (docs/mosquitto.md explains it).

MQTT does not tell central who published a message, so "a device may publish only under
its own topic root" is the broker's job: each device's username is its device id.
"""

CENTRAL_USER = "central"

DEVICE_ACL = """\
# Devices: the username is the device id; a device writes only under its own root.
pattern write pagetally/v1/+/%u/txn
pattern write pagetally/v1/+/%u/status
pattern write pagetally/v1/+/%u/printer
pattern write pagetally/v1/+/%u/rpc/req
pattern read pagetally/v1/+/%u/ack
pattern read pagetally/v1/+/%u/rpc/res

# The central ledger service reads every device's txns and requests, writes acks and answers.
user central
topic readwrite pagetally/v1/#
"""
