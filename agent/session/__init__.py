"""The life every metering session lives, prints and copies alike (`life.py`)."""
