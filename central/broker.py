"""The Mosquitto ACL that central's deployment relies on (docs/mosquitto.md explains it).

MQTT does not tell central who published a message, so "a device may publish only under
its own topic root" is the broker's job: each device's username is its device id.
"""

CENTRAL_USER = "central"
ENROL_USER = "enrol"

DEVICE_ACL = """\
# Devices: the username is the device id; a device writes only under its own root.
pattern write pagetally/v1/+/%u/txn
pattern write pagetally/v1/+/%u/txns
pattern write pagetally/v1/+/%u/status
pattern write pagetally/v1/+/%u/printer
pattern write pagetally/v1/+/%u/rpc/req
pattern read pagetally/v1/+/%u/ack
pattern read pagetally/v1/+/%u/rpc/res
# ...and reads central's status, to learn whether an instance takes batched txns, and its
# request to send txns again after a ledger restore (v1.2).
pattern read pagetally/v1/_central/+/status
pattern read pagetally/v1/_central/ledger/resend

# The central ledger service reads every device's txns and requests, writes acks and answers.
user central
topic readwrite pagetally/v1/#
topic readwrite pagetally/enrol/v1/#

# Enrolment (contract/enrol.py): one shared account for new devices, which may only ask for
# an account of their own. Answers carry no secret; requests are readable by central only.
user enrol
topic write pagetally/enrol/v1/+/+/req
topic read pagetally/enrol/v1/+/+/res
"""
