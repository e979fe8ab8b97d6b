"""The layers of the security middleware; each module's ``install(app, config)`` adds one."""
