"""Views of a Plan: text for people, JSON for machines, Markdown for pull requests."""
