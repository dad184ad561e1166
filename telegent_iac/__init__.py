"""telegent-iac: Telegent call-routing workgroups as code."""

__version__ = "0.1.0"
