"""pv: process supervision in the daemontools tradition."""

__version__ = "0.1.0"
