"""Use cases: a plan, an apply, an import, an export, wired from the stages (values in, values
out; progress through callbacks). Never prints, never reads the environment."""
