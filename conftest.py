# The graders' pytest plugin: options (--backend, --submission, --grade-report, ...), fixtures, summary.
pytest_plugins = ["graders.plugin"]
