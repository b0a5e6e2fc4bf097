"""`pagetally provision`: seed files for Raspberry Pi OS (cloud-init) and writing them to cards.

Imports nothing else of the project: it runs on a technician's laptop. Templates for what
the Pi sets up on first boot live in `provision/templates/` so they ship in the wheel.
"""
