"""Offline call-flow analysis on the Desired model: the call-flow graph, routing lints and
routing tests. Makes no request; see docs/routing.md for the routing model."""
