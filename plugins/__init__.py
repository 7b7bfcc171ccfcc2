"""guidepath's built-in plugins, one subpackage each, registered through the same
``guidepath.plugins`` entry-point group a partner uses. Plugins import
``guidepath.core`` (and ``guidepath.relay`` for tickets), never each other."""
