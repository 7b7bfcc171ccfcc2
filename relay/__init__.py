"""The relay server, its wire protocol, tickets, the WebSocket bridge and recording
(issue 4). Imports ``guidepath.core`` only for config and crypto; never Flask."""
