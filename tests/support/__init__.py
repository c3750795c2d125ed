"""Test doubles and helpers shared by the test folders (replay server, provider payloads)."""
