"""Local images and throwaway container stacks.

Submodules import the Docker SDK; this package itself imports nothing, so that the plugin
and the CLI stay fast when no container is involved.
"""
