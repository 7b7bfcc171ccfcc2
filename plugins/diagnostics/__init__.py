"""Diagnostics: what a customer's device says about itself, kept on the session's device.

Device information (manufacturer, brand, model, operating system, memory, processor,
device name, serial number, free-form extras) arrives two ways: the device client
sends it over the relay (the relay reports it; this plugin's worker stores it), or
the customer's app sends it over HTTPS (``PUT /api/v1/sessions/{id}/diagnostics``).
Either way it is validated as a whole and stored in one transaction, or refused
with the field that is wrong and nothing stored.

Imports ``guidepath.core`` and ``guidepath.relay`` (reports) only; never another
plugin.
"""
