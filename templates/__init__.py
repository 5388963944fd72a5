"""Every text a person reads, as Jinja2 templates (a package so installs carry them)."""
