"""Fakes of the outside services pressgate talks to, served on loopback for tests.

Import from the modules (`tests.fakes.fake_x`), not from here: keeping this file empty lets
`python -m tests.fakes.fake_x` run without the module being imported twice.
"""
