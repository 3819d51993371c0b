"""``amzn_nova_forge_sdk``: the name the API specification's job-notification example imports.

An alias of :mod:`amzn_nova_forge`, exactly like ``amzn_nova_customization_sdk``.

Example:
    >>> import amzn_nova_forge, amzn_nova_forge_sdk
    >>> amzn_nova_forge_sdk is amzn_nova_forge
    True
"""

from __future__ import annotations

from amzn_nova_forge._alias import install_alias

install_alias(__name__)
