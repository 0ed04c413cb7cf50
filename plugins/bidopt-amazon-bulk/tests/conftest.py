"""bidopt's fixtures for plugin authors: bidopt_shop, bidopt_config, bidopt_context, bidopt_run."""

pytest_plugins = ["bidopt.testing"]
